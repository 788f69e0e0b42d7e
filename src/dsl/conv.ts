/**
 * Convolutional building blocks on NHWC images, as builders over existing node kinds only:
 * a convolution is `patches` (im2col) followed by a batched matrix product with the reshaped
 * filter, so its derivatives come from the VJP rules of `patches` (→ `unpatches`) and `matmul`;
 * group normalisation is reshape + mean; average pooling is reshape + mean (non-overlapping)
 * or `patches` + mean; flatten is a reshape. The named batch dim N stays the leading axis
 * throughout, so every builder here is row-wise (see `adjoint/batch.ts`).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as X from './expr.ts';
import { formatShape, type Dim } from './shape.ts';
import { makeWindow, samePadding, type Window2d } from './window.ts';

/** Zero padding: TensorFlow's `'same'` (output `ceil(H / stride)`), `'valid'` (none), or a number per side. */
export type Padding = 'same' | 'valid' | number;

/** Options of `conv2d`. */
export interface Conv2dOptions {
  /** Default 1. */
  readonly stride?: number | readonly [number, number];
  /** Default `'valid'`. */
  readonly padding?: Padding;
  /** Default 1. */
  readonly dilation?: number | readonly [number, number];
}

const pair = (v: number | readonly [number, number]): readonly [number, number] => (typeof v === 'number' ? [v, v] : v);

const orThrow = <T>(r: E.Either<string, T>): T => {
  if (E.isLeft(r)) throw new Error(`fluxion: ${r.left}`);
  return r.right;
};

/**
 * The window of a `kh × kw` convolution over an `h × w` image.
 * @throws when a stride, dilation or padding is invalid
 * @example convWindow(7, 7, 3, 3, { padding: 'same', stride: 2 }) // 3×3, stride 2, pad 1
 */
export const convWindow = (h: number, w: number, kh: number, kw: number, opts: Conv2dOptions = {}): Window2d => {
  const [sh, sw] = pair(opts.stride ?? 1), [dh, dw] = pair(opts.dilation ?? 1);
  const p = opts.padding ?? 'valid';
  const [t, b] = p === 'same' ? samePadding(h, kh, sh, dh) : p === 'valid' ? [0, 0] : [p, p];
  const [l, r] = p === 'same' ? samePadding(w, kw, sw, dw) : p === 'valid' ? [0, 0] : [p, p];
  return orThrow(makeWindow({ kernel: [kh, kw], strides: [sh, sw], dilation: [dh, dw], padding: [t, b, l, r] }));
};

/**
 * 2-D convolution (cross-correlation, like `tf.conv2d`) of `x` `[N,H,W,Cin]` with `filter`
 * `[kh,kw,Cin,Cout]`: `patches(x) × reshape(filter, [kh·kw·Cin, Cout])` → `[N,H',W',Cout]`, one
 * batched matmul whose leading dims are `[N,H',W']`.
 * @throws when the filter's input channels differ from the image's
 * @example conv2d(x /* [B,28,28,1] *\/, W /* [3,3,1,64] *\/, { padding: 'same' }) // [B,28,28,64]
 */
export const conv2d = <N extends Dim>(
  x: X.Expr<X.NHWC<N>>, filter: X.Expr<readonly [number, number, number, number]>, opts: Conv2dOptions = {},
): X.Expr<X.NHWC<N>> => {
  const [, h, w, cin] = x.shape;
  const [kh, kw, fin, cout] = filter.shape;
  if (fin !== cin)
    throw new Error(`fluxion: conv2d filter ${formatShape(filter.shape)} expects ${fin} input channels, the image ${formatShape(x.shape)} has ${cin}`);
  const cols = X.patches(x, convWindow(h, w, kh, kw, opts));
  return X.batchMatmul(cols, X.reshape(filter, [kh * kw * cin, cout]));
};

/**
 * The ODE-Net dynamics convolution with time as an extra input channel: `t` broadcast to
 * `[N,H,W,1]` and concatenated after the image's channels, then `conv2d` with a filter of
 * `Cin + 1` input channels.
 * @example conv2dTimeChannel(h /* [B,7,7,64] *\/, t, W /* [3,3,65,64] *\/, { padding: 'same' }) // [B,7,7,64]
 */
