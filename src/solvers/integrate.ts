/**
 * `integrate`: the one entry point for solving y' = f(t, y) with a shared step for the batch.
 * Validates options into values (never throws for expected failures), builds the counted and
 * ownership-tracked environment, picks the stepper from the method value, and runs the loop.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { SolveError } from './errors.ts';
import type { EventSpec } from './events.ts';
import type { StepController } from './controller.ts';
import { defaultController } from './controller.ts';
import type { ErrorNorm } from './norms.ts';
import { rmsNorm, weightedNorm } from './norms.ts';
import type { Method } from './method.ts';
import { isAdaptive } from './method.ts';
import { ownership } from './ownership.ts';
import type { JacobianFn, TimeDerivativeFn } from './jacobian.ts';
import { rosenbrockStepper } from './rosenbrock.ts';
import type { Solution } from './solution.ts';
import type { StepEnv } from './stepper.ts';
import { explicitStepper } from './stepper.ts';
import type { TimeOptions } from './times.ts';
import { planTimes } from './times.ts';
import { runShared } from './driver.ts';
import type { Coef, Tolerance, VectorSpace } from './vectorSpace.ts';
import { isBatchedSpace } from './vectorSpace.ts';

/** Dynamics: the vector field of the batch at one time. */
export type Dynamics<V> = (t: number, y: V) => V;

/** Options of `integrate`. Times: `t0`/`t1` and/or output times `ts` (shared, or B × T). */
export interface IntegrateOptions<V> extends TimeOptions {
  readonly method: Method;
  /** Relative tolerance, scalar or per state dimension (default 1e-6). */
  readonly rtol?: number | Float64Array;
  /** Absolute tolerance, scalar or per state dimension (default 1e-9). */
  readonly atol?: number | Float64Array;
  /** Error norm (default RMS). */
  readonly norm?: ErrorNorm;
  /** Step-size controller (default PI). */
  readonly controller?: StepController;
  /** First step size (default: Hairer–Nørsett–Wanner heuristic). */
  readonly firstStep?: number;
  /** Fixed step size: no error control (fixed-step methods without dt step between output times). */
  readonly dt?: number;
  /** Fail with StepSizeUnderflow below this step size (default 0: only round-off). */
  readonly dtMin?: number;
  /** Largest step size (default ∞). */
  readonly dtMax?: number;
  /** Step attempts (accepted + rejected) before MaxStepsReached (default 100 000). */
  readonly maxSteps?: number;
  /** Keep (t, y) of every accepted step. */
  readonly saveSteps?: boolean;
  /** Keep per-step dense output so `solution.evaluate(t)` works anywhere in the span. */
  readonly dense?: boolean;
  /** A terminating event. */
  readonly event?: EventSpec<V>;
  /** Rosenbrock methods: the Jacobian (default: central differences, 2D batched evaluations). */
  readonly jacobian?: JacobianFn<V>;
  /** Rosenbrock methods: ∂f/∂t (default: forward difference, or zero when `autonomous`). */
  readonly dfdt?: TimeDerivativeFn<V>;
  /** Rosenbrock methods: f does not depend on t explicitly. */
  readonly autonomous?: boolean;
}

const invalid = (option: string, reason: string): E.Either<SolveError, never> => E.left({ _tag: 'InvalidOptions', option, reason });

const checkTol = (name: string, tol: number | Float64Array, len: number): E.Either<SolveError, true> => {
  if (typeof tol === 'number') return tol >= 0 && Number.isFinite(tol) ? E.right(true) : invalid(name, `must be a finite number ≥ 0, got ${tol}`);
  if (tol.length !== len) return invalid(name, `has ${tol.length} entries, the state has dimension ${len}`);
  const bad = tol.findIndex((v) => !(v >= 0 && Number.isFinite(v)));
  return bad >= 0 ? invalid(name, `entry ${bad} is ${tol[bad]}, must be a finite number ≥ 0`) : E.right(true);
};

const positive = (name: string, v: number | undefined, allowInf = false): E.Either<SolveError, true> =>
  v === undefined || (v > 0 && (allowInf || Number.isFinite(v))) ? E.right(true) : invalid(name, `must be a positive number, got ${v}`);

/** Step-control options shared by both drivers. */
export interface StepOptions {
  readonly rtol?: number | Float64Array;
  readonly atol?: number | Float64Array;
  readonly dt?: number;
  readonly firstStep?: number;
  readonly dtMin?: number;
  readonly dtMax?: number;
  readonly maxSteps?: number;
}

/**
 * Checks tolerances and step options; returns the resolved tolerance.
 * @example
 * validateStepOptions(f64Space, y0, { rtol: -1 }); // Left(InvalidOptions rtol)
 */
export const validateStepOptions = <V>(space: VectorSpace<V>, y0: V, o: StepOptions): E.Either<SolveError, Tolerance> => {
  const rtol = o.rtol ?? 1e-6;
  const atol = o.atol ?? 1e-9;
  const len = space.toleranceLength(y0);
  const checks = [
    checkTol('rtol', rtol, len),
    checkTol('atol', atol, len),
    positive('dt', o.dt),
    positive('firstStep', o.firstStep),
    positive('dtMax', o.dtMax, true),
    o.dtMin === undefined || (o.dtMin >= 0 && Number.isFinite(o.dtMin)) ? E.right(true) : invalid('dtMin', `must be a finite number ≥ 0, got ${o.dtMin}`),
    o.maxSteps === undefined || (Number.isInteger(o.maxSteps) && o.maxSteps > 0) ? E.right(true) : invalid('maxSteps', `must be a positive integer, got ${o.maxSteps}`),
  ];
  const firstBad = checks.find(E.isLeft);
  return firstBad !== undefined ? firstBad : E.right({ rtol, atol });
};

