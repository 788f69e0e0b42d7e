/**
 * Node builders for derivative rules. Rules only ever combine nodes whose shapes are already
 * consistent, so a constructor failing here is a bug in a rule, never a user error: these wrap
 * the checked constructors of `construct.ts` and throw a `bug:` message instead of returning
 * `Either`. Also the shape plumbing every rule shares: zeros of a (possibly named) shape and
 * `unbroadcast`, which undoes numpy broadcasting by summing.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../dsl/construct.ts';
import type { Node } from '../dsl/node.ts';
import type { BinaryOp, ReduceOp, UnaryOp } from '../dsl/ops.ts';
import { broadcastsTo, formatShape, shapeEq, staticSize, type Dim, type Shape } from '../dsl/shape.ts';
import type { Window2d } from '../dsl/window.ts';

const must = <T>(what: string, r: E.Either<string, T>): T => {
  if (E.isLeft(r)) throw new Error(`bug: adjoint rule built an ill-shaped ${what}: ${r.left}`);
  return r.right;
};

/** A scalar constant. @example num(0.5) */
export const num = (v: number): Node => C.scalar(v);
/** Elementwise unary op. @example un('cos', x) */
export const un = (op: UnaryOp, x: Node): Node => must(op, C.unary(op, x));
/** Elementwise binary op with broadcasting. @example bin('mul', g, y) */
export const bin = (op: BinaryOp, x: Node, y: Node): Node => must(op, C.binary(op, x, y));
/** `x + y`. @example add(gPrev, gNew) */
export const add = (x: Node, y: Node): Node => bin('add', x, y);
/** `x − y`. @example sub(num(1), y) */
export const sub = (x: Node, y: Node): Node => bin('sub', x, y);
/** `x · y`. @example mul(g, y) */
export const mul = (x: Node, y: Node): Node => bin('mul', x, y);
/** `x / y`. @example div(g, x) */
export const div = (x: Node, y: Node): Node => bin('div', x, y);
/** `−x`. @example neg(g) */
export const neg = (x: Node): Node => un('neg', x);
/** Matrix product. @example mm(g, transpose(W)) */
export const mm = (x: Node, y: Node): Node => must('matmul', C.matmul(x, y));
/** Matrix transpose (or any permutation). @example transpose(W) // [N,M] */
export const transpose = (x: Node, perm?: readonly number[]): Node => must('transpose', C.transpose(x, perm));
/**
 * Swaps the last two axes: the transpose of every matrix of a stack (`transpose` on a matrix).
 * @example swapLast(x /* [B,49,576] *\/) // [B,576,49]
 */
export const swapLast = (x: Node): Node => {
  const r = x.shape.length;
  return transpose(x, x.shape.map((_, i) => (i < r - 2 ? i : i === r - 2 ? r - 1 : r - 2)));
};
/** im2col. @example patches(g, n.window) */
export const patches = (x: Node, window: Window2d): Node => must('patches', C.patches(x, window));
/** col2im onto an `H × W` image. @example unpatches(g, n.window, [7, 7]) */
export const unpatches = (x: Node, window: Window2d, size: readonly [number, number]): Node =>
  must('unpatches', C.unpatches(x, window, size));
/** Reshape, keeping row-major order; `x` itself when the shape is equal. @example reshape(g, [B, 1]) */
export const reshape = (x: Node, shape: Shape): Node =>
  shapeEq(x.shape, shape) ? x : must('reshape', C.reshape(x, shape));
/** `broadcast_to`; `x` itself when the shape is equal. @example broadcastTo(num(0), [B, 3]) */
export const broadcastTo = (x: Node, shape: Shape): Node =>
  shapeEq(x.shape, shape) ? x : must('broadcast', C.broadcastTo(x, shape));
/** Reduction over sorted axes. @example reduce('sum', g, [0], false) */
export const reduce = (op: ReduceOp, x: Node, axes: readonly number[], keepDims: boolean): Node =>
  must(op, C.reduce(op, x, axes, keepDims));
/** Concatenation; a single input is returned as is. @example concat([zeros([B, 1]), g], 1) */
export const concat = (xs: readonly Node[], axis: number): Node =>
  xs.length === 1 && xs[0] !== undefined ? xs[0] : must('concat', C.concat(xs, axis));
/** Slice `x[begin : begin + size]`; `x` itself when whole. @example slice(g, [0, 2], [B, 3]) */
export const slice = (x: Node, begin: readonly number[], size: readonly Dim[]): Node =>
  shapeEq(x.shape, size) ? x : must('slice', C.slice(x, begin, size));

/**
 * Zeros of any shape: a scalar `0`, or `broadcast(0, shape)` (which also covers named dims).
 * @example zeros([sym('batch'), 3]) // broadcast(0, [batch,3])
 */
export const zeros = (shape: Shape): Node => (shape.length === 0 ? num(0) : broadcastTo(num(0), shape));

/**
 * The number of elements of `shape` restricted to `axes` as an expression: a constant when the
 * dims are numeric, else `sum(broadcast(1, dims))`, which evaluates to the run-time count.
 * @example countOf([sym('batch'), 3], [0]) // sum(broadcast(1, [batch]))
 */
export const countOf = (shape: Shape, axes: readonly number[]): Node => {
  const dims = axes.map((a) => shape[a] as Dim);
  const n = staticSize(dims);
  return n !== undefined ? num(n) : reduce('sum', broadcastTo(num(1), dims), dims.map((_, i) => i), false);
};

/**
 * Undoes broadcasting: sums `g` (of a broadcast shape) down to `target`, which must broadcast to
 * `g.shape`. Leading axes that broadcasting added, and axes where `target` has 1 but `g` does
 * not, are summed away; the result is reshaped to `target`.
 * @example unbroadcast(g /* [B,50] *\/, [50]) // sum(g, [0])
 */
export const unbroadcast = (g: Node, target: Shape): Node => {
  if (shapeEq(g.shape, target)) return g;
  if (!broadcastsTo(target, g.shape))
    throw new Error(`bug: cannot unbroadcast ${formatShape(g.shape)} to ${formatShape(target)}`);
  const lead = g.shape.length - target.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (target[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  return reshape(axes.length === 0 ? g : reduce('sum', g, axes, false), target);
};
