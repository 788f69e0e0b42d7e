/**
 * Checked constructors of the untyped IR. Each validates its inputs, infers the output shape
 * and interns the node. Failures are `Left` with a message naming the op and the shapes, which
 * the JSON decoder prefixes with a path and the typed facade turns into a thrown bug report.
 */
import * as E from 'fp-ts/lib/Either.js';
import { intern } from './intern.ts';
import type {
  BinaryNode, BroadcastNode, ConcatNode, ConstNode, MatmulNode, Node, PatchesNode, ReduceNode, ReshapeNode,
  SliceNode, TransposeNode, UnaryNode, UnpatchesNode, VarNode,
} from './node.ts';
import type { BinaryOp, ReduceOp, Role, UnaryOp } from './ops.ts';
import {
  broadcastShapes, broadcastsTo, formatShape, isSym, isValidDim, shapeEq, sizeSignature,
  staticSize, type Dim, type Shape,
} from './shape.ts';
import { formatWindow, patchGrid, windowKey, type Window2d } from './window.ts';

const frozen = <T>(xs: readonly T[]): readonly T[] => Object.freeze(xs.slice());
const numKey = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

/**
 * A constant tensor; `value` is copied. Row-major, `value.length` must equal the shape's size.
 * @example constant([1, 2, 3, 4], [2, 2])
 */
export const constant = (value: ArrayLike<number>, shape: Shape = []): E.Either<string, ConstNode> => {
  if (!shape.every(isValidDim)) return E.left(`const: invalid shape ${formatShape(shape)}`);
  const n = staticSize(shape);
  if (n === undefined) return E.left(`const: shape ${formatShape(shape)} must be fully numeric`);
  if (value.length !== n)
    return E.left(`const: ${value.length} values for shape ${formatShape(shape)} (needs ${n})`);
  const v = Float64Array.from(value);
  let key = `c|${shape.join(',')}|`;
  for (let i = 0; i < v.length; i++) key += numKey(v[i] as number) + ',';
  return E.right(intern(key, { kind: 'const', value: v, shape: frozen(shape) }));
};

/** Scalar constant; never fails. @example scalar(0.5) */
export const scalar = (v: number): ConstNode => {
  const r = constant([v], []);
  if (E.isLeft(r)) throw new Error(`bug: scalar constant failed: ${r.left}`);
  return r.right;
};

const identRe = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names that would collide with object machinery when used as record keys. */
export const reservedNames: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A named variable with a role. Names are identifiers.
 * @example variable('y', 'state', [sym('batch'), 2])
 */
export const variable = (name: string, role: Role, shape: Shape): E.Either<string, VarNode> => {
  if (!identRe.test(name)) return E.left(`var: name ${JSON.stringify(name)} is not an identifier`);
  if (reservedNames.has(name)) return E.left(`var: name ${name} is reserved`);
  if (!shape.every(isValidDim)) return E.left(`var ${name}: invalid shape ${formatShape(shape)}`);
  const key = `v|${name}|${role}|${shape.join(',')}`;
  return E.right(intern(key, { kind: 'var', name, role, shape: frozen(shape) }));
};

/** Elementwise unary op. @example unary('tanh', x) */
export const unary = (op: UnaryOp, x: Node): E.Either<string, UnaryNode> =>
  E.right(intern(`u|${op}|${x.id}`, { kind: 'unary', op, x, shape: x.shape }));

/** Elementwise binary op with broadcasting. @example binary('add', xW, b) */
export const binary = (op: BinaryOp, x: Node, y: Node): E.Either<string, BinaryNode> => {
  const s = broadcastShapes(x.shape, y.shape);
  if (E.isLeft(s)) return E.left(`${op}: ${s.left}`);
  return E.right(intern(`b|${op}|${x.id}|${y.id}`, { kind: 'binary', op, x, y, shape: frozen(s.right) }));
};

/**
 * Matrix product `[M,K] × [K,N] → [M,N]`, batched over leading dims: `[…L,M,K] × [K,N]`,
 * `[M,K] × […L,K,N]` and `[…L,M,K] × […L,K,N]` give `[…L,M,N]` (leading dims equal or absent,
 * never stretched).
 * @example matmul(y, W1)
 * @example matmul(patchRows /* [batch,49,576] *\/, filter /* [576,64] *\/) // [batch,49,64]
 */
export const matmul = (x: Node, y: Node): E.Either<string, MatmulNode> => {
  const xr = x.shape.length, yr = y.shape.length;
  const pair = `${formatShape(x.shape)} × ${formatShape(y.shape)}`;
  const m = x.shape[xr - 2], k1 = x.shape[xr - 1], k2 = y.shape[yr - 2], n = y.shape[yr - 1];
  if (m === undefined || k1 === undefined || k2 === undefined || n === undefined)
    return E.left(`matmul needs two matrices, got ${pair}`);
  if (k1 !== k2) return E.left(`matmul inner dimensions differ (${pair})`);
  const lx = x.shape.slice(0, -2), ly = y.shape.slice(0, -2);
  if (lx.length > 0 && ly.length > 0 && !shapeEq(lx, ly))
    return E.left(`matmul leading (batch) dimensions differ (${pair}); each operand needs the same leading dims or none`);
  const shape = [...(lx.length > 0 ? lx : ly), m, n];
  return E.right(intern(`mm|${x.id}|${y.id}`, { kind: 'matmul', x, y, shape: frozen(shape) }));
};

