/**
 * The value a successful solve returns, and evaluation anywhere in the solved span from the kept
 * per-step dense output.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { SolveError } from './errors.ts';
import type { EventHit } from './events.ts';
import type { DenseStep } from './denseOutput.ts';
import { denseTerms } from './denseOutput.ts';
import type { Coef } from './vectorSpace.ts';

/** Work statistics. `nfe` counts batched evaluations of f (one call = one evaluation). */
export interface SolveStats {
  readonly nfe: number;
  readonly njac: number;
  readonly nlu: number;
  readonly accepted: number;
  readonly rejected: number;
}

/** A successful solve. */
export interface Solution<V> {
  readonly t0: number;
  /** Where the solve ended: t1, or the event time. */
  readonly t1: number;
  /** The output times that were filled (all requested ones unless an event stopped the solve). */
  readonly ts: readonly number[] | readonly (readonly number[])[];
  /** The state at each output time (row b of ys[k] at ts[b][k] for per-trajectory grids). */
  readonly ys: readonly V[];
  /** The state at `t1`. */
  readonly yFinal: V;
  /** Every accepted step (t, y), including t0, when `saveSteps` was set. */
  readonly steps?: { readonly ts: readonly number[]; readonly ys: readonly V[] };
  /** The terminating event, when one fired. */
  readonly event?: EventHit<V>;
  readonly stats: SolveStats;
  /** The interpolated state at any t in [t0, t1] (a new state the caller owns); needs `dense: true`. */
  readonly evaluate: (t: number) => E.Either<SolveError, V>;
  /** Frees the states the solution holds (tensors); a no-op for Float64 states. */
  readonly dispose: () => void;
}

/**
 * Builds `evaluate` over kept dense steps (contiguous, in the direction of integration).
 * @example
 * const evaluate = denseEvaluator(steps, 0, 1, comb);
 * evaluate(0.25); // Right(y(0.25))
 */
export const denseEvaluator = <V>(
  steps: readonly DenseStep<V>[] | undefined,
  t0: number,
  t1: number,
  comb: (coeffs: readonly Coef[], xs: readonly V[]) => V,
  clone: () => V,
): ((t: number) => E.Either<SolveError, V>) => {
  const dir = t1 >= t0 ? 1 : -1;
  return (t) => {
    if (!(dir * (t - t0) >= 0 && dir * (t - t1) <= 0)) return E.left({ _tag: 'OutsideSpan', t, t0, t1 });
    if (t0 === t1) return E.right(clone());
    if (steps === undefined || steps.length === 0) return E.left({ _tag: 'DenseNotKept', t });
    // First step whose end reaches t.
    let lo = 0, hi = steps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const s = steps[mid] as DenseStep<V>;
      const end = (s.t0 as number) + (s.h as number);
      if (dir * (end - t) >= 0) hi = mid;
      else lo = mid + 1;
    }
    const s = steps[lo] as DenseStep<V>;
    const h = s.h as number;
    const theta = Math.min(1, Math.max(0, (t - (s.t0 as number)) / h));
    const [coeffs, xs] = denseTerms(s, theta);
    return E.right(comb(coeffs, xs));
  };
};
