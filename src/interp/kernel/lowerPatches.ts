/**
 * Lowering of the window node kinds to strided copies, one per kernel tap (`tapBlocks`, the
 * order the reference evaluator uses): `patches` copies each tap's image block into its channel
 * range of the patch rows, after zeroing the output when some window overhangs the image;
 * `unpatches` zeroes the image and adds each tap's channel range back into it (`accumulate`),
 * so every image element sums its contributions in the reference order, bit for bit.
 */
import type { Window2d } from '../../dsl/window.ts';
import { tapBlocks, type TapBlock } from '../f64Patches.ts';
import { stridesOf } from '../tensor.ts';
import type { Instr, ValueId } from './tape.ts';

/** Where one tap block lives in the image and in the patch rows: bases and strides over `dims`. */
interface BlockMap {
  readonly dims: readonly number[];
  readonly imageBase: number;
  readonly imageStrides: readonly number[];
  readonly patchBase: number;
  readonly patchStrides: readonly number[];
}

const blockMap = (win: Window2d, image: readonly number[], grid: readonly number[], b: TapBlock): BlockMap => {
  const [n, h, w, c] = image as [number, number, number, number];
  const [, ph, pw, k] = grid as [number, number, number, number];
  const [sh, sw] = win.strides;
  return {
    dims: [n, b.p1 - b.p0, b.q1 - b.q0, c],
    imageBase: (b.row * w + b.col) * c,
    imageStrides: [h * w * c, sh * w * c, sw * c, 1],
    patchBase: (b.p0 * pw + b.q0) * k + b.channel,
    patchStrides: [ph * pw * k, pw * k, k, 1],
  };
};

const zeroFill = (out: ValueId, dims: readonly number[], zero: ValueId): Instr =>
  ({ kind: 'copy', out, x: zero, dims, outBase: 0, outStrides: stridesOf(dims), xBase: 0, xStrides: dims.map(() => 0) });

/**
 * The instructions of a window node over the resolved `image` `[N,H,W,C]` and `grid`
 * `[N,H',W',kh·kw·C]` shapes: `patches` writes `cols` from `img`, `unpatches` writes `img` from
 * `cols`. `zero` gives a value holding one 0 (asked for only when needed).
 * @example windowInstrs('patches', window, [2, 7, 7, 64], [2, 7, 7, 576], xValue, outValue, zero)
 */
export const windowInstrs = (
  kind: 'patches' | 'unpatches', win: Window2d, image: readonly number[], grid: readonly number[],
  img: ValueId, cols: ValueId, zero: () => ValueId,
): readonly Instr[] => {
  const [, h, w, c] = image as [number, number, number, number];
  const [, ph, pw] = grid as [number, number, number];
  const blocks = tapBlocks(win, h, w, ph, pw, c);
  const maps = blocks.map((b) => blockMap(win, image, grid, b));
  if (kind === 'patches') {
    const covers = blocks.length === win.kernel[0] * win.kernel[1] &&
      blocks.every((b) => b.p0 === 0 && b.p1 === ph && b.q0 === 0 && b.q1 === pw);
    return [
      ...(covers ? [] : [zeroFill(cols, grid, zero())]),
      ...maps.map((m): Instr => ({
        kind: 'copy', out: cols, x: img, dims: m.dims,
        outBase: m.patchBase, outStrides: m.patchStrides, xBase: m.imageBase, xStrides: m.imageStrides,
      })),
    ];
  }
  return [
    zeroFill(img, image, zero()),
    ...maps.map((m): Instr => ({
      kind: 'accumulate', out: img, x: cols, dims: m.dims,
      outBase: m.imageBase, outStrides: m.imageStrides, xBase: m.patchBase, xStrides: m.patchStrides,
    })),
  ];
};
