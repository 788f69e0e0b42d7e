/**
 * The interface between the integration driver and a method: one attempted step at a time, plus
 * a per-state cache (e.g. a Jacobian reused across rejected attempts from the same state).
 * `explicitStepper` adapts any Butcher tableau.
 */
import type { ComponentRef } from './errors.ts';
import type { DenseStep } from './denseOutput.ts';
import type { ButcherTableau } from './tableau.ts';
import type { Coef, VectorSpace } from './vectorSpace.ts';
import { rkDense, rkExtraStages, rkStep } from './rkStep.ts';
import { combineDop853 } from './norms.ts';

/** What the driver gives a stepper: counted, ownership-tracked operations. */
export interface StepEnv<V> {
  readonly space: VectorSpace<V>;
  /** f(t, y), counted; the result is owned by the caller. */
  readonly f: (t: number, y: V) => V;
  /** A new owned state Σ cᵢxᵢ. */
  readonly comb: (coeffs: readonly Coef[], xs: readonly V[]) => V;
  readonly release: (x: V) => void;
  /** Take ownership of a state created outside `comb`/`f`. */
  readonly adopt: (x: V) => V;
  /** Weighted error norm of `err` for a step from y0 to y1. */
  readonly norm: (err: V, y0: V, y1: V) => number;
  /** Weighted error components (for reporting the worst component). */
  readonly components: (err: V, y0: V, y1: V) => Float64Array;
  /** Reusable stage buffer (Float64 layouts), if any. */
  readonly scratch?: V;
}

/** One attempted step. */
export interface StepAttempt<V> {
  readonly y1: V;
  /** Weighted error norm (0 for fixed steps); NaN/∞ when something was not finite. */
  readonly errNorm: number;
  /** f(t + h, y1) if the method computed it (FSAL). */
  readonly fNew: V | undefined;
  /** Temporaries to release once the attempt is decided. */
  readonly temps: readonly V[];
  /** Dense information for the accepted step, plus any states created for it. */
  readonly dense: (fNew: V) => { readonly step: DenseStep<V>; readonly created: readonly V[] };
  /** The component with the largest weighted error. */
  readonly worst: () => (ComponentRef & { readonly weightedError: number }) | undefined;
  /** Set when a linear solve failed (row of the singular matrix). */
  readonly singularRow?: number;
}

/** A method as the driver sees it. `C` is a per-state cache, reset on each accepted step. */
export interface Stepper<V, C> {
  readonly adaptive: boolean;
  readonly order: number;
  readonly controlOrder: number;
  readonly emptyCache: () => C;
  readonly attempt: (t: number, y: V, h: number, k1: V, cache: C) => { readonly attempt: StepAttempt<V>; readonly cache: C };
  /** Work counters beyond f evaluations. */
  readonly counters: () => { readonly njac: number; readonly nlu: number };
}

/**
 * Finds the component with the largest |weighted error| and returns it as (row, index).
 * @example
 * worstComponent(Float64Array.of(0.1, -3, 2), 3); // { row: 0, index: 1, weightedError: 3 }
 */
export const worstComponent = (w: Float64Array, dim: number): ComponentRef & { readonly weightedError: number } | undefined => {
  let best = -1, val = -1;
  for (let i = 0; i < w.length; i++) {
    const a = Math.abs(w[i] as number);
    if (Number.isNaN(a)) return { row: Math.floor(i / dim), index: i % dim, weightedError: Number.NaN };
    if (a > val) { val = a; best = i; }
  }
  return best < 0 ? undefined : { row: Math.floor(best / dim), index: best % dim, weightedError: val };
};

/**
 * Adapts an explicit Runge–Kutta tableau to the driver (shared step size).
 * @example
 * const stepper = explicitStepper(dopri5.tableau, env, false);
 */
export const explicitStepper = <V>(tab: ButcherTableau, env: StepEnv<V>, fixed: boolean): Stepper<V, undefined> => {
  const adaptive = !fixed && tab.error !== undefined;
  const dimOf = (x: V): number => env.space.size(x) / Math.max(1, env.space.batchOf(x));
  return {
    adaptive,
    order: tab.order,
    controlOrder: tab.controlOrder,
    emptyCache: () => undefined,
    counters: () => ({ njac: 0, nlu: 0 }),
    attempt: (t, y, h, k1) => {
      const ctx = {
        comb: env.comb,
        ...(env.space.linCombInto === undefined ? {} : { combInto: env.space.linCombInto }),
        ...(env.scratch === undefined ? {} : { scratch: env.scratch }),
        f: (c: number, ys: V) => env.f(t + c * h, ys),
        release: env.release,
      };
      const r = rkStep(tab, ctx, y, h, k1, adaptive);
      const est = tab.error;
      const errNorm =
        !adaptive || est === undefined
          ? 0
          : est.kind === 'embedded'
            ? env.norm(r.errs[0] as V, y, r.y1)
            : combineDop853(env.norm(r.errs[0] as V, y, r.y1), env.norm(r.errs[1] as V, y, r.y1));
      const fNew = tab.fsal ? r.ks[r.ks.length - 1] : undefined;
      const temps = [...r.ks.slice(1).filter((k) => k !== fNew), ...r.errs];
      const attempt: StepAttempt<V> = {
        y1: r.y1,
        errNorm,
        fNew,
        temps,
        dense: (f1) => {
          const extra = rkExtraStages(tab, ctx, y, h, r.ks);
          return { step: rkDense(tab, t, h, y, r.y1, [...r.ks, ...extra], f1), created: extra };
        },
        worst: () => {
          const e = r.errs[0];
          return e === undefined ? undefined : worstComponent(env.components(e, y, r.y1), dimOf(y));
        },
      };
      return { attempt, cache: undefined };
    },
  };
};