/** The numeric `[H, W, C]` of an NHWC image, or why `x` is not one. */
const imageDims = (op: string, x: Node): E.Either<string, readonly [Dim, number, number, number]> => {
  const [n, h, w, c] = x.shape;
  if (x.shape.length !== 4 || n === undefined || h === undefined || w === undefined || c === undefined)
    return E.left(`${op}: needs an NHWC tensor [N,H,W,C], got ${formatShape(x.shape)}`);
  if (isSym(h) || isSym(w) || isSym(c))
    return E.left(`${op}: H, W and C of ${formatShape(x.shape)} must be numeric (only N may be named)`);
  return E.right([n, h, w, c]);
};

/**
 * im2col: `[N,H,W,C] → [N,H',W',kh·kw·C]`, each output row the window's pixels in (i, j, c)
 * row-major order, zeros where the window overhangs the image.
 * @example patches(x /* [batch,7,7,64] *\/, window /* 3×3, pad 1 *\/) // [batch,7,7,576]
 */
export const patches = (x: Node, window: Window2d): E.Either<string, PatchesNode> => {
  const dims = imageDims('patches', x);
  if (E.isLeft(dims)) return dims;
  const [n, h, w, c] = dims.right;
  const grid = patchGrid(window, h, w);
  if (E.isLeft(grid)) return E.left(`patches: ${grid.left}`);
  const shape = [n, grid.right[0], grid.right[1], window.kernel[0] * window.kernel[1] * c];
  return E.right(intern(`pt|${x.id}|${windowKey(window)}`, { kind: 'patches', x, window, shape: frozen(shape) }));
};

/**
 * col2im, the adjoint of `patches`: `[N,H',W',kh·kw·C] → [N,H,W,C]` for an `H × W` image,
 * summing the contributions of overlapping windows.
 * @example unpatches(cols /* [batch,7,7,576] *\/, window /* 3×3, pad 1 *\/, [7, 7]) // [batch,7,7,64]
 */
export const unpatches = (x: Node, window: Window2d, size: readonly [number, number]): E.Either<string, UnpatchesNode> => {
  const dims = imageDims('unpatches', x);
  if (E.isLeft(dims)) return dims;
  const [n, ph, pw, k] = dims.right;
  const [h, w] = size;
  if (!isValidDim(h) || !isValidDim(w)) return E.left(`unpatches: invalid image size [${size.join(',')}]`);
  const taps = window.kernel[0] * window.kernel[1];
  if (k % taps !== 0)
    return E.left(`unpatches: ${k} columns are not a multiple of the ${taps} taps of window ${formatWindow(window)}`);
  const grid = patchGrid(window, h, w);
  if (E.isLeft(grid)) return E.left(`unpatches: ${grid.left}`);
  if (grid.right[0] !== ph || grid.right[1] !== pw)
    return E.left(`unpatches: window ${formatWindow(window)} on a ${h}×${w} image has ${grid.right.join('×')} positions, but the input has ${ph}×${pw}`);
  const shape = [n, h, w, k / taps];
  return E.right(intern(`upt|${x.id}|${windowKey(window)}|${h},${w}`, { kind: 'unpatches', x, window, shape: frozen(shape) }));
};

const normAxes = (op: string, axes: readonly number[], rank: number): E.Either<string, number[]> => {
  const out: number[] = [];
  for (const a of axes) {
    if (!Number.isInteger(a) || a < -rank || a >= rank)
      return E.left(`${op}: axis ${a} out of range for rank ${rank}`);
    const b = a < 0 ? a + rank : a;
    if (out.includes(b)) return E.left(`${op}: axis ${a} repeated`);
    out.push(b);
  }
  return E.right(out.sort((p, q) => p - q));
};

/**
 * Reduction over `axes` (negative axes count from the end; all axes when omitted).
 * @example reduce('sum', x, [1], false)
 */
export const reduce = (
  op: ReduceOp, x: Node, axes?: readonly number[], keepDims = false,
): E.Either<string, ReduceNode> => {
  const r = normAxes(op, axes ?? x.shape.map((_, i) => i), x.shape.length);
  if (E.isLeft(r)) return r;
  const ax = r.right;
  const shape = keepDims
    ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !ax.includes(i));
  return E.right(intern(`r|${op}|${x.id}|${ax.join(',')}|${keepDims ? 1 : 0}`, {
    kind: 'reduce', op, x, axes: frozen(ax), keepDims, shape: frozen(shape),
  }));
};

