/**
 * Sliding windows over the two spatial axes of an NHWC image: the attributes shared by the
 * `patches` and `unpatches` node kinds, their validation, output sizes, TensorFlow's `'same'`
 * padding, and the one index map every interpreter walks (`tapRange`). Pure integer geometry.
 */
import * as E from 'fp-ts/lib/Either.js';

/** A window: kernel `(kh, kw)`, strides, zero padding `(top, bottom, left, right)`, dilation. */
export interface Window2d {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
}

/** A window as callers write it: one number stands for both axes (or all four pads). */
export interface WindowSpec {
  readonly kernel: number | readonly [number, number];
  /** Default 1. */
  readonly strides?: number | readonly [number, number];
  /** `(top, bottom, left, right)`, default 0. */
  readonly padding?: number | readonly [number, number, number, number];
  /** Default 1. */
  readonly dilation?: number | readonly [number, number];
}

const pair = (v: number | readonly [number, number]): readonly [number, number] => (typeof v === 'number' ? [v, v] : v);
const quad = (v: number | readonly [number, number, number, number]): readonly [number, number, number, number] =>
  typeof v === 'number' ? [v, v, v, v] : v;

/** Largest attribute accepted (sizes stay far from overflow in index arithmetic). */
export const maxWindowAttr = 2 ** 20;

const check = (what: string, xs: readonly number[], min: number): string | undefined =>
  xs.every((v) => Number.isSafeInteger(v) && v >= min && v <= maxWindowAttr)
    ? undefined
    : `${what} must be integers in [${min}, ${maxWindowAttr}], got [${xs.join(',')}]`;

/**
 * A validated, frozen window.
 * @example makeWindow({ kernel: 3, padding: 1 }) // right({ kernel: [3,3], strides: [1,1], padding: [1,1,1,1], dilation: [1,1] })
 */
export const makeWindow = (spec: WindowSpec): E.Either<string, Window2d> => {
  const kernel = pair(spec.kernel), strides = pair(spec.strides ?? 1), dilation = pair(spec.dilation ?? 1);
  const padding = quad(spec.padding ?? 0);
  if (kernel.length !== 2 || strides.length !== 2 || dilation.length !== 2 || padding.length !== 4)
    return E.left('a window needs 2 kernel sizes, 2 strides, 2 dilations and 4 paddings');
  const bad = check('kernel sizes', kernel, 1) ?? check('strides', strides, 1) ?? check('dilations', dilation, 1) ??
    check('paddings', padding, 0);
  if (bad !== undefined) return E.left(bad);
  return E.right(Object.freeze({
    kernel: Object.freeze([kernel[0], kernel[1]] as const),
    strides: Object.freeze([strides[0], strides[1]] as const),
    padding: Object.freeze([padding[0], padding[1], padding[2], padding[3]] as const),
    dilation: Object.freeze([dilation[0], dilation[1]] as const),
  }));
};

/** The part of an interning key that determines a window. @example windowKey(w) // '3,3|1,1|1,1,1,1|1,1' */
export const windowKey = (w: Window2d): string =>
  `${w.kernel.join(',')}|${w.strides.join(',')}|${w.padding.join(',')}|${w.dilation.join(',')}`;

/** Number of window positions along one axis, or `undefined` when the window does not fit. */
const positions = (size: number, k: number, s: number, before: number, after: number, d: number): number | undefined => {
  const span = (k - 1) * d + 1;
  const padded = size + before + after;
  return padded < span ? undefined : Math.floor((padded - span) / s) + 1;
};

/**
 * The spatial output size `(H', W')` of `patches` on an `H × W` image.
 * @example patchGrid(w /* 3×3, stride 2 *\/, 7, 7) // right([3, 3])
 */
export const patchGrid = (w: Window2d, h: number, wd: number): E.Either<string, readonly [number, number]> => {
  const [kh, kw] = w.kernel, [sh, sw] = w.strides, [dh, dw] = w.dilation, [t, b, l, r] = w.padding;
  const ph = positions(h, kh, sh, t, b, dh), pw = positions(wd, kw, sw, l, r, dw);
  if (ph === undefined || pw === undefined)
    return E.left(`window ${formatWindow(w)} is larger than the padded ${h + t + b}×${wd + l + r} image`);
  return E.right([ph, pw]);
};

/**
 * TensorFlow's `'same'` padding on one axis: output `ceil(size / stride)`, the missing rows split
 * with the extra one after. Returns `[before, after]`.
 * @example samePadding(7, 3, 2) // [1, 1]
 */
export const samePadding = (size: number, k: number, s: number, d = 1): readonly [number, number] => {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + (k - 1) * d + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
};

/**
 * For kernel tap `i` along an axis (window positions `p`, input rows `p·s + i·d − before`), the
 * positions whose row lies inside `[0, size)`: `[lo, hi)`, possibly empty, and the row of `lo`.
 * @example tapRange(3, 1, 0, 1, 1, 3) // { lo: 1, hi: 3, row: 0 }: position 0 reads row −1 (padding)
 */
export const tapRange = (
  count: number, s: number, i: number, d: number, before: number, size: number,
): { readonly lo: number; readonly hi: number; readonly row: number } => {
  const off = i * d - before;
  const lo = Math.min(count, Math.max(0, Math.ceil(-off / s)));
  const hi = Math.max(lo, Math.min(count, Math.floor((size - 1 - off) / s) + 1));
  return { lo, hi, row: lo * s + off };
};

const axisText = (a: number, b: number, sep: string): string => (a === b ? String(a) : `${a}${sep}${b}`);

/**
 * A window as a reader sees it; defaults (stride 1, pad 0, dilation 1) are left out. `times`
 * separates the kernel sizes (`'x'` for ASCII).
 * @example formatWindow(w) // '3×3, stride 2, pad 1'
 */
export const formatWindow = (w: Window2d, times = '×'): string => {
  const [t, b, l, r] = w.padding;
  const parts = [`${w.kernel[0]}${times}${w.kernel[1]}`];
  if (w.strides[0] !== 1 || w.strides[1] !== 1) parts.push(`stride ${axisText(w.strides[0], w.strides[1], ',')}`);
  if (w.padding.some((p) => p !== 0)) parts.push(`pad ${t === b && b === l && l === r ? t : w.padding.join(',')}`);
  if (w.dilation[0] !== 1 || w.dilation[1] !== 1) parts.push(`dilation ${axisText(w.dilation[0], w.dilation[1], ',')}`);
  return parts.join(', ');
};
