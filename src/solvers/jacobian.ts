/**
 * Jacobians for implicit methods: dense D×D per trajectory, row-major,
 * `J[b·D·D + i·D + j] = ∂fᵢ/∂yⱼ` of trajectory b. Supplied by the user (later: derived
 * symbolically by the expression language) or approximated by finite differences.
 */
import type { VectorSpace } from './vectorSpace.ts';

/** A Jacobian function: B·D·D entries for a batch of B trajectories of dimension D. */
export type JacobianFn<V> = (t: number, y: V) => Float64Array;

/** A time derivative ∂f/∂t: B·D entries. */
export type TimeDerivativeFn<V> = (t: number, y: V) => Float64Array;

const SQRT_EPS = Math.sqrt(Number.EPSILON);

const CBRT_EPS = Math.cbrt(Number.EPSILON);

/**
 * Central-difference Jacobian: column j of every trajectory at once (trajectories are
 * independent), so 2D evaluations of f for the whole batch. Central rather than forward
 * differences: Rosenbrock methods keep their order only with an accurate Jacobian, and the
 * O(δ²) error (δ ≈ ε^⅓·|y|) is ~1e-11 relative against ~1e-8 for forward differences.
 * @example
 * const J = finiteDifferenceJacobian(f64Space, f, t, y, release);
 */
export const finiteDifferenceJacobian = <V>(
  space: VectorSpace<V>,
  f: (t: number, y: V) => V,
  t: number,
  y: V,
  release: (x: V) => void,
): Float64Array => {
  const B = Math.max(1, space.batchOf(y));
  const D = space.size(y) / B;
  const base = space.toF64(y);
  const J = new Float64Array(B * D * D);
  const yp = Float64Array.from(base);
  const delta = new Float64Array(B);
  const evalAt = (sign: 1 | -1, j: number): Float64Array => {
    for (let b = 0; b < B; b++) {
      const v = base[b * D + j] as number;
      const d = CBRT_EPS * Math.max(1e-5, Math.abs(v));
      // Make the perturbation exactly representable so (y + δ) − (y − δ) = 2δ.
      delta[b] = v + d - v;
      yp[b * D + j] = v + sign * (delta[b] as number);
    }
    const ypV = space.fromF64(Float64Array.from(yp), y);
    const fpV = f(t, ypV);
    const fp = Float64Array.from(space.toF64(fpV));
    release(fpV);
    release(ypV);
    return fp;
  };
  for (let j = 0; j < D; j++) {
    const plus = evalAt(1, j);
    const minus = evalAt(-1, j);
    for (let b = 0; b < B; b++) {
      const d2 = 2 * (delta[b] as number);
      for (let i = 0; i < D; i++) J[b * D * D + i * D + j] = ((plus[b * D + i] as number) - (minus[b * D + i] as number)) / d2;
      yp[b * D + j] = base[b * D + j] as number;
    }
  }
  return J;
};

/**
 * Forward-difference time derivative ∂f/∂t (one extra evaluation).
 * @example
 * const ft = finiteDifferenceDt(f64Space, f, t, y, f0);
 */
export const finiteDifferenceDt = <V>(
  space: VectorSpace<V>,
  f: (t: number, y: V) => V,
  t: number,
  y: V,
  f0: Float64Array,
  release: (x: V) => void,
): Float64Array => {
  const d = SQRT_EPS * Math.max(1, Math.abs(t));
  const tp = t + d;
  const fpV = f(tp, y);
  const fp = space.toF64(fpV);
  const out = fp.map((v, i) => (v - (f0[i] as number)) / (tp - t));
  release(fpV);
  return out;
};
