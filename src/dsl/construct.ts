/**
 * Checked constructors of the untyped IR. Each validates its inputs, infers the output shape
 * and interns the node. Failures are `Left` with a message naming the op and the shapes, which
 * the JSON decoder prefixes with a path and the typed facade turns into a thrown bug report.
 */
import * as E from 'fp-ts/lib/Either.js';
import { intern } from './intern.ts';
import type {
  BinaryNode, BroadcastNode, ConcatNode, ConstNode, MatmulNode, Node, ReduceNode, ReshapeNode,
  SliceNode, TransposeNode, UnaryNode, VarNode,
} from './node.ts';
import type { BinaryOp, ReduceOp, Role, UnaryOp } from './ops.ts';
import {
  broadcastShapes, broadcastsTo, formatShape, isSym, isValidDim, shapeEq, sizeSignature,
  staticSize, type Dim, type Shape,
} from './shape.ts';

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

/** Matrix product `[M,K] × [K,N] → [M,N]`. @example matmul(y, W1) */
export const matmul = (x: Node, y: Node): E.Either<string, MatmulNode> => {
  const [m, k1] = x.shape;
  const [k2, n] = y.shape;
  if (x.shape.length !== 2 || y.shape.length !== 2 || m === undefined || k1 === undefined ||
      k2 === undefined || n === undefined)
    return E.left(`matmul needs two matrices, got ${formatShape(x.shape)} × ${formatShape(y.shape)}`);
  if (k1 !== k2)
    return E.left(`matmul inner dimensions differ (${formatShape(x.shape)} × ${formatShape(y.shape)})`);
  return E.right(intern(`mm|${x.id}|${y.id}`, { kind: 'matmul', x, y, shape: frozen([m, n]) }));
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
