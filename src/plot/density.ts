/**
 * Plots for continuous normalizing flows: a density on a grid as a heatmap, a cloud of samples as
 * a scatter plot, and samples at several times as a grid of scatter plots with shared axes.
 */
import type { ColorScheme } from 'vega';
import type { PlotSpec } from './render.ts';
import {
  equalAspect, extent, finite, gridAt, padded, palette, plotConfig, titleOf,
  type FrameOptions, type GridValues, type Point2,
} from './theme.ts';

/** Input of `densityHeatmap`. */
export interface DensityHeatmapInput extends FrameOptions {
  /** Cell centres along x and y, each monotone. */
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  /** `values` at `(xs[i], ys[j])`, flat row-major or nested by row (see `GridValues`). */
  readonly values: GridValues;
  /** Legend title. Default 'density'. */
  readonly colorTitle?: string;
  /** Vega colour scheme. Default 'viridis'. */
  readonly scheme?: ColorScheme;
  /** Larger grids are block-averaged down to at most this many cells per axis. Default 128. */
  readonly maxCells?: number;
  readonly xTitle?: string;
  readonly yTitle?: string;
}

/** Cell boundaries around monotone centres: midpoints, and half a spacing beyond the ends. */
const edges = (centres: readonly number[]): number[] => {
  const n = centres.length;
  if (n === 1) return [(centres[0] ?? 0) - 0.5, (centres[0] ?? 0) + 0.5];
  const at = (i: number): number => centres[i] ?? NaN;
  return Array.from({ length: n + 1 }, (_, k) =>
    k === 0 ? at(0) - (at(1) - at(0)) / 2 : k === n ? at(n - 1) + (at(n - 1) - at(n - 2)) / 2 : (at(k - 1) + at(k)) / 2);
};

/** Groups of consecutive indices, at most `max` groups. */
const blocks = (n: number, max: number): number[][] => {
  const size = Math.max(1, Math.ceil(n / Math.max(1, max)));
  return Array.from({ length: Math.ceil(n / size) }, (_, b) =>
    Array.from({ length: Math.min(size, n - b * size) }, (_, k) => b * size + k));
};

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * A heatmap of values on a grid (cells drawn as rectangles, equal axis scales). Missing or
 * non-finite cells are left blank. Grids above `maxCells` per axis are block-averaged.
 * @example
 * const xs = [-1, 0, 1], ys = [-1, 0, 1];
 * const values = ys.map((y) => xs.map((x) => Math.exp(-(x * x + y * y))));
 * const spec = densityHeatmap({ xs, ys, values, title: 'p(x)' });
 */
