/**
 * Continuous normalizing flows: the augmented dynamics `[dz/dt, dΔlogp/dt] = [f, −tr(∂f/∂z)]`
 * as expressions (exact, closed-form or Hutchinson trace), a solver-ready packed field, and
 * batched densities and samples (FFJORD's convention: data at `t0`, base `N(0, I)` at `t1`).
 * @example
 * const flow = cnf(dyn, { trace: 'exact' });
 * const r = logDensity(compileCnf(flow), values, x, { solver: { method: dopri5 } });
 */
export { checkField, exactTrace, hutchinsonTrace, type Rows } from './trace.ts';
export { oneHiddenLayerTrace } from './closedForm.ts';
export {
  cnf, makeCnf, type Cnf, type CnfOptions, type NoiseKind, type Probe, type TraceKind, type TraceMethod,
} from './cnf.ts';
export { cnfField, compileCnf, drawNoise, type CnfField, type CompiledCnf, type Evaluator } from './field.ts';
export {
  formatFlowError, fromBase, logDensity, sample, standardNormalLogPdf,
  type DensityResult, type FlowError, type FlowOptions, type FlowSolverOptions, type SampleResult,
} from './density.ts';
export {
  cnfNllLoss, formatTrainCnfError, solveErrorOf, trainCnf,
  type CnfIterationLog, type DataSource, type TrainCnfError, type TrainCnfOptions, type TrainCnfResult,
} from './train.ts';
