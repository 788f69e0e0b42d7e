/**
 * The values of the gradient API: a problem (dynamics, loss, data, solver options), a method
 * chosen by a tagged config with its own options, the result (∂L/∂z₀, ∂L/∂θ, ∂L/∂tᵢ, the loss
 * and work statistics) and the ways it can fail, solver failures kept as `SolveError` values.
 */
import type { Dynamics, Loss } from '../../dsl/model.ts';
import type { ParamValues } from '../../dsl/params.ts';
import type { F64Evaluator } from '../../interp/evaluator.ts';
import type { Placement, PlacementRequest } from '../../interp/placement.ts';
import type { F64Tensor } from '../../interp/tensor.ts';
import { formatSolveError, type Method, type SolveError } from '../../solvers/index.ts';

/** Solver settings of one direction of a gradient. */
export interface SolverOptions {
  readonly method: Method;
  /** Relative tolerance (default 1e-6). */
  readonly rtol?: number;
  /** Absolute tolerance (default 1e-9). */
  readonly atol?: number;
  /** Step attempts before `MaxStepsReached` (default: the solver's, 100 000). */
  readonly maxSteps?: number;
}

/** The symbolic part of a problem: what is compiled once and reused across data. */
export interface GradientModel {
  /** `dz/dt = f(z, t, θ)`; the state is `[batch, …numeric dims]`. */
  readonly dynamics: Dynamics;
  /** A scalar loss of the prediction variable, of shape `[T, …state shape]`. */
  readonly loss: Loss;
}

/** The numeric part of a problem. */
export interface GradientData {
  /** Values of every parameter of the dynamics and of the loss. */
  readonly params: ParamValues;
  /** The initial state, of the state's shape with the batch bound. */
  readonly z0: F64Tensor;
  /**
   * Observation times, strictly increasing or decreasing. `ts[0]` is the initial time and the
   * prediction includes `z(ts[0]) = z0`, as torchdiffeq's `odeint` does.
   */
  readonly ts: readonly number[];
  /** The loss's other inputs (targets, weights), by variable name. */
  readonly lossInputs?: Readonly<Record<string, F64Tensor>>;
  /** The dynamics' other inputs (data, noise), by variable name; constant in time. */
  readonly dynamicsInputs?: Readonly<Record<string, F64Tensor>>;
  /** Forward solver settings (also the backward ones unless a method sets its own). */
  readonly solver: SolverOptions;
}

/** A whole gradient problem. */
export type GradientProblem = GradientModel & GradientData;

/** Where the float64 paths evaluate expressions: a factory `(roots) => (env) => outputs`. */
export interface F64Path {
  readonly backend: 'float64';
  /** Default: the generated kernels (`kernelEvaluator`, bit-for-bit equal to `compileF64`). */
  readonly evaluator?: F64Evaluator;
  /**
   * Adjoint only, without `evaluator`: where f and the adjoint system are evaluated — `kernel`
   * (float64, the default), `tfjs` (float32 on the active tfjs backend, the solver stays float64)
   * or `auto` (the cost model of `interp/placement.ts`, per program and batch size).
   */
  readonly placement?: PlacementRequest;
}

/** The TensorFlow.js path (float32 on the active tfjs backend). */
export interface TfjsPath {
  readonly backend: 'tfjs';
}

/**
 * Float32 results (every value rounded to float32). Where they are computed: `kernel` (the
 * float64 path on the generated kernel, rounded at the end: more accurate than float32, as fast
 * as float64), `tfjs` (as `TfjsPath`) or `auto` (default: the cost model of `interp/placement.ts`,
 * as for float64; `FLUXION_BACKEND` overrides the default).
 */
export interface F32Path {
  readonly backend: 'float32';
  readonly placement?: PlacementRequest;
}

/** Where a symbolic method runs. */
export type GradientBackend = F64Path | TfjsPath | F32Path;

/**
 * The adjoint method (Chen et al. 2018, Algorithm 1, "backsolve"): O(1) memory in the number of
 * steps; the gradient of the continuous problem, to the solver tolerances.
 */
