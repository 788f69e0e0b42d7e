/**
 * The shared look of Fluxion's plots (one Vega-Lite config) and small helpers used by every
 * spec builder: frame options, finite filtering, extents, grid access, series colours.
 */
import type { Config } from 'vega-lite';
import type { LayerSpec, NonNormalizedSpec, UnitSpec } from 'vega-lite/types_unstable/spec/index.js';
import type { Field } from 'vega-lite/types_unstable/channeldef.js';

/** Options every plot takes. */
export interface FrameOptions {
  readonly title?: string;
  readonly subtitle?: string;
  /** Width of one plot area in CSS pixels (axes, legend and title come on top). */
  readonly width?: number;
  /** Height of one plot area in CSS pixels. */
  readonly height?: number;
}

/** Vega's Tableau-10 palette, in order. */
export const palette: readonly string[] = [
  '#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#ff9da6', '#9d755d', '#bab0ac',
];

/** Fixed colours for the usual trajectory names, so "true" and "predicted" look the same everywhere. */
const namedColors: Readonly<Record<string, string>> = { true: '#333333', predicted: '#f58518', observed: '#333333' };

/**
 * A colour per name: known names keep their colour, the others take palette colours in order.
 * @example seriesColors(['true', 'predicted', 'fit 2']) // ['#333333', '#f58518', '#4c78a8']
 */
export const seriesColors = (names: readonly string[]): string[] => {
  let next = 0;
  return names.map((n) => namedColors[n] ?? palette[next++ % palette.length] ?? '#4c78a8');
};

const dashPatterns: readonly number[][] = [[7, 4], [2, 3], [10, 3, 2, 3], [4, 4]];

/**
 * A dash pattern per name: 'true' and 'observed' solid, the others dashed, each differently.
 * @example seriesDashes(['true', 'predicted']) // [[1, 0], [7, 4]]
 */
export const seriesDashes = (names: readonly string[]): number[][] => {
  let next = 0;
  return names.map((n) => (n === 'true' || n === 'observed' ? [1, 0] : [...(dashPatterns[next++ % dashPatterns.length] ?? [7, 4])]));
};

/** The config shared by all plots: readable sizes, light grid, no heavy frame. */
export const plotConfig: Config = {
  font: 'sans-serif',
  // No per-mark ARIA labels: they triple the SVG size of dense plots (heatmaps, scatter clouds).
  aria: false,
  background: 'white',
  padding: 8,
  title: { fontSize: 15, fontWeight: 'bold', anchor: 'start', offset: 10, subtitleFontSize: 12, subtitleColor: '#555555' },
  axis: {
    labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', titleColor: '#333333',
    labelColor: '#444444', gridColor: '#ebebeb', domainColor: '#888888', tickColor: '#888888', titlePadding: 8,
  },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', symbolStrokeWidth: 2.5, labelLimit: 220 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: '#d0d0d0' },
  line: { strokeWidth: 2 },
  concat: { spacing: 24 },
};

/** The `title` property of a spec, or nothing. @example titleOf({ title: 'Loss' }) // { title: { text: 'Loss' } } */
export const titleOf = (o: FrameOptions): { title?: { text: string; subtitle?: string } } =>
  o.title === undefined ? {} : { title: { text: o.title, ...(o.subtitle === undefined ? {} : { subtitle: o.subtitle }) } };

/** `Number.isFinite` as a predicate for possibly-missing numbers. @example [1, NaN, undefined].filter(finite) // [1] */
export const finite = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);

/** [min, max] of the finite values, or undefined when there are none. @example extent([3, NaN, -1]) // [-1, 3] */
export const extent = (values: Iterable<number>): readonly [number, number] | undefined => {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : undefined;
};

/**
 * An extent widened by `fraction` of its span on both sides (a single point gets a span too).
 * @example padded([0, 10], 0.05) // [-0.5, 10.5]
 */
export const padded = ([lo, hi]: readonly [number, number], fraction: number): [number, number] => {
  const span = hi - lo;
  const pad = span > 0 ? span * fraction : Math.max(Math.abs(lo), 1) * 0.5;
  return [lo - pad, hi + pad];
};

/**
 * Values on a grid of `nx × ny` cells, either flat row-major (`values[j * nx + i]`, x fastest) or
 * nested by row (`values[j][i]`), where `i` indexes xs and `j` indexes ys.
 */
export type GridValues = ArrayLike<number> | readonly ArrayLike<number>[];

/**
 * The value at column `i`, row `j`; undefined when missing (short or ragged input).
 * @example gridAt([[1, 2], [3, 4]], 1, 0, 2) // 2
 */
export const gridAt = (g: GridValues, i: number, j: number, nx: number): number | undefined => {
  const first = g[0];
  if (typeof first === 'number') {
    return i < nx ? (g as ArrayLike<number>)[j * nx + i] : undefined;
  }
  const row = (g as readonly ArrayLike<number>[])[j];
  return row === undefined ? undefined : row[i];
};

/** A point as any array-like with at least two coordinates. */
export type Point2 = ArrayLike<number>;

/** A view inside a layer (a unit or a nested layer). */
export type LayerPart = LayerSpec<Field> | UnitSpec<Field>;

/** A view inside a concatenation. */
export type ConcatPart = NonNormalizedSpec;

/**
 * Plot-area size with (nearly) equal data scales on both axes: the longer side is `size`, the
 * aspect ratio follows the domains, clamped to [1/2, 2] so extreme domains stay readable.
 * @example equalAspect([0, 2], [0, 1], 400) // { width: 400, height: 200 }
 */
export const equalAspect = (
  xd: readonly [number, number], yd: readonly [number, number], size: number,
): { width: number; height: number } => {
  const ratio = Math.min(Math.max((yd[1] - yd[0]) / (xd[1] - xd[0]), 0.5), 2);
  return ratio <= 1 ? { width: size, height: Math.round(size * ratio) } : { width: Math.round(size / ratio), height: size };
};
