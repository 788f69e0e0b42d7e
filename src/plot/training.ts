/**
 * Training curves: loss per iteration and, below it, the forward and backward function evaluations
 * per iteration (the Neural ODE paper's figure of NFE growing during training), and time per
 * iteration when it was recorded.
 */
import type { PlotSpec } from './render.ts';
import { finite, plotConfig, titleOf, type ConcatPart, type FrameOptions } from './theme.ts';

/** One logged training iteration. */
export interface TrainingRecord {
  readonly iteration: number;
  readonly loss: number;
  readonly nfeForward?: number;
  readonly nfeBackward?: number;
  readonly timeMs?: number;
}

/** Options for `trainingCurves`. */
export interface TrainingCurvesOptions extends FrameOptions {
  /** Log-scale loss axis. Default: true when every finite loss is positive. */
  readonly logLoss?: boolean;
  /**
   * Exponential smoothing weight in [0, 1) for a bold smoothed loss over the faint raw one
   * (TensorBoard-style, bias-corrected). Default 0: raw loss only.
   */
  readonly smoothing?: number;
  /** Axis title for the loss. Default 'loss'. */
  readonly lossTitle?: string;
  /** Draw the time-per-iteration panel. Default: when any record has `timeMs`. */
  readonly showTime?: boolean;
}

/** Bias-corrected exponential moving average. */
const smooth = (values: readonly number[], weight: number): number[] => {
  let acc = 0;
  let norm = 0;
  return values.map((v) => {
    acc = weight * acc + (1 - weight) * v;
    norm = weight * norm + (1 - weight);
    return acc / norm;
  });
};

const iterationAxis = { field: 'iteration', type: 'quantitative', title: 'iteration' } as const;

/** A panel title aligned with the plot area. */
const panelTitle = (text: string) => ({ text, fontSize: 13, fontWeight: 'normal', frame: 'group' }) as const;

/**
 * A Vega-Lite spec of training curves, stacked vertically with a shared iteration axis: loss
 * (log scale by default), NFE forward/backward (when logged), time per iteration (when logged).
 * Records with a non-finite loss, and non-positive losses on a log axis, are left out of the loss
 * panel; missing or non-finite NFE and times are left out of theirs.
 * @example
 * const spec = trainingCurves([{ iteration: 1, loss: 2.3, nfeForward: 26, nfeBackward: 38 },
 *   { iteration: 2, loss: 1.1, nfeForward: 32, nfeBackward: 44 }], { title: 'spiral' });
 * await writePlot('out', 'training', spec);
 */
export const trainingCurves = (log: readonly TrainingRecord[], opts: TrainingCurvesOptions = {}): PlotSpec => {
  const width = opts.width ?? 520;
  const height = opts.height ?? 220;
  const finiteLoss = log.filter((r) => finite(r.iteration) && finite(r.loss));
  const logLoss = opts.logLoss ?? (finiteLoss.length > 0 && finiteLoss.every((r) => r.loss > 0));
  const lossRecords = logLoss ? finiteLoss.filter((r) => r.loss > 0) : finiteLoss;
  const weight = Math.min(Math.max(opts.smoothing ?? 0, 0), 0.999);
  const smoothed = weight > 0 ? smooth(lossRecords.map((r) => r.loss), weight) : [];
  const lossTitle = opts.lossTitle ?? 'loss';

  const rawRows = lossRecords.map((r) => ({ iteration: r.iteration, loss: r.loss, curve: 'raw' }));
  const smoothRows = lossRecords.map((r, i) => ({ iteration: r.iteration, loss: smoothed[i] ?? r.loss, curve: `smoothed (${weight})` }));
  const lossRows = weight > 0 ? [...rawRows, ...smoothRows] : rawRows;
  const lossPanel: ConcatPart = {
    width,
    height,
    data: { values: lossRows },
    mark: { type: 'line', clip: true },
    encoding: {
      x: iterationAxis,
      y: {
        field: 'loss', type: 'quantitative', title: lossTitle,
        scale: logLoss ? { type: 'log' } : { zero: false },
      },
      ...(weight > 0
        ? {
          color: {
            field: 'curve', type: 'nominal', title: null,
            scale: { range: ['#a9c4e0', '#1f4e79'] }, legend: { orient: 'top-right' },
          },
        }
        : { color: { value: '#1f4e79' } }),
    },
  };

  const nfeRows = log.flatMap((r) => [
    ...(finite(r.iteration) && finite(r.nfeForward) ? [{ iteration: r.iteration, nfe: r.nfeForward, pass: 'forward' }] : []),
    ...(finite(r.iteration) && finite(r.nfeBackward) ? [{ iteration: r.iteration, nfe: r.nfeBackward, pass: 'backward' }] : []),
  ]);
  const nfePanel: ConcatPart = {
    title: panelTitle('function evaluations per iteration'),
    width,
    height,
    data: { values: nfeRows },
    mark: { type: 'line', clip: true },
    encoding: {
      x: iterationAxis,
      y: { field: 'nfe', type: 'quantitative', title: 'NFE', scale: { zero: true } },
      color: {
        field: 'pass', type: 'nominal', title: null, sort: ['forward', 'backward'],
        scale: { domain: ['forward', 'backward'], range: ['#4c78a8', '#e45756'] },
        legend: { orient: 'top-left' },
      },
    },
  };

  const timeRows = log.filter((r) => finite(r.iteration) && finite(r.timeMs)).map((r) => ({ iteration: r.iteration, timeMs: r.timeMs }));
  const showTime = opts.showTime ?? timeRows.length > 0;
  const timePanel: ConcatPart = {
    title: panelTitle('time per iteration'),
    width,
    height: Math.round(height * 0.7),
    data: { values: timeRows },
    mark: { type: 'line', clip: true, color: '#54a24b' },
    encoding: {
      x: iterationAxis,
      y: { field: 'timeMs', type: 'quantitative', title: 'ms', scale: { zero: true } },
    },
  };

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...titleOf(opts),
    config: plotConfig,
    vconcat: [lossPanel, ...(nfeRows.length > 0 ? [nfePanel] : []), ...(showTime ? [timePanel] : [])],
    resolve: { scale: { x: 'shared', color: 'independent' } },
  };
};