export const conv2dTimeChannel = <N extends Dim>(
  x: X.Expr<X.NHWC<N>>, t: X.Expr<readonly []>, filter: X.Expr<readonly [number, number, number, number]>,
  opts: Conv2dOptions = {},
): X.Expr<X.NHWC<N>> => {
  const [n, h, w, c] = x.shape;
  const tt = X.broadcastTo(t, [n, h, w, 1]);
  return conv2d(X.withShape(X.concat([x, tt], 3), [n, h, w, c + 1]), filter, opts);
};

/**
 * Group normalisation (Wu & He, 2018): channels split into `groups`, each group normalised over
 * H, W and its channels per image (biased variance), then scaled by `gamma` and shifted by
 * `beta` (`[C]` each).
 * @throws when `groups` does not divide the channel count
 * @example groupNorm(h /* [B,7,7,64] *\/, 32, gamma, beta) // [B,7,7,64]
 */
export const groupNorm = <N extends Dim>(
  x: X.Expr<X.NHWC<N>>, groups: number, gamma: X.Expr<readonly [number]>, beta: X.Expr<readonly [number]>, eps = 1e-5,
): X.Expr<X.NHWC<N>> => {
  const [n, h, w, c] = x.shape;
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0)
    throw new Error(`fluxion: groupNorm needs a group count dividing ${c} channels, got ${groups}`);
  const g = X.reshape(x, [n, h, w, groups, c / groups]);
  const mu = X.meanAxes(g, [1, 2, 4], true);
  const d = X.broadcastBinary('sub', g, mu);
  const v = X.meanAxes(X.square(d), [1, 2, 4], true);
  const normed = X.reshape(X.broadcastBinary('div', d, X.sqrt(X.add(v, eps))), [n, h, w, c]);
  return X.add(X.mul(normed, gamma), beta);
};

/** Options of `avgPool2d`. */
export interface PoolOptions {
  /** Default: the pool size (non-overlapping windows). */
  readonly stride?: number | readonly [number, number];
  /** Zero padding per side, counted in the average (PyTorch's `count_include_pad`); default 0. */
  readonly padding?: number;
}

/**
 * Average pooling over `size` windows: a reshape and a mean for non-overlapping windows that
 * tile the image, else `patches` and a mean over the taps.
 * @example avgPool2d(h /* [B,28,28,64] *\/, 2) // [B,14,14,64]
 */
export const avgPool2d = <N extends Dim>(
  x: X.Expr<X.NHWC<N>>, size: number | readonly [number, number], opts: PoolOptions = {},
): X.Expr<X.NHWC<N>> => {
  const [n, h, w, c] = x.shape;
  const [kh, kw] = pair(size);
  const [sh, sw] = pair(opts.stride ?? [kh, kw]);
  const p = opts.padding ?? 0;
  if (p === 0 && sh === kh && sw === kw && h % kh === 0 && w % kw === 0) {
    const tiles = X.reshape(x, [n, h / kh, kh, w / kw, kw, c]);
    return X.withShape(X.meanAxes(tiles, [2, 4]), [n, h / kh, w / kw, c]);
  }
  const cols = X.patches(x, { kernel: [kh, kw], strides: [sh, sw], padding: p });
  const [, ph, pw] = cols.shape;
  return X.withShape(X.meanAxes(X.reshape(cols, [n, ph, pw, kh * kw, c]), [3]), [n, ph, pw, c]);
};

/**
 * Flattens each image to a row: `[N,H,W,C] → [N, H·W·C]` (row-major, so NHWC order).
 * @example flatten(h /* [B,7,7,64] *\/) // [B,3136]
 */
export const flatten = <N extends Dim>(x: X.Expr<X.NHWC<N>>): X.Expr<readonly [N, number]> => {
  const [n, h, w, c] = x.shape;
  return X.reshape(x, [n, h * w * c]);
};
