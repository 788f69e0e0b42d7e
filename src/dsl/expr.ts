/**
 * The typed facade over the IR: `Expr<S>` is a node whose shape `S` is a literal tuple known to
 * the type checker. Elementwise ops require equal shapes or a trailing suffix (a bias), matmul
 * unifies the inner dimension, and every result keeps a precise shape type. Construction errors
 * the types cannot rule out (e.g. an out-of-range axis) throw: they are bugs in the caller.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as C from './construct.ts';
import type { Node } from './node.ts';
import type { BinaryOp, ReduceOp, Role, UnaryOp } from './ops.ts';
import type { Dim, Shape } from './shape.ts';
import { makeWindow, type WindowSpec } from './window.ts';

/** An expression of shape `S`. `shape` doubles as the phantom type member. */
export interface Expr<S extends Shape> {
  readonly node: Node;
  readonly shape: S;
}

/** All trailing suffixes of a shape, `[]` included: what may broadcast against `S` as a bias. */
export type Suffixes<S extends Shape> = S extends readonly [unknown, ...infer R extends Shape]
  ? S | Suffixes<readonly [...R]>
  : S;

/** Something that broadcasts into `S`: an `Expr` of a suffix shape, or a number. */
export type Operand<S extends Shape> = Expr<S> | Expr<Suffixes<S>> | number;

/** `S` without axis `I`. */
export type DropAxis<S extends Shape, I extends number, Acc extends Dim[] = []> =
  S extends readonly [infer H extends Dim, ...infer R extends Shape]
    ? Acc['length'] extends I ? readonly [...Acc, ...R] : DropAxis<R, I, [...Acc, H]>
    : readonly [...Acc];

const orThrow = <T>(r: E.Either<string, T>): T => {
  if (E.isLeft(r)) throw new Error(`fluxion: ${r.left}`);
  return r.right;
};

/**
 * Wraps an untyped node, asserting its shape type.
 * @throws when the node's shape is not `shape`
 * @example const y = wrap<readonly [2]>(node, [2])
 */
export const wrap = <const S extends Shape>(node: Node, shape?: S): Expr<S> => {
  if (shape !== undefined && !C.shapeEq(node.shape, shape))
    throw new Error(`fluxion: expected shape [${shape.join(',')}], got [${node.shape.join(',')}]`);
  return Object.freeze({ node, shape: node.shape as S });
};

/** An untyped view of an expression whose shape is only known at run time. */
export const lift = (node: Node): Expr<Shape> => wrap(node);

const toNode = (x: Expr<Shape> | number): Node => (typeof x === 'number' ? C.scalar(x) : x.node);

// ---------- leaves ----------

/** A variable of the given role. @example variable('y', 'state', [sym('batch'), 2]) */
export const variable = <const S extends Shape>(name: string, role: Role, shape: S): Expr<S> =>
  wrap(orThrow(C.variable(name, role, shape)));
/** A state variable. @example const y = state('y', [B, 2]) */
export const state = <const S extends Shape>(name: string, shape: S): Expr<S> => variable(name, 'state', shape);
/** The scalar time variable. @example const t = time('t') */
export const time = (name = 't'): Expr<readonly []> => variable(name, 'time', []);
/** A data input. @example input('x', [B, 784]) */
export const input = <const S extends Shape>(name: string, shape: S): Expr<S> => variable(name, 'input', shape);
/** A noise input (e.g. Hutchinson probes, reparameterisation draws). */
export const noise = <const S extends Shape>(name: string, shape: S): Expr<S> => variable(name, 'noise', shape);

/** A scalar constant. @example scalar(0.5) */
export const scalar = (v: number): Expr<readonly []> => wrap(C.scalar(v));

/**
 * A constant tensor from flat row-major values.
 * @example tensor([-0.1, 2, -2, -0.1], [2, 2])
 */
export const tensor = <const S extends readonly number[]>(values: ArrayLike<number>, shape: S): Expr<S> =>
  wrap(orThrow(C.constant(values, shape)));

// ---------- elementwise ----------

const un = (op: UnaryOp) => <S extends Shape>(x: Expr<S>): Expr<S> => wrap(orThrow(C.unary(op, x.node)));

