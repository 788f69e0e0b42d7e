/**
 * The one table of vector-Jacobian products: for every node kind (and, inside, every unary,
 * binary and reduce op) a rule that maps the cotangent `g` of a node's output to cotangents of
 * its inputs. Rules build expressions with the ordinary primitives, so a derivative can be
 * simplified, printed, compiled and differentiated again. Where it is cheaper a rule reuses the
 * primal output node (`tanh: g·(1 − y²)`); thanks to interning, that node *is* the forward
 * value, computed once when the primal and the adjoint are evaluated together. Rules write the
 * factor that depends only on the primal apart from `g` (`g · (1 − y²)`, not `(g − g·y²)`), so
 * several sweeps over one function (a Jacobian) share it.
 *
 * A cotangent is a node of exactly the input's shape, or the symbolic `Zero` (no contribution,
 * no node built). Records are keyed by the op literals: adding an op fails to compile until it
 * has a rule here.
 *
 * Conventions at non-differentiable points (documented, tested):
 * - `relu'(0) = step(0) = 0`, `abs'(0) = sign(0) = 0`; `sign` and `step` have derivative 0.
 * - `maximum(x, y)` sends `g` to `x` where `x > y` and to `y` otherwise: ties go to `y`, so
 *   `maximum(x, 0)` has the same derivative as `relu(x)`. `minimum(x, y)` sends `g` to `x`
 *   where `x < y`, ties to `y`.
 * - `pow(x, b)`: `∂x = g·b·x^(b−1)`, `∂b = g·x^b·log(x)`; the `∂b` branch is built only when
 *   `b` is differentiated (it is NaN for `x < 0`).
 * - `logsumexp`: `g·exp(x − y)`; NaN when every element is −∞.
 */
import type {
  BinaryNode, Node, NodeKind, NodeOf, ReduceNode,
} from '../dsl/node.ts';
import type { BinaryOp, ReduceOp, UnaryOp } from '../dsl/ops.ts';
import type { Dim } from '../dsl/shape.ts';
import * as B from './build.ts';

/** The symbolic zero cotangent: "no contribution", for which no node is ever built. */
export interface Zero {
  readonly _tag: 'Zero';
}
/** The one `Zero` value. */
export const Zero: Zero = Object.freeze({ _tag: 'Zero' });

/** A cotangent: a node of the input's shape, or `Zero`. */
export type Cotangent = Node | Zero;

/** True for the symbolic zero. @example isZero(Zero) // true */
export const isZero = (c: Cotangent): c is Zero => c === Zero;

/**
 * Unary rule: `x` the input, `y` the primal output node `op(x)`, `g` the output cotangent.
 * Returns the cotangent of `x` (same shape as `x`).
 */
export type UnaryRule = (x: Node, y: Node, g: Node) => Cotangent;

/** d/dx of each unary op, written with primitives and the primal output `y` where cheaper. */
export const unaryVjp: { readonly [K in UnaryOp]: UnaryRule } = {
  neg: (_x, _y, g) => B.neg(g),
  exp: (_x, y, g) => B.mul(g, y),
  log: (x, _y, g) => B.div(g, x),
  log1p: (x, _y, g) => B.div(g, B.add(B.num(1), x)),
  sqrt: (_x, y, g) => B.mul(g, B.div(B.num(0.5), y)),
  square: (x, _y, g) => B.mul(g, B.mul(B.num(2), x)),
  sin: (x, _y, g) => B.mul(g, B.un('cos', x)),
  cos: (x, _y, g) => B.mul(g, B.neg(B.un('sin', x))),
  tanh: (_x, y, g) => B.mul(g, B.sub(B.num(1), B.un('square', y))),
  sigmoid: (_x, y, g) => B.mul(g, B.mul(y, B.sub(B.num(1), y))),
  softplus: (x, _y, g) => B.mul(g, B.un('sigmoid', x)),
  relu: (x, _y, g) => B.mul(g, B.un('step', x)),
  abs: (x, _y, g) => B.mul(g, B.un('sign', x)),
  sign: () => Zero,
  step: () => Zero,
};

/**
 * Binary rule: inputs `x`, `y`, primal output `z`, output cotangent `g`, and which inputs need
 * a cotangent. Returns cotangents in the *output's* (broadcast) shape; the kind rule sums them
 * down to each input's shape.
 */
export type BinaryRule = (
  x: Node, y: Node, z: Node, g: Node, need: readonly [boolean, boolean],
) => readonly [Cotangent, Cotangent];

