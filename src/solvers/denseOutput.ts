/**
 * Per-step dense output: a method's own continuous extension (polynomials per stage) or, where a
 * method has none, the cubic Hermite interpolant through (y0, f0) and (y1, f1). Evaluation is one
 * linear combination of stored states, with per-row θ when trajectories differ.
 */
import type { Coef } from './vectorSpace.ts';
import type { Poly } from './polynomial.ts';
import { polyEval } from './polynomial.ts';

/** A step's dense information. `t0` and `h` are per-row arrays under per-trajectory control. */
export type DenseStep<V> =
  | {
      readonly kind: 'polynomial';
      readonly t0: Coef;
      readonly h: Coef;
      readonly y0: V;
      readonly ks: readonly V[];
      readonly polys: readonly Poly[];
    }
  | {
      readonly kind: 'hermite';
      readonly t0: Coef;
      readonly h: Coef;
      readonly y0: V;
      readonly y1: V;
      readonly f0: V;
      readonly f1: V;
    };

/**
 * Every state a dense step references (for ownership).
 * @example
 * denseStates(step).forEach(mem.retain);
 */
export const denseStates = <V>(d: DenseStep<V>): readonly V[] =>
  d.kind === 'polynomial' ? [d.y0, ...d.ks] : [d.y0, d.y1, d.f0, d.f1];

const mapCoef = (x: Coef, fn: (v: number, b: number) => number): Coef =>
  typeof x === 'number' ? fn(x, 0) : x.map((v, b) => fn(v, b));

const zip = (x: Coef, y: Coef, fn: (a: number, b: number) => number): Coef => {
  if (typeof x === 'number' && typeof y === 'number') return fn(x, y);
  const n = typeof x === 'number' ? (y as Float64Array).length : x.length;
  const at = (c: Coef, b: number): number => (typeof c === 'number' ? c : (c[b] as number));
  return Float64Array.from({ length: n }, (_, b) => fn(at(x, b), at(y, b)));
};

/**
 * Linear-combination coefficients and states giving the interpolant at `θ ∈ [0, 1]`
 * (`t = t0 + θh`); θ may be per row.
 * @example
 * const [coeffs, xs] = denseTerms(step, 0.5);
 * const yMid = space.linComb(coeffs as number[], xs);
 */
export const denseTerms = <V>(d: DenseStep<V>, theta: Coef): readonly [readonly Coef[], readonly V[]] => {
  switch (d.kind) {
    case 'polynomial': {
      const coeffs: Coef[] = [1, ...d.polys.map((p) => zip(d.h, theta, (h, th) => h * polyEval(p, th)))];
      return [coeffs, [d.y0, ...d.ks]];
    }
    case 'hermite': {
      const h00 = mapCoef(theta, (s) => (1 + 2 * s) * (1 - s) * (1 - s));
      const h01 = mapCoef(theta, (s) => s * s * (3 - 2 * s));
      const h10 = zip(d.h, theta, (h, s) => h * s * (1 - s) * (1 - s));
      const h11 = zip(d.h, theta, (h, s) => h * s * s * (s - 1));
      return [[h00, h01, h10, h11], [d.y0, d.y1, d.f0, d.f1]];
    }
  }
};

/**
 * θ = (t − t0)/h, per row when t0 or h are per row.
 * @example
 * thetaAt({ ...step, t0: 1, h: 0.5 }, 1.25); // 0.5
 */
export const thetaAt = <V>(d: DenseStep<V>, t: Coef): Coef => zip(zip(t, d.t0, (a, b) => a - b), d.h, (a, h) => (h === 0 ? 0 : a / h));