/** Elementwise unary ops; each keeps the shape. @example tanh(add(matmul(y, W), b)) */
export const neg = un('neg');
export const exp = un('exp');
export const log = un('log');
export const log1p = un('log1p');
export const sqrt = un('sqrt');
export const square = un('square');
export const sin = un('sin');
export const cos = un('cos');
export const tanh = un('tanh');
export const sigmoid = un('sigmoid');
export const softplus = un('softplus');
export const relu = un('relu');
export const abs = un('abs');
export const sign = un('sign');
export const step = un('step');

/** Elementwise op whose operands broadcast one into the other. */
export interface BinaryFn {
  <S extends Shape>(x: Expr<S>, y: NoInfer<Operand<S>>): Expr<S>;
  <S extends Shape>(x: NoInfer<Operand<S>>, y: Expr<S>): Expr<S>;
}
const bin = (op: BinaryOp): BinaryFn =>
  ((x: Expr<Shape> | number, y: Expr<Shape> | number) =>
    wrap(orThrow(C.binary(op, toNode(x), toNode(y))))) as BinaryFn;

/** Elementwise binary ops with broadcasting of a suffix shape or a number. @example add(h, b1) */
export const add = bin('add');
export const sub = bin('sub');
export const mul = bin('mul');
export const div = bin('div');
export const pow = bin('pow');
export const maximum = bin('maximum');
export const minimum = bin('minimum');

/**
 * Any broadcasting binary op, checked at run time; for shapes the types cannot relate.
 * @throws when the shapes do not broadcast
 * @example broadcastBinary('mul', a, b)
 */
export const broadcastBinary = (op: BinaryOp, x: Expr<Shape> | number, y: Expr<Shape> | number): Expr<Shape> =>
  wrap(orThrow(C.binary(op, toNode(x), toNode(y))));

// ---------- linear algebra and structure ----------

/**
 * Matrix product; the inner dimensions must be equal types.
 * @example matmul(y /* [B,2] *\/, W1 /* [2,50] *\/) // Expr<[B,50]>
 */
export const matmul = <M extends Dim, K extends Dim, N extends Dim>(
  x: Expr<readonly [M, K]>,
  y: Expr<readonly [NoInfer<K>, N]>,
): Expr<readonly [M, N]> => wrap(orThrow(C.matmul(x.node, y.node)));

/**
 * A stack of matrices times one matrix: `[…L, M, K] × [K, N] → […L, M, N]` (a product per
 * leading index, the right operand shared).
 * @example batchMatmul(patches /* [B,7,7,576] *\/, W /* [576,64] *\/) // Expr<[B,7,7,64]>
 */
export const batchMatmul = <const L extends readonly Dim[], M extends Dim, K extends Dim, N extends Dim>(
  x: Expr<readonly [...L, M, K]>,
  y: Expr<readonly [NoInfer<K>, N]>,
): Expr<readonly [...L, M, N]> => wrap(orThrow(C.matmul(x.node, y.node)));

/**
 * Any matrix product, checked at run time: `[…L,M,K] × […L,K,N]`, leading dims equal or absent.
 * @throws when the inner or leading dims do not match
 * @example matmulChecked(a /* [B,3,4] *\/, b /* [B,4,5] *\/) // [B,3,5]
 */
export const matmulChecked = (x: Expr<Shape>, y: Expr<Shape>): Expr<Shape> => wrap(orThrow(C.matmul(x.node, y.node)));

/** Matrix transpose. @example transposeM(W) // [N,M] */
export const transposeM = <M extends Dim, N extends Dim>(x: Expr<readonly [M, N]>): Expr<readonly [N, M]> =>
  wrap(orThrow(C.transpose(x.node, [1, 0])));

/** Axis permutation. @example transpose(x, [0, 2, 1]) */
export const transpose = (x: Expr<Shape>, perm?: readonly number[]): Expr<Shape> =>
  wrap(orThrow(C.transpose(x.node, perm)));

