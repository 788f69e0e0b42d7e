/**
 * Phase portraits of 2-D dynamics (a learned vector field as small arrows, with the true and the
 * predicted trajectories over it) and state-versus-time plots, as in torchdiffeq's ode_demo.
 */
import type { PlotSpec } from './render.ts';
import {
  equalAspect, extent, finite, gridAt, padded, plotConfig, seriesColors, seriesDashes, titleOf,
  type FrameOptions, type GridValues, type LayerPart, type Point2,
} from './theme.ts';

/** A vector field sampled on a grid: `(u, v)` at `(xs[i], ys[j])` (see `GridValues` for layout). */
export interface VectorField {
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  readonly u: GridValues;
  readonly v: GridValues;
}

/** A named path through the plane, in order. 'true' is drawn solid dark, 'predicted' dashed orange. */
export interface Trajectory {
  readonly name: string;
  readonly points: readonly Point2[];
}

/** Input of `phasePortrait`. */
export interface PhasePortraitInput extends FrameOptions {
  readonly field?: VectorField;
  readonly trajectories?: readonly Trajectory[];
  /** 'scaled': arrow length ∝ speed (default); 'unit': direction only, colour still shows speed. */
  readonly arrows?: 'scaled' | 'unit';
  readonly xTitle?: string;
  readonly yTitle?: string;
}

const arrowRows = (f: VectorField, sx: number, sy: number, mode: 'scaled' | 'unit') => {
  const nx = f.xs.length;
  const cells: { x: number; y: number; u: number; v: number; speed: number }[] = [];
  f.ys.forEach((y, j) => f.xs.forEach((x, i) => {
    const u = gridAt(f.u, i, j, nx);
    const v = gridAt(f.v, i, j, nx);
    if (finite(u) && finite(v) && finite(x) && finite(y)) cells.push({ x, y, u, v, speed: Math.hypot(u, v) });
  }));
  const xe = extent(f.xs) ?? [0, 1];
  const ye = extent(f.ys) ?? [0, 1];
  const cellPx = Math.min(((xe[1] - xe[0]) / Math.max(nx - 1, 1)) * sx, ((ye[1] - ye[0]) / Math.max(f.ys.length - 1, 1)) * sy);
  const maxSpeed = Math.max(...cells.map((c) => c.speed), 0);
  return cells.map((c) => {
    const px = c.u * sx;
    const py = c.v * sy;
    const norm = Math.hypot(px, py);
    const length = 0.85 * cellPx * (mode === 'unit' || maxSpeed === 0 ? (c.speed > 0 ? 1 : 0) : c.speed / maxSpeed);
    const ux = norm > 0 ? px / norm : 0;
    const uy = norm > 0 ? py / norm : 0;
    const dx = (length * ux) / sx / 2;
    const dy = (length * uy) / sy / 2;
    return {
      x: c.x - dx, y: c.y - dy, x2: c.x + dx, y2: c.y + dy, speed: c.speed, headSpeed: c.speed,
      angle: (Math.atan2(ux, uy) * 180) / Math.PI,
      head: Math.min(Math.max(0.3 * length, 2.5), 7) ** 2,
    };
  });
};

/**
 * A phase portrait: the vector field as arrows coloured by speed, trajectories as lines (start
 * marked by a dot) with a legend; axes have (nearly) equal scales. Non-finite values are skipped.
 * @example
 * const xs = [-2, -1, 0, 1, 2], ys = xs;
 * const u = ys.map((y) => xs.map(() => y)), v = ys.map((y) => xs.map((x) => -x));
 * const spec = phasePortrait({ title: 'harmonic oscillator', field: { xs, ys, u, v },
 *   trajectories: [{ name: 'true', points: [[1, 0], [0.7, -0.7], [0, -1]] }] });
 */