const when = (needed: boolean, build: () => Node): Cotangent => (needed ? build() : Zero);

/** Partial derivatives of each binary op. */
export const binaryVjp: { readonly [K in BinaryOp]: BinaryRule } = {
  add: (_x, _y, _z, g) => [g, g],
  sub: (_x, _y, _z, g, [, ny]) => [g, when(ny, () => B.neg(g))],
  mul: (x, y, _z, g, [nx, ny]) => [when(nx, () => B.mul(g, y)), when(ny, () => B.mul(g, x))],
  div: (_x, y, z, g, [nx, ny]) => [
    when(nx, () => B.div(g, y)),
    // ∂(x/y)/∂y = −x/y² = −z/y.
    when(ny, () => B.neg(B.mul(g, B.div(z, y)))),
  ],
  pow: (x, y, z, g, [nx, ny]) => [
    when(nx, () => B.mul(g, B.mul(y, B.bin('pow', x, B.sub(y, B.num(1)))))),
    when(ny, () => B.mul(g, B.mul(z, B.un('log', x)))),
  ],
  // Ties (x = y) go to y: step(0) = 0.
  maximum: (x, y, _z, g, [nx, ny]) => {
    const s = B.un('step', B.sub(x, y));
    return [when(nx, () => B.mul(g, s)), when(ny, () => B.mul(g, B.sub(B.num(1), s)))];
  },
  minimum: (x, y, _z, g, [nx, ny]) => {
    const s = B.un('step', B.sub(y, x));
    return [when(nx, () => B.mul(g, s)), when(ny, () => B.mul(g, B.sub(B.num(1), s)))];
  },
};

/**
 * Reduce rule: the reduce node `n` and its cotangent `gKept` already reshaped to the keepDims
 * shape (1 on reduced axes). Returns the cotangent of `n.x`.
 */
export type ReduceRule = (n: ReduceNode, gKept: Node) => Node;

const keptShape = (n: ReduceNode): readonly Dim[] => n.x.shape.map((d, i) => (n.axes.includes(i) ? 1 : d));

/** Derivatives of the reductions. */
export const reduceVjp: { readonly [K in ReduceOp]: ReduceRule } = {
  sum: (n, g) => B.broadcastTo(g, n.x.shape),
  mean: (n, g) => B.broadcastTo(B.div(g, B.countOf(n.x.shape, n.axes)), n.x.shape),
  // ∂ logsumexp(x)/∂x = softmax(x) = exp(x − y), y broadcast back over the reduced axes.
  logsumexp: (n, g) => B.mul(g, B.un('exp', B.sub(n.x, B.reshape(n, keptShape(n))))),
};

/**
 * A node-kind rule: the node, its output cotangent, and which children need a cotangent (by
 * position). Returns one cotangent per child, in `children(n)` order.
 */
export type KindRule<K extends NodeKind> = (n: NodeOf<K>, g: Node, need: readonly boolean[]) => readonly Cotangent[];

const binaryRule = (n: BinaryNode, g: Node, need: readonly boolean[]): readonly Cotangent[] => {
  const nx = need[0] === true, ny = need[1] === true;
  const [gx, gy] = binaryVjp[n.op](n.x, n.y, n, g, [nx, ny]);
  return [
    nx && !isZero(gx) ? B.unbroadcast(gx, n.x.shape) : Zero,
    ny && !isZero(gy) ? B.unbroadcast(gy, n.y.shape) : Zero,
  ];
};

/**
 * Zero-pads `g` (a slice's cotangent) back to the sliced input's shape, one axis at a time,
 * with `concat` of zero blocks (named axes are always taken whole, so never padded).
 */
const padSlice = (n: NodeOf<'slice'>, g: Node): Node => {
  let cur = g;
  n.x.shape.forEach((full, axis) => {
    const size = n.shape[axis] as Dim;
    if (typeof full !== 'number' || typeof size !== 'number') return;
    const before = n.begin[axis] as number;
    const after = full - before - size;
    if (before === 0 && after === 0) return;
    const block = (k: number): Node => B.zeros(cur.shape.map((d, i) => (i === axis ? k : d)));
    const parts = [...(before > 0 ? [block(before)] : []), cur, ...(after > 0 ? [block(after)] : [])];
    cur = B.concat(parts, axis);
  });
  return cur;
};

/**
 * A stack of matrices `[…L, M, K]` with the leading dims after the last named one merged into
 * the rows (`[batch,7,7,K]` → `[batch,49,K]`, `[4,7,K]` → `[28,K]`): the same rows, so a sum of
 * products over the stack is unchanged, in fewer products.
 */