export const densityHeatmap = (input: DensityHeatmapInput): PlotSpec => {
  const nx = input.xs.length;
  const xe = edges(input.xs);
  const ye = edges(input.ys);
  const max = input.maxCells ?? 128;
  const xd = extent(xe) ?? [0, 1];
  const yd = extent(ye) ?? [0, 1];
  const { width, height } = equalAspect(xd, yd, Math.max(input.width ?? 0, input.height ?? 0) || 380);
  // Each cell overlaps its neighbour by 0.7 px: anti-aliased edges of abutting rects show seams.
  const overlapX = (0.7 * (xd[1] - xd[0])) / width;
  const overlapY = (0.7 * (yd[1] - yd[0])) / height;
  const rows = blocks(input.ys.length, max).flatMap((js) => blocks(nx, max).flatMap((is) => {
    const vals = js.flatMap((j) => is.map((i) => gridAt(input.values, i, j, nx))).filter(finite);
    const x0 = xe[is[0] ?? 0] ?? NaN, x1 = xe[(is[is.length - 1] ?? 0) + 1] ?? NaN;
    const y0 = ye[js[0] ?? 0] ?? NaN, y1 = ye[(js[js.length - 1] ?? 0) + 1] ?? NaN;
    const sx = Math.sign(x1 - x0), sy = Math.sign(y1 - y0);
    return vals.length === 0 ? [] : [{ x: x0, x2: x1 + sx * overlapX, y: y0, y2: y1 + sy * overlapY, value: mean(vals) }];
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...titleOf(input),
    config: { ...plotConfig, axis: { ...plotConfig.axis, grid: false } },
    width,
    height,
    data: { values: rows },
    mark: { type: 'rect', strokeWidth: 0, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: input.xTitle ?? 'x', scale: { domain: [...xd], nice: false, zero: false } },
      x2: { field: 'x2' },
      y: { field: 'y', type: 'quantitative', title: input.yTitle ?? 'y', scale: { domain: [...yd], nice: false, zero: false } },
      y2: { field: 'y2' },
      color: {
        field: 'value', type: 'quantitative', title: input.colorTitle ?? 'density',
        scale: { scheme: input.scheme ?? 'viridis' }, legend: { gradientLength: Math.min(height, 200) },
      },
    },
  };
};

/** Input of `scatter`. */
export interface ScatterInput extends FrameOptions {
  readonly points: readonly Point2[];
  /** Per-point colour: numbers use a continuous scale (viridis), strings categories. */
  readonly color?: readonly number[] | readonly string[];
  readonly colorTitle?: string;
  /** Symbol area in px². Default 14. */
  readonly pointSize?: number;
  /** Default 0.6 (dense clouds show their density). */
  readonly opacity?: number;
  /** Equal scales on both axes. Default true. */
  readonly equalAspect?: boolean;
  readonly xTitle?: string;
  readonly yTitle?: string;
}

type Row = { x: number; y: number; c?: number | string };

const pointRows = (points: readonly Point2[], color?: readonly (number | string)[]): Row[] =>
  points.flatMap((p, k) => {
    const c = color?.[k];
    return finite(p[0]) && finite(p[1]) ? [{ x: p[0], y: p[1], ...(c === undefined ? {} : { c }) }] : [];
  });

const colorEncoding = (color: readonly (number | string)[] | undefined, title: string | undefined) => {
  if (color === undefined || color.length === 0) return { color: { value: palette[0] ?? '#4c78a8' } } as const;
  return typeof color[0] === 'number'
    ? { color: { field: 'c', type: 'quantitative', title: title ?? 'value', scale: { scheme: 'viridis' } } } as const
    : { color: { field: 'c', type: 'nominal', title: title ?? 'class', scale: { range: [...palette] } } } as const;
};

const domains = (rows: readonly Row[]) => {
  const xd = padded(extent(rows.map((r) => r.x)) ?? [-1, 1], 0.05);
  const yd = padded(extent(rows.map((r) => r.y)) ?? [-1, 1], 0.05);
  return { xd, yd };
};

/**
 * A scatter plot of 2-D points, optionally coloured by a value or a class. Points with a
 * non-finite coordinate are skipped.
 * @example
 * const spec = scatter({ title: 'samples', points: [[0, 1], [1, 0.5], [-0.5, -1]], color: [0.1, 0.5, 0.9] });
 */
export const scatter = (input: ScatterInput): PlotSpec => {
  const rows = pointRows(input.points, input.color);
  const { xd, yd } = domains(rows);
  const size = Math.max(input.width ?? 0, input.height ?? 0) || 380;
  const dims = input.equalAspect === false
    ? { width: input.width ?? 420, height: input.height ?? 320 }
    : equalAspect(xd, yd, size);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...titleOf(input),
    config: plotConfig,
    ...dims,
    data: { values: rows },
    mark: { type: 'circle', size: input.pointSize ?? 14, opacity: input.opacity ?? 0.6, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: input.xTitle ?? 'x', scale: { domain: xd, nice: false, zero: false } },
      y: { field: 'y', type: 'quantitative', title: input.yTitle ?? 'y', scale: { domain: yd, nice: false, zero: false } },
      ...colorEncoding(input.color, input.colorTitle),
    },
  };
};

/** Samples at one time. */
export interface SampleFrame {
  readonly t: number;
  readonly points: readonly Point2[];
}

/** Input of `samplesOverTime`. */
export interface SamplesOverTimeInput extends FrameOptions {
  readonly frames: readonly SampleFrame[];
  /** Panels per row. Default min(frames, 4). */
  readonly columns?: number;
  /** Symbol area in px². Default 8. */
  readonly pointSize?: number;
  readonly opacity?: number;
}

const timeLabel = (t: number): string => `t = ${Number(t.toPrecision(3))}`;

/**
 * A grid of scatter plots, one per time, with shared axes (how a flow moves samples from the base
 * distribution to the data). `width`/`height` are per panel.
 * @example
 * const spec = samplesOverTime({ title: 'CNF samples', frames: [
 *   { t: 0, points: [[0, 0], [1, 1]] }, { t: 1, points: [[0.5, 0], [1.5, 1]] }] });
 */
export const samplesOverTime = (input: SamplesOverTimeInput): PlotSpec => {
  const frames = [...input.frames].sort((a, b) => a.t - b.t);
  const labels = frames.map((f) => timeLabel(f.t));
  const rows = frames.flatMap((f, i) => pointRows(f.points).map((r) => ({ ...r, frame: labels[i] ?? '' })));
  const { xd, yd } = domains(rows);
  const { width, height } = equalAspect(xd, yd, Math.max(input.width ?? 0, input.height ?? 0) || 180);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...titleOf(input),
    config: plotConfig,
    data: { values: rows },
    columns: input.columns ?? Math.min(frames.length, 4),
    facet: { field: 'frame', type: 'ordinal', sort: labels, title: null, header: { labelFontSize: 12, labelPadding: 4 } },
    spec: {
      width,
      height,
      mark: { type: 'circle', size: input.pointSize ?? 8, opacity: input.opacity ?? 0.55, color: palette[0] ?? '#4c78a8', clip: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'x', scale: { domain: xd, nice: false, zero: false } },
        y: { field: 'y', type: 'quantitative', title: 'y', scale: { domain: yd, nice: false, zero: false } },
      },
    },
  };
};
