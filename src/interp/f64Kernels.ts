/**
 * Float64 array kernels for the reference evaluator: broadcasting, matmul, reductions and the
 * structural ops. Plain loops over row-major data; clarity first (the generated kernel of the
 * performance work is the fast path).
 */
import { sizeOf, stridesOf, type F64Tensor } from './tensor.ts';

/** Strides of `shape` read as if broadcast to `out` (0 on stretched or missing axes). */
const broadcastStrides = (shape: readonly number[], out: readonly number[]): number[] => {
  const st = stridesOf(shape);
  const off = out.length - shape.length;
  return out.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : (st[i - off] as number)));
};

/**
 * Visits every multi-index of `shape` in row-major order, tracking one linear offset per
 * stride set; calls `f(k, offsets)` with the running output index `k`.
 */
const walk = (shape: readonly number[], strides: readonly (readonly number[])[], f: (k: number, offs: Int32Array | number[]) => void): void => {
  const rank = shape.length;
  const n = sizeOf(shape);
  if (n === 0) return;
  const idx = new Array<number>(rank).fill(0);
  const offs = strides.map(() => 0);
  for (let k = 0; k < n; k++) {
    f(k, offs);
    for (let ax = rank - 1; ax >= 0; ax--) {
      idx[ax] = (idx[ax] as number) + 1;
      for (let s = 0; s < strides.length; s++) offs[s] = (offs[s] as number) + ((strides[s] as readonly number[])[ax] as number);
      if ((idx[ax] as number) < (shape[ax] as number)) break;
      for (let s = 0; s < strides.length; s++)
        offs[s] = (offs[s] as number) - ((strides[s] as readonly number[])[ax] as number) * (shape[ax] as number);
      idx[ax] = 0;
    }
  }
};

/**
 * Elementwise binary op with broadcasting to `out`.
 * @example binaryKernel(Math.max, a, b, [2, 3])
 */
export const binaryKernel = (f: (a: number, b: number) => number, a: F64Tensor, b: F64Tensor, out: readonly number[]): F64Tensor => {
  const n = sizeOf(out);
  const r = new Float64Array(n);
  const ad = a.data, bd = b.data;
  if (ad.length === n && bd.length === n) {
    for (let i = 0; i < n; i++) r[i] = f(ad[i] as number, bd[i] as number);
  } else if (bd.length === 1 && ad.length === n) {
    const y = bd[0] as number;
    for (let i = 0; i < n; i++) r[i] = f(ad[i] as number, y);
  } else if (ad.length === 1 && bd.length === n) {
    const x = ad[0] as number;
    for (let i = 0; i < n; i++) r[i] = f(x, bd[i] as number);
  } else {
    walk(out, [broadcastStrides(a.shape, out), broadcastStrides(b.shape, out)], (k, o) => {
      r[k] = f(ad[o[0] as number] as number, bd[o[1] as number] as number);
    });
  }
  return { shape: out, data: r };
};

/** `numpy.broadcast_to`. @example broadcastKernel(b, [20, 50]) */
export const broadcastKernel = (a: F64Tensor, out: readonly number[]): F64Tensor => {
  const r = new Float64Array(sizeOf(out));
  const ad = a.data;
  walk(out, [broadcastStrides(a.shape, out)], (k, o) => {
    r[k] = ad[o[0] as number] as number;
  });
  return { shape: out, data: r };
};

/**
 * `[…L,M,K] × […L,K,N] → […L,M,N]`, a rank-2 operand shared by every leading index; `out` is the
 * node's resolved shape. Each output sums over k in increasing order from 0.
 * @example matmulKernel(x, w, [20, 50])
 */
export const matmulKernel = (a: F64Tensor, b: F64Tensor, out: readonly number[]): F64Tensor => {
  const ar = a.shape.length, br = b.shape.length;
  const m = a.shape[ar - 2] as number, k = a.shape[ar - 1] as number, n = b.shape[br - 1] as number;
  const batch = sizeOf(out.slice(0, -2));
  const aStep = ar > 2 ? m * k : 0, bStep = br > 2 ? k * n : 0;
  const r = new Float64Array(batch * m * n);
  const ad = a.data, bd = b.data;
  for (let l = 0; l < batch; l++) {
    const a0 = l * aStep, b0 = l * bStep, o0 = l * m * n;
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) {
        const aip = ad[a0 + i * k + p] as number;
        const row = b0 + p * n, o = o0 + i * n;
        for (let j = 0; j < n; j++) r[o + j] = (r[o + j] as number) + aip * (bd[row + j] as number);
      }
    }
  }
  return { shape: out, data: r };
};