const mergeRows = (x: Node): Node => {
  const s = x.shape, r = s.length;
  let keep = 0;
  for (let i = 0; i < r - 2; i++) if (typeof s[i] === 'string') keep = i + 1;
  if (keep >= r - 2) return x;
  const rows = s.slice(keep, r - 1).reduce<number>((a, d) => a * (d as number), 1);
  return B.reshape(x, [...s.slice(0, keep), rows, s[r - 1] as Dim]);
};

/** `xᵀ g` per product; for a shared `y` the products are merged where possible, then summed by the caller. */
const matmulWeightVjp = (x: Node, y: Node, g: Node): Node =>
  y.shape.length === 2 ? B.mm(B.swapLast(mergeRows(x)), mergeRows(g)) : B.mm(B.swapLast(x), g);

/** The numeric `[H, W]` of an NHWC image (checked numeric when its `patches` node was built). */
const imageSize = (x: Node): readonly [number, number] => [x.shape[1] as number, x.shape[2] as number];

/**
 * The table: a VJP rule for every node kind.
 * @example
 * const y = X.tanh(x);
 * vjpRules.unary(y.node, g, [true]) // [g · (1 − y²)]
 */
export const vjpRules: { readonly [K in NodeKind]: KindRule<K> } = {
  const: () => [],
  var: () => [],
  unary: (n, g, need) => [need[0] === true ? unaryVjp[n.op](n.x, n, g) : Zero],
  binary: binaryRule,
  // Batched: per product as for matrices; a shared (rank-2) operand sums over the products,
  // after merging numeric leading dims into the rows (fewer, larger products).
  matmul: (n, g, need) => [
    need[0] === true ? B.unbroadcast(B.mm(g, B.swapLast(n.y)), n.x.shape) : Zero,
    need[1] === true ? B.unbroadcast(matmulWeightVjp(n.x, n.y, g), n.y.shape) : Zero,
  ],
  reduce: (n, g, need) => [need[0] === true ? reduceVjp[n.op](n, B.reshape(g, keptShape(n))) : Zero],
  reshape: (n, g, need) => [need[0] === true ? B.reshape(g, n.x.shape) : Zero],
  broadcast: (n, g, need) => [need[0] === true ? B.unbroadcast(g, n.x.shape) : Zero],
  transpose: (n, g, need) => {
    if (need[0] !== true) return [Zero];
    const inv = new Array<number>(n.perm.length);
    n.perm.forEach((p, i) => { inv[p] = i; });
    return [B.transpose(g, inv)];
  },
  concat: (n, g, need) => {
    let offset = 0;
    return n.xs.map((x, i) => {
      const begin = x.shape.map((_, a) => (a === n.axis ? offset : 0));
      const d = x.shape[n.axis] as Dim;
      offset += typeof d === 'number' ? d : 0;
      return need[i] === true ? B.slice(g, begin, x.shape) : Zero;
    });
  },
  slice: (n, g, need) => [need[0] === true ? padSlice(n, g) : Zero],
  // Linear and adjoint to each other, so each one's VJP is the other (and so on for higher orders).
  patches: (n, g, need) => [need[0] === true ? B.unpatches(g, n.window, imageSize(n.x)) : Zero],
  unpatches: (n, g, need) => [need[0] === true ? B.patches(g, n.window) : Zero],
};

/**
 * Applies the rule of `n`'s kind (the dispatch of the reverse sweep).
 * @example applyVjpRule(X.mul(x, y).node, g, [true, false]) // [g·y, Zero]
 */
export const applyVjpRule = (n: Node, g: Node, need: readonly boolean[]): readonly Cotangent[] => {
  switch (n.kind) {
    case 'const': return vjpRules.const(n, g, need);
    case 'var': return vjpRules.var(n, g, need);
    case 'unary': return vjpRules.unary(n, g, need);
    case 'binary': return vjpRules.binary(n, g, need);
    case 'matmul': return vjpRules.matmul(n, g, need);
    case 'reduce': return vjpRules.reduce(n, g, need);
    case 'reshape': return vjpRules.reshape(n, g, need);
    case 'broadcast': return vjpRules.broadcast(n, g, need);
    case 'transpose': return vjpRules.transpose(n, g, need);
    case 'concat': return vjpRules.concat(n, g, need);
    case 'slice': return vjpRules.slice(n, g, need);
    case 'patches': return vjpRules.patches(n, g, need);
    case 'unpatches': return vjpRules.unpatches(n, g, need);
  }
};
