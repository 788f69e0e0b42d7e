/**
 * A generic chart of named series against a shared x axis: lines, dots, or both, with shaded
 * regions (e.g. the extrapolation interval of a latent ODE, or observed vs held-out times).
 */
import type { PlotSpec } from './render.ts';
import { finite, plotConfig, seriesColors, titleOf, type FrameOptions, type LayerPart } from './theme.ts';

/** One named series. */
export interface LineSeries {
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** 'line' (default), 'points' (e.g. observations) or 'line+points'. */
  readonly style?: 'line' | 'points' | 'line+points';
  /** CSS colour; default: fixed colours for true/predicted/observed, palette otherwise. */
  readonly color?: string;
  /** Dashed line. Default: true when the name contains "pred". */
  readonly dashed?: boolean;
}

/** A shaded interval of x, labelled at its top. */
export interface XRegion {
  readonly from: number;
  readonly to: number;
  readonly label?: string;
}

/** Input of `lineChart`. */
export interface LineChartInput extends FrameOptions {
  readonly series: readonly LineSeries[];
  readonly regions?: readonly XRegion[];
  readonly xTitle?: string;
  readonly yTitle?: string;
  /** Default 'linear'. On 'log', points with y ≤ 0 are left out. */
  readonly yScale?: 'linear' | 'log';
  /** Legend title. Default none. */
  readonly legendTitle?: string;
}

const hasLine = (s: LineSeries): boolean => (s.style ?? 'line') !== 'points';
const hasPoints = (s: LineSeries): boolean => (s.style ?? 'line') !== 'line';

/**
 * Named series as lines and/or dots, with optional shaded x regions and a legend. Non-finite
 * points are skipped (a line continues across the gap).
 * @example
 * const t = [0, 1, 2, 3, 4, 5];
 * const spec = lineChart({ title: 'latent ODE', xTitle: 't', series: [
 *   { name: 'observed', x: t.slice(0, 4), y: [0, 0.8, 0.9, 0.1], style: 'points' },
 *   { name: 'predicted', x: t, y: [0, 0.84, 0.91, 0.14, -0.76, -0.96] }],
 *   regions: [{ from: 3, to: 5, label: 'extrapolation' }] });
 */
export const lineChart = (input: LineChartInput): PlotSpec => {
  const log = input.yScale === 'log';
  const names = input.series.map((s) => s.name);
  const defaults = seriesColors(names);
  const colors = input.series.map((s, i) => s.color ?? defaults[i] ?? '#4c78a8');
  const rows = (keep: (s: LineSeries) => boolean) => input.series.filter(keep).flatMap((s) =>
    s.x.flatMap((x, k) => {
      const y = s.y[k];
      return finite(x) && finite(y) && (!log || y > 0) ? [{ name: s.name, k, x, y }] : [];
    }));
  const x = { field: 'x', type: 'quantitative', title: input.xTitle ?? 'x', scale: { zero: false, nice: false } } as const;
  const y = { field: 'y', type: 'quantitative', title: input.yTitle ?? 'y', scale: log ? { type: 'log' as const } : { zero: false } } as const;
  // Colour, dash and shape share the field and domain, so Vega-Lite merges them into one legend
  // whose entries look like their series: a (dashed) line, or a dot for point-only series.
  const dashes = input.series.map((s) => (hasLine(s) && (s.dashed ?? /pred/i.test(s.name)) ? [6, 4] : [1, 0]));
  const shapes = input.series.map((s) => (hasLine(s) ? 'stroke' : 'circle'));
  const common = { field: 'name', type: 'nominal', title: input.legendTitle ?? null, sort: names } as const;
  const color = { ...common, scale: { domain: names, range: colors }, legend: { symbolStrokeWidth: 2.5 } } as const;

  const regionLayers: LayerPart[] = (input.regions ?? []).flatMap((r): LayerPart[] => [
    {
      data: { values: [{ from: r.from, to: r.to }] },
      mark: { type: 'rect', color: '#9aa5b1', opacity: 0.16, clip: true },
      encoding: { x: { ...x, field: 'from' }, x2: { field: 'to' } },
    },
    ...(r.label === undefined ? [] : [{
      data: { values: [{ at: r.from, label: r.label }] },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 5, dy: 5, color: '#555555', fontSize: 11, fontStyle: 'italic' },
      encoding: { x: { ...x, field: 'at' }, y: { value: 0 }, text: { field: 'label', type: 'nominal' } },
    } satisfies LayerPart]),
  ]);
  const lineRows = rows(hasLine);
  const pointRows = rows(hasPoints);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...titleOf(input),
    config: plotConfig,
    width: input.width ?? 520,
    height: input.height ?? 280,
    layer: [
      ...regionLayers,
      ...(lineRows.length === 0 ? [] : [{
        data: { values: lineRows },
        mark: { type: 'line', strokeWidth: 2, clip: true },
        encoding: {
          x, y, color, order: { field: 'k', type: 'quantitative' },
          strokeDash: { ...common, scale: { domain: names, range: dashes } },
        },
      } satisfies LayerPart]),
      ...(pointRows.length === 0 ? [] : [{
        data: { values: pointRows },
        mark: { type: 'point', filled: true, size: 36, opacity: 0.9, clip: true },
        encoding: { x, y, color, shape: { ...common, scale: { domain: names, range: shapes } } },
      } satisfies LayerPart]),
      // An empty layer, so a chart with no data still draws its axes.
      ...(lineRows.length + pointRows.length === 0 ? [{ data: { values: [] }, mark: 'point', encoding: { x, y } } satisfies LayerPart] : []),
    ],
  };
};