export const phasePortrait = (input: PhasePortraitInput): PlotSpec => {
  const trajectories = input.trajectories ?? [];
  const f = input.field;
  const xsAll = [...(f?.xs ?? []), ...trajectories.flatMap((t) => t.points.map((p) => p[0] ?? NaN))];
  const ysAll = [...(f?.ys ?? []), ...trajectories.flatMap((t) => t.points.map((p) => p[1] ?? NaN))];
  const xd = padded(extent(xsAll) ?? [-1, 1], 0.04);
  const yd = padded(extent(ysAll) ?? [-1, 1], 0.04);
  const size = Math.max(input.width ?? 0, input.height ?? 0) || 420;
  const { width, height } = equalAspect(xd, yd, size);
  const sx = width / (xd[1] - xd[0]);
  const sy = height / (yd[1] - yd[0]);

  const x = { type: 'quantitative', scale: { domain: xd, nice: false, zero: false }, title: input.xTitle ?? 'x' } as const;
  const y = { type: 'quantitative', scale: { domain: yd, nice: false, zero: false }, title: input.yTitle ?? 'y' } as const;
  const arrows = f === undefined ? [] : arrowRows(f, sx, sy, input.arrows ?? 'scaled');
  const maxSpeed = Math.max(...arrows.map((a) => a.speed), 1e-300);
  const speedColor = {
    field: 'speed', type: 'quantitative', title: 'speed',
    scale: { domain: [0, maxSpeed], range: ['#c6d4e1', '#2f5f8a'] },
    legend: { type: 'gradient', gradientLength: 120 },
  } as const;
  const fieldLayers: LayerPart[] = arrows.length === 0 ? [] : [{
    data: { values: arrows },
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 1.3, clip: true },
        encoding: { x: { ...x, field: 'x' }, y: { ...y, field: 'y' }, x2: { field: 'x2' }, y2: { field: 'y2' }, stroke: speedColor },
      },
      {
        mark: { type: 'point', shape: 'triangle-up', filled: true, opacity: 1, strokeWidth: 0, clip: true },
        encoding: {
          x: { ...x, field: 'x2' }, y: { ...y, field: 'y2' },
          angle: { field: 'angle', type: 'quantitative', scale: null },
          size: { field: 'head', type: 'quantitative', scale: null },
          // Same colours from a copy of the field with a data-driven domain: an identical domain
          // would make Vega-Lite merge fill into the stroke legend and turn it into circles.
          fill: {
            field: 'headSpeed', type: 'quantitative', legend: null,
            scale: { zero: true, range: [...speedColor.scale.range] },
          },
        },
      },
    ],
  }];

  const names = trajectories.map((t) => t.name);
  const rows = trajectories.flatMap((t) => t.points.flatMap((p, k) =>
    finite(p[0]) && finite(p[1]) ? [{ name: t.name, k, x: p[0], y: p[1] }] : []));
  const starts = trajectories.flatMap((t) => {
    const p = t.points.find((q) => finite(q[0]) && finite(q[1]));
    return p === undefined ? [] : [{ name: t.name, x: p[0], y: p[1] }];
  });
  const colors = seriesColors(names);
  const color = {
    field: 'name', type: 'nominal', title: 'trajectory', sort: names,
    scale: { domain: names, range: colors },
    legend: { symbolType: 'stroke', symbolStrokeWidth: 2.5 },
  } as const;
  const trajectoryLayers: LayerPart[] = rows.length === 0 ? [] : [
    {
      data: { values: rows },
      mark: { type: 'line', strokeWidth: 2.2, clip: true },
      encoding: {
        x: { ...x, field: 'x' }, y: { ...y, field: 'y' }, order: { field: 'k', type: 'quantitative' }, color,
        strokeDash: { field: 'name', type: 'nominal', title: 'trajectory', sort: names, scale: { domain: names, range: seriesDashes(names) } },
      },
    },
    // One layer per start dot with a constant colour, so the legend stays a line legend.
    ...starts.map((p): LayerPart => ({
      data: { values: [p] },
      mark: { type: 'point', filled: true, size: 45, opacity: 1, clip: true, color: colors[names.indexOf(p.name)] ?? '#333333' },
      encoding: { x: { ...x, field: 'x' }, y: { ...y, field: 'y' } },
    })),
  ];

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...titleOf(input),
    config: plotConfig,
    width,
    height,
    layer: [
      ...fieldLayers,
      ...trajectoryLayers,
      // An empty layer, so a portrait with no data still draws its axes.
      ...(fieldLayers.length + trajectoryLayers.length === 0
        ? [{ data: { values: [] }, mark: 'point', encoding: { x: { ...x, field: 'x' }, y: { ...y, field: 'y' } } } satisfies LayerPart]
        : []),
    ],
  };
};

/** A named trajectory with its observation times. */
export interface TimedTrajectory {
  readonly name: string;
  readonly times: readonly number[];
  readonly points: readonly Point2[];
}

/** Input of `timeSeries`. */
export interface TimeSeriesInput extends FrameOptions {
  readonly trajectories: readonly TimedTrajectory[];
  /** Names of the state components. Default x, y, z for up to 3, else z1, z2, … */
  readonly components?: readonly string[];
  readonly xTitle?: string;
  readonly yTitle?: string;
}

const defaultComponents = (dim: number): string[] =>
  dim <= 3 ? ['x', 'y', 'z'].slice(0, dim) : Array.from({ length: dim }, (_, i) => `z${i + 1}`);

/**
 * Each state component against time, one colour per component, one dash per trajectory (true
 * solid, the others dashed). Non-finite values are skipped.
 * @example
 * const times = [0, 0.5, 1];
 * const spec = timeSeries({ title: 'spiral', trajectories: [
 *   { name: 'true', times, points: [[2, 0], [1.5, 1], [0.5, 1.4]] },
 *   { name: 'predicted', times, points: [[2, 0], [1.4, 1.1], [0.6, 1.3]] }] });
 */
export const timeSeries = (input: TimeSeriesInput): PlotSpec => {
  const dim = Math.max(0, ...input.trajectories.flatMap((t) => t.points.map((p) => p.length)));
  const components = input.components ?? defaultComponents(dim);
  const names = input.trajectories.map((t) => t.name);
  const rows = input.trajectories.flatMap((tr) => tr.points.flatMap((p, k) => {
    const t = tr.times[k];
    return components.flatMap((component, c) => {
      const value = p[c];
      return finite(t) && finite(value) ? [{ t, value, component, name: tr.name }] : [];
    });
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...titleOf(input),
    config: plotConfig,
    width: input.width ?? 520,
    height: input.height ?? 260,
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 2, clip: true },
    encoding: {
      x: { field: 't', type: 'quantitative', title: input.xTitle ?? 't', scale: { nice: false, zero: false } },
      y: { field: 'value', type: 'quantitative', title: input.yTitle ?? 'state', scale: { zero: false } },
      color: { field: 'component', type: 'nominal', title: 'component', sort: [...components], scale: { domain: [...components] } },
      strokeDash: { field: 'name', type: 'nominal', title: 'trajectory', sort: names, scale: { domain: names, range: seriesDashes(names) } },
    },
  };
};
