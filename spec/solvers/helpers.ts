/** Shared helpers for the solver specs (not a spec file itself). */
import * as E from 'fp-ts/lib/Either.js';
import assert from 'node:assert/strict';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import { f64Batch } from '../../src/solvers/f64Space.ts';
import type { SolveError } from '../../src/solvers/errors.ts';
import { formatSolveError } from '../../src/solvers/errors.ts';

/** Unwraps a Right or fails the test with the formatted error. */
export const ok = <T>(r: E.Either<SolveError, T>): T => {
  if (E.isLeft(r)) assert.fail(`expected success, got ${r.left._tag}: ${formatSolveError(r.left)}`);
  return r.right;
};

/** Unwraps a Left or fails the test. */
export const err = <T>(r: E.Either<SolveError, T>): SolveError => {
  if (E.isRight(r)) assert.fail('expected a SolveError, got a solution');
  return r.left;
};

/** Applies a per-row map to a batch: out row b = g(row b). */
export const rowwise = (g: (t: number, y: Float64Array, out: Float64Array) => void) => (t: number, y: F64Batch): F64Batch => {
  const out = f64Batch(y.batch, y.dim);
  for (let b = 0; b < y.batch; b++) g(t, y.data.subarray(b * y.dim, (b + 1) * y.dim), out.data.subarray(b * y.dim, (b + 1) * y.dim));
  return out;
};

/** Linear dynamics y' = A y (A is D×D row-major) for every row. */
export const linear = (A: Float64Array, D: number) =>
  rowwise((_t, y, out) => {
    for (let i = 0; i < D; i++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += (A[i * D + j] as number) * (y[j] as number);
      out[i] = s;
    }
  });

/** exp(A·t) v by scaling and squaring with a Taylor series (float64, small D). */
export const expmv = (A: Float64Array, D: number, t: number, v: Float64Array): Float64Array => {
  const norm = Math.max(...Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => Math.abs(A[i * D + j] as number)).reduce((a, b) => a + b, 0)));
  const s = Math.max(0, Math.ceil(Math.log2(Math.max(1e-300, norm * Math.abs(t)))) + 4);
  const M = A.map((a) => (a * t) / 2 ** s);
  const mul = (X: Float64Array, Y: Float64Array): Float64Array => {
    const Z = new Float64Array(D * D);
    for (let i = 0; i < D; i++) for (let k = 0; k < D; k++) for (let j = 0; j < D; j++) Z[i * D + j] = (Z[i * D + j] as number) + (X[i * D + k] as number) * (Y[k * D + j] as number);
    return Z;
  };
  let term: Float64Array = new Float64Array(D * D);
  for (let i = 0; i < D; i++) term[i * D + i] = 1;
  let sum: Float64Array = Float64Array.from(term);
  for (let k = 1; k <= 30; k++) {
    term = mul(term, M).map((x) => x / k);
    sum = sum.map((x, i) => x + (term[i] as number));
  }
  for (let i = 0; i < s; i++) sum = mul(sum, sum);
  return Float64Array.from({ length: D }, (_, i) => {
    let acc = 0;
    for (let j = 0; j < D; j++) acc += (sum[i * D + j] as number) * (v[j] as number);
    return acc;
  });
};

/** Max |a − b| over two arrays. */
export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length, 'length mismatch');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
};

/** Kepler orbit (unit mass, μ = 1) as a first-order system (q1, q2, p1, p2). */
export const kepler = rowwise((_t, y, out) => {
  const q1 = y[0] as number, q2 = y[1] as number;
  const r3 = Math.pow(q1 * q1 + q2 * q2, 1.5);
  out[0] = y[2] as number;
  out[1] = y[3] as number;
  out[2] = -q1 / r3;
  out[3] = -q2 / r3;
});

/** Kepler initial state with eccentricity e (pericentre at t = 0, period 2π). */
export const keplerY0 = (e: number): number[] => [1 - e, 0, 0, Math.sqrt((1 + e) / (1 - e))];

/** Closed-form Kepler solution at time t (solves Kepler's equation by Newton). */
export const keplerExact = (e: number, t: number): number[] => {
  let En = t;
  for (let i = 0; i < 50; i++) En -= (En - e * Math.sin(En) - t) / (1 - e * Math.cos(En));
  const c = Math.cos(En), s = Math.sin(En), d = 1 - e * c, w = Math.sqrt(1 - e * e);
  return [c - e, w * s, -s / d, (w * c) / d];
};

/** A deterministic PRNG (mulberry32) for specs that need plain random numbers. */
export const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};