/** Output shape (keepDims) and strides mapping input indices to reduced positions. */
const reducePlan = (shape: readonly number[], axes: readonly number[]) => {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const st = stridesOf(kept);
  return { kept, strides: shape.map((_, i) => (axes.includes(i) ? 0 : (st[i] as number))) };
};

/**
 * Sum, mean or stable log-sum-exp over `axes`; `outShape` is the node's (keepDims or not).
 * @example reduceKernel('sum', x, [1], [2])
 */
export const reduceKernel = (op: 'sum' | 'mean' | 'logsumexp', a: F64Tensor, axes: readonly number[], outShape: readonly number[]): F64Tensor => {
  const { kept, strides } = reducePlan(a.shape, axes);
  const n = sizeOf(kept);
  const count = axes.reduce((c, ax) => c * (a.shape[ax] as number), 1);
  const r = new Float64Array(n);
  const ad = a.data;
  if (op === 'logsumexp') {
    const mx = new Float64Array(n).fill(-Infinity);
    walk(a.shape, [strides], (k, o) => {
      const v = ad[k] as number, j = o[0] as number;
      // NaN must win over any number, so compare with `!(v <= m)`.
      if (!(v <= (mx[j] as number))) mx[j] = v;
    });
    walk(a.shape, [strides], (k, o) => {
      const j = o[0] as number, m = mx[j] as number;
      r[j] = (r[j] as number) + (Number.isFinite(m) ? Math.exp((ad[k] as number) - m) : (ad[k] as number) === m ? 1 : 0);
    });
    for (let j = 0; j < n; j++) {
      const m = mx[j] as number;
      r[j] = Number.isNaN(m) ? NaN : m === -Infinity ? -Infinity : m + Math.log(r[j] as number);
    }
  } else {
    walk(a.shape, [strides], (k, o) => {
      const j = o[0] as number;
      r[j] = (r[j] as number) + (ad[k] as number);
    });
    if (op === 'mean') for (let j = 0; j < n; j++) r[j] = (r[j] as number) / count;
  }
  return { shape: outShape, data: r };
};

/** Axis permutation: output axis i is input axis perm[i]. @example transposeKernel(w, [1, 0]) */
export const transposeKernel = (a: F64Tensor, perm: readonly number[]): F64Tensor => {
  const st = stridesOf(a.shape);
  const out = perm.map((p) => a.shape[p] as number);
  const r = new Float64Array(a.data.length);
  const ad = a.data;
  walk(out, [perm.map((p) => st[p] as number)], (k, o) => {
    r[k] = ad[o[0] as number] as number;
  });
  return { shape: out, data: r };
};

/** Concatenation along `axis`. @example concatKernel([a, b], 1) */
export const concatKernel = (xs: readonly F64Tensor[], axis: number): F64Tensor => {
  const first = xs[0] as F64Tensor;
  const outer = sizeOf(first.shape.slice(0, axis));
  const inner = sizeOf(first.shape.slice(axis + 1));
  const total = xs.reduce((s, x) => s + (x.shape[axis] as number), 0);
  const shape = first.shape.map((d, i) => (i === axis ? total : d));
  const r = new Float64Array(sizeOf(shape));
  let col = 0;
  for (const x of xs) {
    const w = (x.shape[axis] as number) * inner;
    for (let o = 0; o < outer; o++) r.set(x.data.subarray(o * w, (o + 1) * w), o * total * inner + col);
    col += w;
  }
  return { shape, data: r };
};

/** `a[begin : begin + size]` per axis. @example sliceKernel(z, [0, 1], [20, 1]) */
export const sliceKernel = (a: F64Tensor, begin: readonly number[], size: readonly number[]): F64Tensor => {
  const st = stridesOf(a.shape);
  const base = begin.reduce((s, b, i) => s + b * (st[i] as number), 0);
  const r = new Float64Array(sizeOf(size));
  const ad = a.data;
  walk(size, [st], (k, o) => {
    r[k] = ad[base + (o[0] as number)] as number;
  });
  return { shape: size, data: r };
};