/**
 * Checks every option of `integrate` that does not concern times themselves.
 * @example
 * validateOptions(f64Space, y0, { method: rk4, t1: 1 }); // Left: rk4 needs dt or ts
 */
export const validateOptions = <V>(space: VectorSpace<V>, y0: V, o: IntegrateOptions<V>): E.Either<SolveError, Tolerance> => {
  const m: unknown = o.method;
  if (typeof m !== 'object' || m === null || !('kind' in m) || (m.kind !== 'explicit' && m.kind !== 'rosenbrock')) {
    return invalid('method', `expected a method value such as dopri5 (got ${JSON.stringify(m)}); use methodByName for names`);
  }
  const tol = validateStepOptions(space, y0, o);
  if (E.isLeft(tol)) return tol;
  if (o.ts !== undefined && o.ts.length > 0 && Array.isArray(o.ts[0]) && (!isBatchedSpace(space) || o.ts.length !== space.batchOf(y0))) {
    return invalid('ts', `per-trajectory grids need a batched space and one row per trajectory (${space.batchOf(y0)})`);
  }
  if (!isAdaptive(o.method) && o.dt === undefined && o.ts === undefined) {
    return invalid('dt', `${o.method.name} is a fixed-step method: give dt or output times ts`);
  }
  return tol;
};

/**
 * Solves y' = f(t, y) from y(t0) = y0. Returns the solution at the output times `ts` (from dense
 * output, without forcing steps onto them), or a `SolveError` value. Backwards integration
 * (t1 < t0) works the same. The state type `V` is anything with a `VectorSpace<V>` instance.
 * @example
 * import { f64Space, f64FromRows } from './f64Space.ts';
 * import { dopri5 } from './tableaus/dopri5.ts';
 * const r = integrate(f64Space, (t, y) => f64Space.linComb([-1], [y]), f64FromRows([[1]]), {
 *   method: dopri5, ts: [0, 1, 2], rtol: 1e-8, atol: 1e-10,
 * });
 * // Right(solution): solution.ys[2].data[0] ≈ Math.exp(-2)
 */
export const integrate = <V>(space: VectorSpace<V>, f: Dynamics<V>, y0: V, options: IntegrateOptions<V>): E.Either<SolveError, Solution<V>> => {
  const tol = validateOptions(space, y0, options);
  if (E.isLeft(tol)) return tol;
  const plan = planTimes(options);
  if (E.isLeft(plan)) return plan;
  const mem = ownership(space);
  const norm = options.norm ?? rmsNorm;
  let nfe = 0;
  const batched = isBatchedSpace(space) ? space : undefined;
  const env: StepEnv<V> = {
    space,
    f: (t, y) => {
      nfe++;
      const r = space.tidy === undefined ? f(t, y) : space.tidy(() => f(t, y));
      return mem.adopt(r === y ? space.clone(y) : r);
    },
    comb: (coeffs: readonly Coef[], xs: readonly V[]) =>
      mem.adopt(
        coeffs.every((c) => typeof c === 'number')
          ? space.linComb(coeffs as readonly number[], xs)
          : (batched as NonNullable<typeof batched>).linCombRows(coeffs, xs),
      ),
    release: mem.release,
    adopt: mem.adopt,
    norm: (err, a, b) => weightedNorm(space, norm, err, a, b, tol.right),
    components: (err, a, b) => space.weightedComponents(err, a, b, tol.right),
    ...(space.linCombInto !== undefined && space.dispose === undefined ? { scratch: space.clone(y0) } : {}),
  };
  const fixed = options.dt !== undefined || !isAdaptive(options.method);
  const cfg = {
    controller: options.controller ?? defaultController,
    fixed,
    dt: options.dt,
    firstStep: options.firstStep,
    dtMin: options.dtMin ?? 0,
    dtMax: options.dtMax ?? Number.POSITIVE_INFINITY,
    maxSteps: options.maxSteps ?? 100_000,
    saveSteps: options.saveSteps ?? false,
    dense: options.dense ?? false,
    event: options.event,
    norm0: (x: V, ref: V) => weightedNorm(space, norm, x, ref, ref, tol.right),
  };
  const m = options.method;
  switch (m.kind) {
    case 'explicit':
      return runShared(env, mem, explicitStepper(m.tableau, env, fixed), y0, plan.right, cfg, () => nfe);
    case 'rosenbrock': {
      const ro = {
        ...(options.jacobian === undefined ? {} : { jacobian: options.jacobian }),
        ...(options.dfdt === undefined ? {} : { dfdt: options.dfdt }),
        ...(options.autonomous === undefined ? {} : { autonomous: options.autonomous }),
      };
      return runShared(env, mem, rosenbrockStepper(m.tableau, env, ro, fixed), y0, plan.right, cfg, () => nfe);
    }
  }
};
