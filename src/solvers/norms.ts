/**
 * Error norms over tolerance-weighted error components `e/sk`, `sk = atol + rtol·max(|y0|,|y1|)`.
 * A step is accepted when the norm is ≤ 1. RMS (Hairer's choice) is the default.
 */
import type { BatchedSpace, Tolerance, VectorSpace } from './vectorSpace.ts';

/** A pluggable error norm. `custom` receives every weighted component, flattened row-major. */
export type ErrorNorm =
  | { readonly kind: 'rms' }
  | { readonly kind: 'max' }
  | { readonly kind: 'custom'; readonly name: string; readonly reduce: (scaled: Float64Array) => number };

/**
 * Root-mean-square norm (default).
 * @example
 * integrate(space, f, y0, { method: dopri5, t1: 1, norm: rmsNorm });
 */
export const rmsNorm: ErrorNorm = Object.freeze({ kind: 'rms' });

/**
 * Max norm: every component must meet its tolerance.
 * @example
 * integrate(space, f, y0, { method: dopri5, t1: 1, norm: maxNorm });
 */
export const maxNorm: ErrorNorm = Object.freeze({ kind: 'max' });

/**
 * A norm given as a reduction of the weighted components.
 * @example
 * const l1 = customNorm('mean abs', (s) => s.reduce((a, v) => a + Math.abs(v), 0) / s.length);
 */
export const customNorm = (name: string, reduce: (scaled: Float64Array) => number): ErrorNorm =>
  Object.freeze({ kind: 'custom', name, reduce });

/**
 * The weighted error norm of `err` over the whole state (a shared step for the whole batch).
 * @example
 * weightedNorm(f64Space, rmsNorm, err, y0, y1, { rtol: 1e-6, atol: 1e-9 }); // ≤ 1 ⇒ accept
 */
export const weightedNorm = <V>(space: VectorSpace<V>, norm: ErrorNorm, err: V, y0: V, y1: V, tol: Tolerance): number => {
  switch (norm.kind) {
    case 'rms':
      return Math.sqrt(space.weightedSumSq(err, y0, y1, tol) / Math.max(1, space.size(err)));
    case 'max':
      return space.weightedMax(err, y0, y1, tol);
    case 'custom':
      return norm.reduce(space.weightedComponents(err, y0, y1, tol));
  }
};

/**
 * One weighted error norm per batch row (per-trajectory step control).
 * @example
 * weightedRowNorms(f64Space, rmsNorm, err, y0, y1, tol); // Float64Array(B)
 */
export const weightedRowNorms = <V>(
  space: BatchedSpace<V>,
  norm: ErrorNorm,
  err: V,
  y0: V,
  y1: V,
  tol: Tolerance,
): Float64Array => {
  const batch = space.batchOf(err);
  const dim = Math.max(1, space.size(err) / Math.max(1, batch));
  switch (norm.kind) {
    case 'rms':
      return space.weightedRowSumSq(err, y0, y1, tol).map((s) => Math.sqrt(s / dim));
    case 'max':
      return space.weightedRowMax(err, y0, y1, tol);
    case 'custom': {
      const all = space.weightedComponents(err, y0, y1, tol);
      return Float64Array.from({ length: batch }, (_, b) => norm.reduce(all.subarray(b * dim, (b + 1) * dim)));
    }
  }
};

/**
 * Combines DOP853's 5th- and 3rd-order estimates as Hairer's code does:
 * `e5² / √(e5² + 0.01·e3²)` (0 when both vanish).
 * @example
 * combineDop853(1e-6, 1e-3); // ≈ 1e-11: the 5th-order estimate dominates the decision
 */
export const combineDop853 = (e5: number, e3: number): number => {
  const den = e5 * e5 + 0.01 * e3 * e3;
  return den > 0 ? (e5 * e5) / Math.sqrt(den) : 0;
};
