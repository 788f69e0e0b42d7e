/**
 * The window node kinds in TensorFlow.js, built from pad, slice, reshape, concat and addN only:
 * exact (no multiplication, so ±∞ and NaN stay where they are, unlike a one-hot `conv2d`),
 * differentiable by `tf.grad`, and cheap (`kh·kw` slices, not a `(kh·kw·C)²` convolution).
 *
 * `patches`: pad the image (plus enough rows and columns for the strided reshape), then per tap
 * slice the rows `i·dh + p·sh` and columns `j·dw + q·sw` (a strided gather is a slice of a
 * `[N, H', sh, W', sw, C]` view) and concatenate the taps along channels. `unpatches` is the
 * transpose of each step in reverse: split channels, spread with zeros, pad into place, add,
 * crop the padding.
 */
import * as tf from '@tensorflow/tfjs';
import type { Window2d } from '../dsl/window.ts';

/** Fixed sizes of a window over an image: everything but the batch. */
interface Geometry {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly ph: number;
  readonly pw: number;
  /** Rows and columns of the padded image, extended so every tap's strided view fits. */
  readonly hx: number;
  readonly wx: number;
}

const geometry = (win: Window2d, image: readonly number[], grid: readonly number[]): Geometry => {
  const [, h, w, c] = image as [number, number, number, number];
  const [, ph, pw] = grid as [number, number, number];
  const [kh, kw] = win.kernel, [sh, sw] = win.strides, [dh, dw] = win.dilation, [t, b, l, r] = win.padding;
  const hx = Math.max(h + t + b, (kh - 1) * dh + ph * sh);
  const wx = Math.max(w + l + r, (kw - 1) * dw + pw * sw);
  return { h, w, c, ph, pw, hx, wx };
};

const taps = (win: Window2d): readonly (readonly [number, number])[] =>
  Array.from({ length: win.kernel[0] * win.kernel[1] }, (_, t) => [Math.floor(t / win.kernel[1]), t % win.kernel[1]] as const);

/**
 * im2col of `x` `[N,H,W,C]` to the node's `[N,H',W',kh·kw·C]` (`grid`, numeric but for N).
 * @example patchesTfjs(x, window, [n, 7, 7, 576])
 */
export const patchesTfjs = (x: tf.Tensor, win: Window2d, grid: readonly number[]): tf.Tensor => {
  const n = x.shape[0] as number;
  const g = geometry(win, x.shape, grid);
  const [sh, sw] = win.strides, [dh, dw] = win.dilation, [t, , l] = win.padding;
  const padded = tf.pad(x, [[0, 0], [t, g.hx - g.h - t], [l, g.wx - g.w - l], [0, 0]]);
  const strided = sh !== 1 || sw !== 1;
  const blocks = taps(win).map(([i, j]) => {
    const s = tf.slice(padded, [0, i * dh, j * dw, 0], [n, g.ph * sh, g.pw * sw, g.c]);
    if (!strided) return s;
    const view = tf.reshape(s, [n, g.ph, sh, g.pw, sw, g.c]);
    return tf.reshape(tf.slice(view, [0, 0, 0, 0, 0, 0], [n, g.ph, 1, g.pw, 1, g.c]), [n, g.ph, g.pw, g.c]);
  });
  return blocks.length === 1 ? (blocks[0] as tf.Tensor) : tf.concat(blocks, 3);
};

/**
 * col2im of `y` `[N,H',W',kh·kw·C]` to the node's image shape `[N,H,W,C]`.
 * @example unpatchesTfjs(cols, window, [n, 7, 7, 64])
 */
export const unpatchesTfjs = (y: tf.Tensor, win: Window2d, image: readonly number[]): tf.Tensor => {
  const n = y.shape[0] as number;
  const g = geometry(win, image, y.shape);
  const [sh, sw] = win.strides, [dh, dw] = win.dilation, [t, , l] = win.padding;
  const strided = sh !== 1 || sw !== 1;
  const terms = taps(win).map(([i, j]) => {
    let s = tf.slice(y, [0, 0, 0, (i * win.kernel[1] + j) * g.c], [n, g.ph, g.pw, g.c]);
    if (strided) {
      const spread = tf.pad(tf.reshape(s, [n, g.ph, 1, g.pw, 1, g.c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
      s = tf.reshape(spread, [n, g.ph * sh, g.pw * sw, g.c]);
    }
    return tf.pad(s, [[0, 0], [i * dh, g.hx - i * dh - g.ph * sh], [j * dw, g.wx - j * dw - g.pw * sw], [0, 0]]);
  });
  const sum = terms.length === 1 ? (terms[0] as tf.Tensor) : tf.addN(terms);
  return tf.slice(sum, [0, t, l, 0], [n, g.h, g.w, g.c]);
};
