/**
 * Fluxion's plots: pure data in, Vega-Lite specs out; `renderVegaLite` / `writePlot` turn a spec
 * into SVG and PNG headless (Vega + resvg). No dependency on the rest of Fluxion.
 * @example
 * import { trainingCurves, writePlot, formatPlotError } from './plot/index.ts';
 * const r = await writePlot('out', 'training', trainingCurves(log, { title: 'spiral' }));
 * if (E.isLeft(r)) console.error(formatPlotError(r.left));
 */
export { formatPlotError, type PlotError } from './errors.ts';
export { renderVegaLite, writePlot, type PlotSpec, type RenderOptions, type RenderedPlot, type WrittenPlot } from './render.ts';
export { systemFontFamilies, textRenders } from './fonts.ts';
export { trainingCurves, type TrainingRecord, type TrainingCurvesOptions } from './training.ts';
export {
  phasePortrait, timeSeries,
  type PhasePortraitInput, type TimeSeriesInput, type TimedTrajectory, type Trajectory, type VectorField,
} from './phase.ts';
export {
  densityHeatmap, samplesOverTime, scatter,
  type DensityHeatmapInput, type SampleFrame, type SamplesOverTimeInput, type ScatterInput,
} from './density.ts';
export { lineChart, type LineChartInput, type LineSeries, type XRegion } from './line.ts';
export { decodePng, inkStats, type DecodedPng, type InkStats } from './png.ts';
export type { FrameOptions, GridValues, Point2 } from './theme.ts';
