/**
 * Gradient clipping as pure functions: each returns new gradients and the global norm of the
 * gradients before clipping (so a trainer can log it and stop on a non-finite one).
 */
import type { ParamValues } from '../dsl/params.ts';

/** Which vector norm: a finite order p ≥ 1 or the max norm. */
export type NormType = number | 'inf';

/** Clipped gradients and the global norm before clipping. */
export interface Clipped {
  readonly grads: ParamValues;
  readonly norm: number;
}

const vectorNorm = (xs: ArrayLike<number>, p: NormType): number => {
  let acc = 0;
  if (p === 'inf') {
    for (let i = 0; i < xs.length; i++) {
      const a = Math.abs(xs[i] as number);
      if (a > acc || Number.isNaN(a)) acc = a;
    }
    return acc;
  }
  if (p === 2) {
    for (let i = 0; i < xs.length; i++) acc += (xs[i] as number) * (xs[i] as number);
    return Math.sqrt(acc);
  }
  if (p === 1) {
    for (let i = 0; i < xs.length; i++) acc += Math.abs(xs[i] as number);
    return acc;
  }
  for (let i = 0; i < xs.length; i++) acc += Math.abs(xs[i] as number) ** p;
  return acc ** (1 / p);
};

/**
 * The global norm of all gradients, as `torch.nn.utils.clip_grad_norm_` computes it: the norm of
 * the per-tensor norms (0 for no gradients). Summation order is plain left to right, so the last
 * bits may differ from torch's vectorised reductions. NaN anywhere gives NaN.
 * @example globalNorm({ a: f64([3], [1]), b: f64([4], [1]) }) // 5
 */
export const globalNorm = (grads: ParamValues, normType: NormType = 2): number =>
  vectorNorm(Object.values(grads).map((g) => vectorNorm(g.data, normType)), normType);

const mapGrads = (grads: ParamValues, f: (x: number) => number): ParamValues =>
  Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, { shape: g.shape, data: g.data.map(f) }]));

/**
 * Scales all gradients by `min(1, maxNorm / (norm + 1e-6))`, as `clip_grad_norm_` does (always
 * multiplying, even by 1). A non-finite norm is not an error here: as in torch, an infinite norm
 * zeroes finite gradients and a NaN norm makes every gradient NaN; check `norm` before stepping.
 * @example clipGradNorm({ g: f64([3, 4], [2]) }, 1).norm // 5, grads ≈ [0.6, 0.8]
 */
export const clipGradNorm = (grads: ParamValues, maxNorm: number, normType: NormType = 2): Clipped => {
  const norm = globalNorm(grads, normType);
  const coef = Math.min(maxNorm / (norm + 1e-6), 1);
  return { grads: mapGrads(grads, (x) => x * coef), norm };
};

/**
 * Clamps every gradient element to `[−clipValue, clipValue]` (`clip_grad_value_`; NaN stays
 * NaN). `norm` is the global 2-norm before clipping.
 * @example clipGradValue({ g: f64([-3, 0.5], [2]) }, 1).grads.g.data // [-1, 0.5]
 */
export const clipGradValue = (grads: ParamValues, clipValue: number): Clipped => ({
  grads: mapGrads(grads, (x) => (x > clipValue ? clipValue : x < -clipValue ? -clipValue : x)),
  norm: globalNorm(grads, 2),
});