const red = (op: ReduceOp) => ({
  all: (x: Expr<Shape>): Expr<readonly []> => wrap(orThrow(C.reduce(op, x.node))),
  axis: <S extends Shape, const I extends number>(x: Expr<S>, axis: I): Expr<DropAxis<S, I>> =>
    wrap(orThrow(C.reduce(op, x.node, [axis], false))),
  axes: (x: Expr<Shape>, axes: readonly number[], keepDims = false): Expr<Shape> =>
    wrap(orThrow(C.reduce(op, x.node, axes, keepDims))),
});
const sumR = red('sum');
const meanR = red('mean');
const lseR = red('logsumexp');

/** Sum of all elements. @example sum(square(e)) */
export const sum = sumR.all;
/** Sum over one axis (non-negative index). @example sumAxis(x, 1) // [B,D] → [B] */
export const sumAxis = sumR.axis;
/** Sum over several axes. @example sumAxes(x, [0, 1], true) */
export const sumAxes = sumR.axes;
/** Mean of all elements. */
export const mean = meanR.all;
export const meanAxis = meanR.axis;
export const meanAxes = meanR.axes;
/** Stable log Σ exp over all elements / one axis / several axes. */
export const logsumexp = lseR.all;
export const logsumexpAxis = lseR.axis;
export const logsumexpAxes = lseR.axes;

/** Reshape (element count and named dims kept). @example reshape(b, [1, 50]) */
export const reshape = <const S extends Shape>(x: Expr<Shape>, shape: S): Expr<S> =>
  wrap(orThrow(C.reshape(x.node, shape)));

/** Broadcast to a shape. @example broadcastTo(t, [B, 1]) */
export const broadcastTo = <const S extends Shape>(x: Expr<Shape>, shape: S): Expr<S> =>
  wrap(orThrow(C.broadcastTo(x.node, shape)));

/** Concatenation along an axis. @example concat([y, tcol], 1) */
export const concat = (xs: readonly Expr<Shape>[], axis: number): Expr<Shape> =>
  wrap(orThrow(C.concat(xs.map((x) => x.node), axis)));

/** Slice: `x[begin : begin + size]` per axis. @example slice(z, [0, 0], [B, 2]) */
export const slice = <const S extends Shape>(x: Expr<Shape>, begin: readonly number[], size: S): Expr<S> =>
  wrap(orThrow(C.slice(x.node, begin, size)));

/**
 * Asserts a run-time shape at the type level (after `concat`, `slice`, JSON decoding…).
 * @throws when the shape differs
 * @example const h = withShape(concat([y, t1], 1), [B, 3])
 */
export const withShape = <const S extends Shape>(x: Expr<Shape>, shape: S): Expr<S> => wrap(x.node, shape);

/** Reduce op helper for generic code. */
export const reduceBy = (op: ReduceOp, x: Expr<Shape>, axes?: readonly number[], keepDims = false): Expr<Shape> =>
  wrap(orThrow(C.reduce(op, x.node, axes, keepDims)));

// ---------- windows over NHWC images ----------

/** An NHWC image batch `[N, H, W, C]`: only N may be a named dim. */
export type NHWC<N extends Dim = Dim> = readonly [N, number, number, number];

/**
 * im2col: `[N,H,W,C] → [N,H',W',kh·kw·C]`, each output row one window's pixels in (i, j, c)
 * order, zeros outside the image.
 * @throws when the window is invalid or does not fit the padded image
 * @example patches(x /* [B,7,7,64] *\/, { kernel: 3, padding: 1 }) // [B,7,7,576]
 */
export const patches = <N extends Dim>(x: Expr<NHWC<N>>, window: WindowSpec): Expr<NHWC<N>> =>
  wrap(orThrow(C.patches(x.node, orThrow(makeWindow(window)))));

/**
 * col2im, the adjoint of `patches`: `[N,H',W',kh·kw·C] → [N,H,W,C]` for an `H × W` image,
 * overlapping windows summed.
 * @throws when the window, the image size and the input's grid disagree
 * @example unpatches(cols /* [B,7,7,576] *\/, { kernel: 3, padding: 1 }, [7, 7]) // [B,7,7,64]
 */
export const unpatches = <N extends Dim>(x: Expr<NHWC<N>>, window: WindowSpec, size: readonly [number, number]): Expr<NHWC<N>> =>
  wrap(orThrow(C.unpatches(x.node, orThrow(makeWindow(window)), size)));
