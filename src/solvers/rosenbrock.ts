/**
 * A generic Rosenbrock stepper (transformed form, see rosenbrockTableau.ts). Linear algebra is in
 * float64 through `toF64`/`fromF64` (zero-copy on the Float64 layout); each trajectory gets its
 * own D×D Jacobian and LU factorisation. The Jacobian (and ∂f/∂t) are computed once per accepted
 * state and reused across rejected attempts; the LU is redone for each step size.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { RosenbrockTableau } from './rosenbrockTableau.ts';
import type { StepAttempt, StepEnv, Stepper } from './stepper.ts';
import { worstComponent } from './stepper.ts';
import type { LU } from './lu.ts';
import { luFactor, luSolveInto } from './lu.ts';
import type { JacobianFn, TimeDerivativeFn } from './jacobian.ts';
import { finiteDifferenceDt, finiteDifferenceJacobian } from './jacobian.ts';

/** Options of the Rosenbrock stepper. */
export interface RosenbrockOptions<V> {
  readonly jacobian?: JacobianFn<V>;
  /** ∂f/∂t; default: forward difference, or zero when `autonomous`. */
  readonly dfdt?: TimeDerivativeFn<V>;
  /** f does not depend on t explicitly (skips ∂f/∂t). */
  readonly autonomous?: boolean;
}

/** Jacobian and time derivative at the current accepted state. */
export interface RosenbrockCache {
  readonly jac?: Float64Array;
  readonly ft?: Float64Array;
}

/**
 * Adapts a Rosenbrock tableau to the driver (shared step size over the batch).
 * @example
 * const stepper = rosenbrockStepper(rodas4.tableau, env, { jacobian }, false);
 */
export const rosenbrockStepper = <V>(
  tab: RosenbrockTableau,
  env: StepEnv<V>,
  opts: RosenbrockOptions<V>,
  fixed: boolean,
): Stepper<V, RosenbrockCache> => {
  const { space } = env;
  let njac = 0, nlu = 0;
  const s = tab.m.length;
  return {
    adaptive: !fixed,
    order: tab.order,
    controlOrder: tab.errorOrder + 1,
    emptyCache: () => ({}),
    counters: () => ({ njac, nlu }),
    attempt: (t, y, h, k1, cache) => {
      const B = Math.max(1, space.batchOf(y));
      const N = space.size(y);
      const D = N / B;
      const yv = space.toF64(y);
      const f0 = space.toF64(k1);
      let jac = cache.jac;
      if (jac === undefined) {
        njac++;
        jac = opts.jacobian !== undefined ? opts.jacobian(t, y) : finiteDifferenceJacobian(space, env.f, t, y, env.release);
      }
      const ft =
        cache.ft ??
        (opts.dfdt !== undefined
          ? opts.dfdt(t, y)
          : opts.autonomous === true
            ? new Float64Array(N)
            : finiteDifferenceDt(space, env.f, t, y, f0, env.release));
      const newCache: RosenbrockCache = { jac, ft };
      const lus: LU[] = [];
      const inv = 1 / (h * tab.gamma);
      const m = new Float64Array(D * D);
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < D * D; i++) m[i] = -(jac[b * D * D + i] as number);
        for (let i = 0; i < D; i++) m[i * D + i] = (m[i * D + i] as number) + inv;
        nlu++;
        const r = luFactor(m, D);
        if (E.isLeft(r)) return { attempt: singular(env, y, k1, b), cache: newCache };
        lus.push(r.right);
      }
      const U: Float64Array[] = [];
      const temps: V[] = [];
      for (let i = 0; i < s; i++) {
        const ai = tab.a[i] ?? [];
        const ci = tab.c[i] ?? [];
        let rhs: Float64Array;
        if (i === 0) rhs = Float64Array.from(f0);
        else {
          const yi = Float64Array.from(yv);
          ai.forEach((a, j) => {
            const u = U[j] as Float64Array;
            if (a !== 0) for (let n = 0; n < N; n++) yi[n] = (yi[n] as number) + a * (u[n] as number);
          });
          const yiV = env.adopt(space.fromF64(yi, y));
          const fiV = env.f(t + (tab.alpha[i] ?? 0) * h, yiV);
          rhs = Float64Array.from(space.toF64(fiV));
          env.release(fiV);
          env.release(yiV);
        }
        ci.forEach((c, j) => {
          const u = U[j] as Float64Array;
          if (c !== 0) for (let n = 0; n < N; n++) rhs[n] = (rhs[n] as number) + (c / h) * (u[n] as number);
        });
        const di = tab.d[i] ?? 0;
        if (di !== 0) for (let n = 0; n < N; n++) rhs[n] = (rhs[n] as number) + h * di * (ft[n] as number);
        for (let b = 0; b < B; b++) luSolveInto(lus[b] as LU, rhs, b * D);
        U.push(rhs);
      }
      const y1 = Float64Array.from(yv);
      const err = new Float64Array(N);
      for (let i = 0; i < s; i++) {
        const u = U[i] as Float64Array;
        const mi = tab.m[i] ?? 0, ei = tab.e[i] ?? 0;
        for (let n = 0; n < N; n++) {
          y1[n] = (y1[n] as number) + mi * (u[n] as number);
          err[n] = (err[n] as number) + ei * (u[n] as number);
        }
      }
      const y1V = env.adopt(space.fromF64(y1, y));
      const errV = env.adopt(space.fromF64(err, y));
      temps.push(errV);
      const attempt: StepAttempt<V> = {
        y1: y1V,
        errNorm: fixed ? 0 : env.norm(errV, y, y1V),
        fNew: undefined,
        temps,
        dense: (f1) => ({ step: { kind: 'hermite', t0: t, h, y0: y, y1: y1V, f0: k1, f1 }, created: [] }),
        worst: () => worstComponent(env.components(errV, y, y1V), D),
      };
      return { attempt, cache: newCache };
    },
  };
};

const singular = <V>(env: StepEnv<V>, y: V, k1: V, row: number): StepAttempt<V> => {
  const y1 = env.adopt(env.space.clone(y));
  return {
    y1,
    errNorm: Number.POSITIVE_INFINITY,
    fNew: undefined,
    temps: [],
    dense: () => ({ step: { kind: 'hermite', t0: 0, h: 0, y0: y, y1, f0: k1, f1: k1 }, created: [] }),
    worst: () => undefined,
    singularRow: row,
  };
};
