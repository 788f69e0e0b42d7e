/**
 * Direct nested-loop references for the convolutional builders, written independently of
 * `patches`: a convolution sums `x · filter` over the taps that land inside the image, average
 * pooling divides a window's sum by its size (padding counted), group normalisation loops over
 * each group. Float64, NHWC, row-major.
 */
import type { F64Tensor } from '../../src/interp/tensor.ts';

/** Window geometry of a reference computation. */
export interface RefWindow {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
}

const outSize = (size: number, k: number, s: number, before: number, after: number, d: number): number =>
  Math.floor((size + before + after - (k - 1) * d - 1) / s) + 1;

const visit = (
  x: F64Tensor, win: RefWindow,
  body: (n: number, p: number, q: number, i: number, j: number, row: number, col: number, inside: boolean) => void,
): readonly [number, number] => {
  const [n, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = win.kernel, [sh, sw] = win.strides, [dh, dw] = win.dilation, [t, b, l, r] = win.padding;
  const ph = outSize(h, kh, sh, t, b, dh), pw = outSize(w, kw, sw, l, r, dw);
  for (let m = 0; m < n; m++)
    for (let p = 0; p < ph; p++)
      for (let q = 0; q < pw; q++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const row = p * sh + i * dh - t, col = q * sw + j * dw - l;
            body(m, p, q, i, j, row, col, row >= 0 && row < h && col >= 0 && col < w);
          }
  return [ph, pw];
};

/**
 * `tf.conv2d` semantics (cross-correlation) with explicit padding and dilation.
 * @example directConv(x, f, { kernel: [3, 3], strides: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1] })
 */
export const directConv = (x: F64Tensor, filter: F64Tensor, win: RefWindow): F64Tensor => {
  const [n, h, w, cin] = x.shape as [number, number, number, number];
  const [, kw, , cout] = filter.shape as [number, number, number, number];
  const grid = visit(x, win, () => undefined);
  const [ph, pw] = grid;
  const out = new Float64Array(n * ph * pw * cout);
  visit(x, win, (m, p, q, i, j, row, col, inside) => {
    if (!inside) return;
    for (let c = 0; c < cin; c++) {
      const xv = x.data[((m * h + row) * w + col) * cin + c] as number;
      for (let o = 0; o < cout; o++) {
        const at = ((m * ph + p) * pw + q) * cout + o;
        out[at] = (out[at] as number) + xv * (filter.data[((i * kw + j) * cin + c) * cout + o] as number);
      }
    }
  });
  return { shape: [n, ph, pw, cout], data: out };
};

/** Average pooling with zero padding counted in every window. @example directAvgPool(x, win) */
export const directAvgPool = (x: F64Tensor, win: RefWindow): F64Tensor => {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [ph, pw] = visit(x, win, () => undefined);
  const out = new Float64Array(n * ph * pw * c);
  const taps = win.kernel[0] * win.kernel[1];
  visit(x, win, (m, p, q, _i, _j, row, col, inside) => {
    if (!inside) return;
    for (let ch = 0; ch < c; ch++) {
      const at = ((m * ph + p) * pw + q) * c + ch;
      out[at] = (out[at] as number) + (x.data[((m * h + row) * w + col) * c + ch] as number) / taps;
    }
  });
  return { shape: [n, ph, pw, c], data: out };
};

/** Group normalisation with biased variance, then `γ·x̂ + β` per channel. @example directGroupNorm(x, 2, g, b, 1e-5) */
export const directGroupNorm = (x: F64Tensor, groups: number, gamma: F64Tensor, beta: F64Tensor, eps: number): F64Tensor => {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const per = c / groups;
  const out = new Float64Array(x.data.length);
  for (let m = 0; m < n; m++)
    for (let g = 0; g < groups; g++) {
      const at: number[] = [];
      for (let p = 0; p < h * w; p++) for (let k = 0; k < per; k++) at.push((m * h * w + p) * c + g * per + k);
      const mean = at.reduce((s, i) => s + (x.data[i] as number), 0) / at.length;
      const v = at.reduce((s, i) => s + ((x.data[i] as number) - mean) ** 2, 0) / at.length;
      for (const i of at) {
        const ch = i % c;
        out[i] = (gamma.data[ch] as number) * ((x.data[i] as number) - mean) / Math.sqrt(v + eps) + (beta.data[ch] as number);
      }
    }
  return { shape: x.shape, data: out };
};

/**
 * Asserts |a − b| ≤ tol·(1 + |b|) elementwise.
 * @throws naming the first element that differs
 * @example expectClose(got.data, want.data, 1e-12, 'conv')
 */
export const expectClose = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, label: string): void => {
  if (a.length !== b.length) throw new Error(`${label}: ${a.length} vs ${b.length} elements`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number, y = b[i] as number;
    if (!(Math.abs(x - y) <= tol * (1 + Math.abs(y)))) throw new Error(`${label}[${i}]: ${x} vs ${y}`);
  }
};