/** Reshape, keeping the row-major order. Named dims must be kept. @example reshape(x, [B, 2, 1]) */
export const reshape = (x: Node, shape: Shape): E.Either<string, ReshapeNode> => {
  if (!shape.every(isValidDim)) return E.left(`reshape: invalid shape ${formatShape(shape)}`);
  if (sizeSignature(shape) !== sizeSignature(x.shape))
    return E.left(`reshape: cannot reshape ${formatShape(x.shape)} to ${formatShape(shape)}`);
  return E.right(intern(`rs|${x.id}|${shape.join(',')}`, { kind: 'reshape', x, shape: frozen(shape) }));
};

/** Numpy `broadcast_to`. @example broadcastTo(b, [B, 50]) */
export const broadcastTo = (x: Node, shape: Shape): E.Either<string, BroadcastNode> => {
  if (!shape.every(isValidDim)) return E.left(`broadcast: invalid shape ${formatShape(shape)}`);
  if (!broadcastsTo(x.shape, shape))
    return E.left(`broadcast: ${formatShape(x.shape)} does not broadcast to ${formatShape(shape)}`);
  return E.right(intern(`bc|${x.id}|${shape.join(',')}`, { kind: 'broadcast', x, shape: frozen(shape) }));
};

/** Permutes axes: output axis i is input axis perm[i] (default: reversed). @example transpose(W) */
export const transpose = (x: Node, perm?: readonly number[]): E.Either<string, TransposeNode> => {
  const rank = x.shape.length;
  const p = perm ?? x.shape.map((_, i) => rank - 1 - i);
  const sorted = p.slice().sort((a, b) => a - b);
  if (p.length !== rank || !sorted.every((v, i) => v === i))
    return E.left(`transpose: [${p.join(',')}] is not a permutation of ${rank} axes`);
  const shape = p.map((i) => x.shape[i] as Dim);
  return E.right(intern(`t|${x.id}|${p.join(',')}`, {
    kind: 'transpose', x, perm: frozen(p), shape: frozen(shape),
  }));
};

/** Concatenates along `axis`; other dims must agree. @example concat([y, t1], 1) */
export const concat = (xs: readonly Node[], axis: number): E.Either<string, ConcatNode> => {
  const first = xs[0];
  if (first === undefined) return E.left('concat: needs at least one input');
  const rank = first.shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= rank)
    return E.left(`concat: axis ${axis} out of range for rank ${rank}`);
  let total: Dim = 0;
  for (const [i, x] of xs.entries()) {
    if (x.shape.length !== rank || !x.shape.every((d, j) => j === ax || d === first.shape[j]))
      return E.left(`concat: input ${i} has shape ${formatShape(x.shape)}, incompatible with ${formatShape(first.shape)} on axis ${ax}`);
    const d = x.shape[ax] as Dim;
    if (isSym(d) || isSym(total)) {
      if (xs.length !== 1) return E.left(`concat: axis ${ax} has named size ${String(d)}; concatenate along a numeric axis`);
      total = d;
    } else total += d;
  }
  const shape = first.shape.map((d, j) => (j === ax ? total : d));
  return E.right(intern(`cc|${xs.map((x) => x.id).join(',')}|${ax}`, {
    kind: 'concat', xs: frozen(xs), axis: ax, shape: frozen(shape),
  }));
};

/**
 * `x[begin : begin + size]` per axis. A named axis must be taken whole (begin 0, size = the name).
 * @example slice(z, [0, 0], [B, 2])
 */
export const slice = (x: Node, begin: readonly number[], size: readonly Dim[]): E.Either<string, SliceNode> => {
  const rank = x.shape.length;
  if (begin.length !== rank || size.length !== rank)
    return E.left(`slice: begin and size need ${rank} entries for shape ${formatShape(x.shape)}`);
  for (let i = 0; i < rank; i++) {
    const d = x.shape[i] as Dim, b = begin[i] as number, s = size[i] as Dim;
    if (isSym(d) || isSym(s)) {
      if (s !== d || b !== 0) return E.left(`slice: named axis ${i} (${String(d)}) must be taken whole`);
    } else if (!Number.isInteger(b) || !Number.isInteger(s) || b < 0 || s < 0 || b + s > d) {
      return E.left(`slice: [${b}, ${b}+${s}) out of range on axis ${i} of ${formatShape(x.shape)}`);
    }
  }
  return E.right(intern(`sl|${x.id}|${begin.join(',')}|${size.join(',')}`, {
    kind: 'slice', x, begin: frozen(begin), shape: frozen(size),
  }));
};

/** True for a const node whose every element equals `v` (Object.is: -0 ≠ 0, NaN = NaN). */
export const isConstAll = (n: Node, v: number): boolean =>
  n.kind === 'const' && n.value.every((x) => Object.is(x, v));

/** Shape equality re-exported for rule files. */
export { shapeEq };
