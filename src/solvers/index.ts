/**
 * Fluxion's ODE solver layer: vector spaces (Float64 batches, tfjs tensors, products), Butcher
 * and Rosenbrock tableaus as data, one generic explicit RK step, step-size control, dense output,
 * events, and `integrate` returning `Either<SolveError, Solution>`.
 */
export type { BatchedSpace, Coef, Tolerance, VectorSpace } from './vectorSpace.ts';
export { isBatchedSpace } from './vectorSpace.ts';
export type { F64Batch } from './f64Space.ts';
export { f64Batch, f64FromRows, f64Row, f64Space } from './f64Space.ts';
export { tfjsSpace } from './tfjsSpace.ts';
export type { SpacesOf } from './product.ts';
export { product } from './product.ts';
export type { ButcherTableau, DenseSpec, ErrorEstimator, TableauSpec } from './tableau.ts';
export { tableau, validateTableau } from './tableau.ts';
export type { RosenbrockTableau } from './rosenbrockTableau.ts';
export { rosenbrockTableau, validateRosenbrock } from './rosenbrockTableau.ts';
export type { ExplicitMethod, Method, RosenbrockMethod } from './method.ts';
export { explicit, isAdaptive } from './method.ts';
export type { MethodName } from './methods.ts';
export { methodByName, methods } from './methods.ts';
export { euler } from './tableaus/euler.ts';
export { midpoint } from './tableaus/midpoint.ts';
export { heun } from './tableaus/heun.ts';
export { rk4 } from './tableaus/rk4.ts';
export { bosh3 } from './tableaus/bosh3.ts';
export { fehlberg45 } from './tableaus/fehlberg45.ts';
export { dopri5 } from './tableaus/dopri5.ts';
export { tsit5 } from './tableaus/tsit5.ts';
export { dopri8 } from './tableaus/dopri8.ts';
export { rodas4 } from './tableaus/rodas4.ts';
export type { RkStepResult, StageContext } from './rkStep.ts';
export { rkStep } from './rkStep.ts';
export type { ControllerState, PIParams, StepController } from './controller.ts';
export { defaultController, piController } from './controller.ts';
export type { ErrorNorm } from './norms.ts';
export { customNorm, maxNorm, rmsNorm, weightedNorm } from './norms.ts';
export type { DenseStep } from './denseOutput.ts';
export type { EventDirection, EventHit, EventSpec } from './events.ts';
export { illinois } from './events.ts';
export type { JacobianFn, TimeDerivativeFn } from './jacobian.ts';
export { finiteDifferenceJacobian } from './jacobian.ts';
export type { LU } from './lu.ts';
export { luFactor, luSolveInto } from './lu.ts';
export type { SolveError } from './errors.ts';
export { formatSolveError } from './errors.ts';
export type { Solution, SolveStats } from './solution.ts';
export type { Dynamics, IntegrateOptions } from './integrate.ts';
export { integrate } from './integrate.ts';
export type { F64Rhs, F64Workspace, LoopConfig, LoopNorm } from './f64Loop.ts';
export { f64Workspace, loopSupports, runF64Loop } from './f64Loop.ts';
export { integrateF64, loopConfig } from './integrateF64.ts';
export type { PerTrajectoryOptions, RowDynamics, RowEventSpec, RowSolution } from './perTrajectory.ts';
export { integratePerTrajectory } from './perTrajectory.ts';
