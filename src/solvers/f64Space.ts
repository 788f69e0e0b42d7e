/**
 * Batched float64 states: `B` trajectories of dimension `D` stored row-major in one Float64Array.
 * The reference layout: exact float64 arithmetic, in-place combinations, no disposal.
 */
import type { BatchedSpace, Coef, Tolerance } from './vectorSpace.ts';
import { tolAt } from './vectorSpace.ts';

/** A batch of `batch` trajectories, each of dimension `dim`; `data[b * dim + j]`. */
export interface F64Batch {
  readonly data: Float64Array;
  readonly batch: number;
  readonly dim: number;
}

/**
 * Makes a batch, zero-filled or wrapping `data` (not copied).
 * @example
 * const y0 = f64Batch(2, 3); // two trajectories of dimension 3, all zeros
 * @throws RangeError when `data.length !== batch * dim` (a programming error).
 */
export const f64Batch = (batch: number, dim: number, data?: Float64Array): F64Batch => {
  const d = data ?? new Float64Array(batch * dim);
  if (d.length !== batch * dim) {
    throw new RangeError(`f64Batch: data has ${d.length} entries, expected ${batch}×${dim}`);
  }
  return { data: d, batch, dim };
};

/**
 * Builds a batch from rows of equal length.
 * @example
 * const y0 = f64FromRows([[1, 0], [0, 1]]); // batch 2, dim 2
 */
export const f64FromRows = (rows: readonly (readonly number[])[]): F64Batch => {
  const dim = rows[0]?.length ?? 0;
  const out = new Float64Array(rows.length * dim);
  rows.forEach((r, b) => {
    if (r.length !== dim) throw new RangeError('f64FromRows: rows of different lengths');
    out.set(r, b * dim);
  });
  return { data: out, batch: rows.length, dim };
};

/**
 * Row `b` of a batch as a fresh array.
 * @example
 * f64Row(f64FromRows([[1, 2], [3, 4]]), 1); // Float64Array [3, 4]
 */
export const f64Row = (x: F64Batch, b: number): Float64Array =>
  x.data.slice(b * x.dim, (b + 1) * x.dim);

const coefAt = (c: Coef, b: number): number => (typeof c === 'number' ? c : (c[b] ?? 0));

const combineInto = (out: Float64Array, coeffs: readonly Coef[], xs: readonly F64Batch[], dim: number): void => {
  let first = true;
  for (let i = 0; i < xs.length; i++) {
    const c = coeffs[i] ?? 0;
    const x = xs[i];
    if (x === undefined || (typeof c === 'number' && c === 0)) continue;
    const xd = x.data;
    if (typeof c === 'number') {
      if (first) for (let j = 0; j < out.length; j++) out[j] = c * (xd[j] as number);
      else for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) + c * (xd[j] as number);
    } else {
      for (let j = 0; j < out.length; j++) {
        const term = coefAt(c, Math.floor(j / dim)) * (xd[j] as number);
        out[j] = first ? term : (out[j] as number) + term;
      }
    }
    first = false;
  }
  if (first) out.fill(0);
};

type Reducer = (acc: number, v: number) => number;

const weighted = (err: F64Batch, y0: F64Batch, y1: F64Batch, tol: Tolerance, visit: (idx: number, v: number) => void): void => {
  const { rtol, atol } = tol;
  const e = err.data, a = y0.data, c = y1.data, dim = err.dim;
  const scalarTol = typeof rtol === 'number' && typeof atol === 'number';
  for (let idx = 0; idx < e.length; idx++) {
    const j = idx % dim;
    const r = scalarTol ? (rtol as number) : tolAt(rtol, j);
    const at = scalarTol ? (atol as number) : tolAt(atol, j);
    const sk = at + r * Math.max(Math.abs(a[idx] as number), Math.abs(c[idx] as number));
    visit(idx, (e[idx] as number) / sk);
  }
};

const reduceAll = (init: number, red: Reducer) => (err: F64Batch, y0: F64Batch, y1: F64Batch, tol: Tolerance): number => {
  let acc = init;
  weighted(err, y0, y1, tol, (_, v) => { acc = red(acc, v); });
  return acc;
};

const reduceRows = (init: number, red: Reducer) => (err: F64Batch, y0: F64Batch, y1: F64Batch, tol: Tolerance): Float64Array => {
  const acc = new Float64Array(err.batch).fill(init);
  const dim = err.dim;
  weighted(err, y0, y1, tol, (idx, v) => {
    const b = Math.floor(idx / dim);
    acc[b] = red(acc[b] as number, v);
  });
  return acc;
};

// NaN must propagate through max (Math.max does), and through the sum of squares.
const sq: Reducer = (acc, v) => acc + v * v;
const mx: Reducer = (acc, v) => (Number.isNaN(v) ? Number.NaN : Math.max(acc, Math.abs(v)));

/**
 * The float64 batched vector space.
 * @example
 * const y = f64Space.linComb([1, 0.5], [f64FromRows([[1]]), f64FromRows([[2]])]); // [[2]]
 */
export const f64Space: BatchedSpace<F64Batch> = {
  name: 'float64 batch',
  size: (x) => x.data.length,
  batchOf: (x) => x.batch,
  toleranceLength: (x) => x.dim,
  linComb: (coeffs, xs) => {
    const like = xs[0] as F64Batch;
    const out = new Float64Array(like.data.length);
    combineInto(out, coeffs, xs, like.dim);
    return { data: out, batch: like.batch, dim: like.dim };
  },
  linCombInto: (out, coeffs, xs) => combineInto(out.data, coeffs, xs, out.dim),
  linCombRows: (coeffs, xs) => {
    const like = xs[0] as F64Batch;
    const out = new Float64Array(like.data.length);
    combineInto(out, coeffs, xs, like.dim);
    return { data: out, batch: like.batch, dim: like.dim };
  },
  selectRows: (mask, whenTrue, whenFalse) => {
    const out = new Float64Array(whenTrue.data.length);
    const dim = whenTrue.dim;
    for (let b = 0; b < whenTrue.batch; b++) {
      const src = mask[b] ? whenTrue.data : whenFalse.data;
      out.set(src.subarray(b * dim, (b + 1) * dim), b * dim);
    }
    return { data: out, batch: whenTrue.batch, dim };
  },
  clone: (x) => ({ data: x.data.slice(), batch: x.batch, dim: x.dim }),
  weightedSumSq: reduceAll(0, sq),
  weightedMax: reduceAll(0, mx),
  weightedComponents: (err, y0, y1, tol) => {
    const out = new Float64Array(err.data.length);
    weighted(err, y0, y1, tol, (idx, v) => { out[idx] = v; });
    return out;
  },
  weightedRowSumSq: reduceRows(0, sq),
  weightedRowMax: reduceRows(0, mx),
  firstNonFinite: (x) => {
    const d = x.data;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i] as number)) return i;
    return -1;
  },
  toF64: (x) => x.data,
  fromF64: (data, like) => f64Batch(like.batch, like.dim, data),
};
