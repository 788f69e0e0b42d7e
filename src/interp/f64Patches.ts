/**
 * Float64 kernels of the two window node kinds, the reference semantics of `patches` (im2col) and
 * `unpatches` (col2im). Both walk the kernel taps `(i, j)` in row-major order and, per tap, the
 * window positions whose input pixel lies inside the image (`tapRange`): `patches` copies, and
 * `unpatches` adds into a zeroed image, so each image element sums its contributions in tap
 * order. The generated kernel follows the same order and agrees bit for bit.
 */
import { tapRange, type Window2d } from '../dsl/window.ts';
import { sizeOf, type F64Tensor } from './tensor.ts';

/**
 * One rectangular block per kernel tap: the positions `[p0, p1) × [q0, q1)` it reaches, the first
 * image pixel `(row, col)` and its channel offset `(i·kw + j)·C` in a patch row.
 */
export interface TapBlock {
  readonly p0: number;
  readonly p1: number;
  readonly q0: number;
  readonly q1: number;
  readonly row: number;
  readonly col: number;
  readonly channel: number;
}

/**
 * The taps of a window over an `h × w` image with `ph × pw` positions and `c` channels, in
 * row-major tap order; taps that reach no pixel are left out.
 * @example tapBlocks(window, 7, 7, 7, 7, 64).length // 9 for 3×3, pad 1
 */
export const tapBlocks = (
  win: Window2d, h: number, w: number, ph: number, pw: number, c: number,
): readonly TapBlock[] => {
  const [kh, kw] = win.kernel, [sh, sw] = win.strides, [dh, dw] = win.dilation;
  const [top, , left] = win.padding;
  const out: TapBlock[] = [];
  for (let i = 0; i < kh; i++) {
    const r = tapRange(ph, sh, i, dh, top, h);
    for (let j = 0; j < kw; j++) {
      const q = tapRange(pw, sw, j, dw, left, w);
      if (r.hi > r.lo && q.hi > q.lo)
        out.push({ p0: r.lo, p1: r.hi, q0: q.lo, q1: q.hi, row: r.row, col: q.row, channel: (i * kw + j) * c });
    }
  }
  return out;
};

/**
 * Visits every element a tap block moves: `f(imageOffset, patchOffset)` for batch row `n`,
 * positions `(p, q)` and channel `c`, in row-major order.
 */
const eachInBlock = (
  img: readonly number[], grid: readonly number[], win: Window2d, b: TapBlock,
  f: (imageAt: number, patchAt: number) => void,
): void => {
  const [n, h, w, c] = img as [number, number, number, number];
  const [, ph, pw, k] = grid as [number, number, number, number];
  const [sh, sw] = win.strides;
  for (let m = 0; m < n; m++) {
    for (let p = b.p0; p < b.p1; p++) {
      const row = b.row + (p - b.p0) * sh;
      for (let q = b.q0; q < b.q1; q++) {
        const col = b.col + (q - b.q0) * sw;
        const imageAt = ((m * h + row) * w + col) * c;
        const patchAt = ((m * ph + p) * pw + q) * k + b.channel;
        for (let ch = 0; ch < c; ch++) f(imageAt + ch, patchAt + ch);
      }
    }
  }
};

/**
 * im2col on `[N,H,W,C]`; `outShape` is the node's `[N,H',W',kh·kw·C]`.
 * @example patchesKernel(x, window, [2, 7, 7, 576])
 */
export const patchesKernel = (x: F64Tensor, win: Window2d, outShape: readonly number[]): F64Tensor => {
  const [, h, w, c] = x.shape as [number, number, number, number];
  const [, ph, pw] = outShape as [number, number, number];
  const r = new Float64Array(sizeOf(outShape));
  const xd = x.data;
  for (const b of tapBlocks(win, h, w, ph, pw, c))
    eachInBlock(x.shape, outShape, win, b, (imageAt, patchAt) => { r[patchAt] = xd[imageAt] as number; });
  return { shape: outShape, data: r };
};

/**
 * col2im on `[N,H',W',kh·kw·C]`; `outShape` is the node's image shape `[N,H,W,C]`.
 * @example unpatchesKernel(cols, window, [2, 7, 7, 64])
 */
export const unpatchesKernel = (y: F64Tensor, win: Window2d, outShape: readonly number[]): F64Tensor => {
  const [, h, w, c] = outShape as [number, number, number, number];
  const [, ph, pw] = y.shape as [number, number, number];
  const r = new Float64Array(sizeOf(outShape));
  const yd = y.data;
  for (const b of tapBlocks(win, h, w, ph, pw, c))
    eachInBlock(outShape, y.shape, win, b, (imageAt, patchAt) => { r[imageAt] = (r[imageAt] as number) + (yd[patchAt] as number); });
  return { shape: outShape, data: r };
};