export interface AdjointConfig {
  readonly method: 'adjoint';
  /** Backward solver settings (default: the forward ones). */
  readonly backward?: SolverOptions;
  /** Leave θ̄ and t̄ out of the backward error norm (Kidger, Chen & Lyons 2021). Default false. */
  readonly seminorm?: boolean;
  /**
   * Float64 path: start every backward interval with the initial-step heuristic (as torchdiffeq)
   * instead of the step size the controller proposed at the end of the previous one. Default false.
   */
  readonly restartSteps?: boolean;
  /** Default: float64 with generated kernels. */
  readonly on?: GradientBackend;
}

/**
 * Discretise-then-optimise: the exact gradient of the computed discrete solution, step sizes
 * held constant. Memory linear in the number of steps (divided by `checkpointEvery`). On float64
 * (explicit adaptive methods with an embedded estimate) the forward pass is the plain solve and
 * outputs come from its dense output; elsewhere steps land on every observation time.
 */
export interface BackpropConfig {
  readonly method: 'backprop';
  /** Keep every k-th accepted state; the reverse pass recomputes the others (default 1). */
  readonly checkpointEvery?: number;
  readonly on?: GradientBackend;
}

/** TensorFlow.js's own reverse-mode autodiff (`tf.valueAndGrads`) through the tfjs solver, float32. */
export interface TfjsAutodiffConfig {
  readonly method: 'tfjs-autodiff';
}

/** A gradient method and its own options. */
export type GradientConfig = AdjointConfig | BackpropConfig | TfjsAutodiffConfig;

/**
 * Work statistics. `nfe` counts batched evaluations: of f forwards; backwards, of the adjoint
 * system (adjoint: each is one f and one VJP), or of f plus stage VJPs (backprop: stages are
 * recomputed, then reversed; float64 backprop keeps them, so only VJPs and checkpoint
 * recomputations count), plus the f evaluations at observation times for ∂L/∂tᵢ.
 */
export interface GradientStats {
  readonly nfeForward: number;
  readonly nfeBackward: number;
  readonly acceptedForward: number;
  readonly rejectedForward: number;
  /** Adjoint: accepted steps of the backward solves; backprop: reversed steps. */
  readonly acceptedBackward: number;
  readonly rejectedBackward: number;
}

/** What a gradient computes. */
export interface GradientResult {
  readonly loss: number;
  readonly dz0: F64Tensor;
  /** ∂L/∂θ for every parameter of the dynamics and of the loss. */
  readonly dparams: ParamValues;
  /** ∂L/∂tᵢ for every observation time, t₀ included. */
  readonly dts: Float64Array;
  /** The prediction the loss saw, `[T, …state shape]`. */
  readonly prediction: F64Tensor;
  readonly stats: GradientStats;
  /** Float64 adjoint: where f and the adjoint system were evaluated (see `F64Path.placement`). */
  readonly placement?: { readonly f: Placement; readonly adjoint: Placement };
}

/** Why a gradient could not be computed. */
export type GradientError =
  | { readonly _tag: 'InvalidProblem'; readonly message: string }
  | {
      readonly _tag: 'SolveFailed';
      readonly phase: 'forward' | 'backward';
      /** The solve that failed; its `t` says where. */
      readonly error: SolveError;
    }
  | { readonly _tag: 'EvaluationFailed'; readonly what: string; readonly message: string };

/**
 * One line for a gradient failure.
 * @example
 * formatGradientError({ _tag: 'InvalidProblem', message: 'ts is empty' }) // 'invalid problem: ts is empty'
 */
export const formatGradientError = (e: GradientError): string => {
  switch (e._tag) {
    case 'InvalidProblem':
      return `invalid problem: ${e.message}`;
    case 'SolveFailed':
      return `the ${e.phase} solve failed: ${formatSolveError(e.error)}`;
    case 'EvaluationFailed':
      return `evaluating ${e.what} failed: ${e.message}`;
  }
};

/** An `InvalidProblem` error. @example invalidProblem('ts is empty') // { _tag: 'InvalidProblem', message: 'ts is empty' } */
export const invalidProblem = (message: string): GradientError => ({ _tag: 'InvalidProblem', message });

/** A `SolveFailed` error keeping the solver's value. @example solveFailed('backward', r.left) */
export const solveFailed = (phase: 'forward' | 'backward', error: SolveError): GradientError => ({ _tag: 'SolveFailed', phase, error });
