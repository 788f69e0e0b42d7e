/**
 * Hand-written float64 references for the latent-model tests: a GRU step with per-gate loops
 * (the textbook form h' = (1 − z)·n + z·h), a linear layer, and small tensor helpers. Nothing
 * here uses the DSL, so a test compares two independent implementations.
 */
import type { F64Tensor } from '../../src/interp/tensor.ts';

/** A row-major matrix `[rows, cols]`. */
export interface Mat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export const mat = (t: F64Tensor): Mat => ({ rows: t.shape[0] as number, cols: t.data.length / (t.shape[0] as number), data: t.data });
export const at = (m: Mat, i: number, j: number): number => m.data[i * m.cols + j] as number;
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** `x W + b` for rows of `x`. */
export const linearRef = (x: Mat, W: Mat, b: Float64Array): Mat => {
  const out = new Float64Array(x.rows * W.cols);
  for (let i = 0; i < x.rows; i++)
    for (let j = 0; j < W.cols; j++) {
      let s = b[j] as number;
      for (let k = 0; k < x.cols; k++) s += at(x, i, k) * at(W, k, j);
      out[i * W.cols + j] = s;
    }
  return { rows: x.rows, cols: W.cols, data: out };
};

/** GRU parameters in the fused layout of `gru` (gate order r, z, n). */
export interface GruRef {
  readonly Wi: Mat;
  readonly Wh: Mat;
  readonly bi: Float64Array;
  readonly bh: Float64Array;
}

/** One PyTorch GRU step, written gate by gate. */
export const gruStepRef = (p: GruRef, h: Mat, x: Mat): Mat => {
  const H = h.cols;
  const out = new Float64Array(h.rows * H);
  const pre = (W: Mat, b: Float64Array, v: Mat, i: number, col: number): number => {
    let s = b[col] as number;
    for (let k = 0; k < v.cols; k++) s += at(v, i, k) * at(W, k, col);
    return s;
  };
  for (let i = 0; i < h.rows; i++)
    for (let j = 0; j < H; j++) {
      const r = sigmoid(pre(p.Wi, p.bi, x, i, j) + pre(p.Wh, p.bh, h, i, j));
      const z = sigmoid(pre(p.Wi, p.bi, x, i, H + j) + pre(p.Wh, p.bh, h, i, H + j));
      const n = Math.tanh(pre(p.Wi, p.bi, x, i, 2 * H + j) + r * pre(p.Wh, p.bh, h, i, 2 * H + j));
      out[i * H + j] = (1 - z) * n + z * at(h, i, j);
    }
  return { rows: h.rows, cols: H, data: out };
};

/** Rows `[x | y]`. */
export const hcat = (x: Mat, y: Mat): Mat => {
  const out = new Float64Array(x.rows * (x.cols + y.cols));
  for (let i = 0; i < x.rows; i++) {
    for (let k = 0; k < x.cols; k++) out[i * (x.cols + y.cols) + k] = at(x, i, k);
    for (let k = 0; k < y.cols; k++) out[i * (x.cols + y.cols) + x.cols + k] = at(y, i, k);
  }
  return { rows: x.rows, cols: x.cols + y.cols, data: out };
};

/** The GRU parameters named `${prefix}_Wi` etc. from a parameter record. */
export const gruParams = (values: Readonly<Record<string, F64Tensor>>, prefix: string): GruRef => {
  const get = (k: string): F64Tensor => {
    const v = values[`${prefix}_${k}`];
    if (v === undefined) throw new Error(`no parameter ${prefix}_${k}`);
    return v;
  };
  return { Wi: mat(get('Wi')), Wh: mat(get('Wh')), bi: get('bi').data, bh: get('bh').data };
};

/** Asserts elementwise |a − b| ≤ tol·(1 + |b|); returns the worst absolute error. */
export const assertClose = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, label: string): number => {
  if (a.length !== b.length) throw new Error(`${label}: lengths ${a.length} and ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs((a[i] as number) - (b[i] as number));
    if (!(e <= tol * (1 + Math.abs(b[i] as number)))) throw new Error(`${label}[${i}]: ${a[i]} vs ${b[i]}`);
    worst = Math.max(worst, e);
  }
  return worst;
};
