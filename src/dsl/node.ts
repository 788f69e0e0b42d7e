/**
 * The untyped intermediate representation: one node kind per variant of `Node`. Nodes are
 * immutable, interned (see `intern.ts`) and carry their inferred shape. Build them with the
 * checked constructors in `construct.ts`, or through the typed facade in `expr.ts`.
 */
import type { BinaryOp, ReduceOp, Role, UnaryOp } from './ops.ts';
import type { Dim, Shape } from './shape.ts';
import type { Window2d } from './window.ts';

interface NodeBase {
  /** Unique while the node is alive; interpreters memoize by it. */
  readonly id: number;
  readonly shape: Shape;
}

/** A constant tensor (row-major values). The array must never be mutated. */
export interface ConstNode extends NodeBase {
  readonly kind: 'const';
  readonly value: Float64Array;
}
/** A named input: state, time, parameter, data input or noise. */
export interface VarNode extends NodeBase {
  readonly kind: 'var';
  readonly name: string;
  readonly role: Role;
}
export interface UnaryNode extends NodeBase {
  readonly kind: 'unary';
  readonly op: UnaryOp;
  readonly x: Node;
}
/** Elementwise with numpy broadcasting; `shape` is the broadcast shape. */
export interface BinaryNode extends NodeBase {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly x: Node;
  readonly y: Node;
}
/**
 * `[…L, M, K] × […L, K, N] → […L, M, N]`: a matrix product per leading (batch) index, like
 * numpy's `matmul`, except that leading dims are never stretched: each operand has the output's
 * leading dims or none (rank 2), and a rank-2 operand is shared by every batch index.
 */
export interface MatmulNode extends NodeBase {
  readonly kind: 'matmul';
  readonly x: Node;
  readonly y: Node;
}
/** Reduction over sorted, distinct, non-negative `axes`. */
export interface ReduceNode extends NodeBase {
  readonly kind: 'reduce';
  readonly op: ReduceOp;
  readonly x: Node;
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}
/** Same elements, new shape (row-major order kept). */
export interface ReshapeNode extends NodeBase {
  readonly kind: 'reshape';
  readonly x: Node;
}
/** Numpy `broadcast_to(x, shape)`. */
export interface BroadcastNode extends NodeBase {
  readonly kind: 'broadcast';
  readonly x: Node;
}
/** Output axis `i` is input axis `perm[i]`. */
export interface TransposeNode extends NodeBase {
  readonly kind: 'transpose';
  readonly x: Node;
  readonly perm: readonly number[];
}
/** Concatenation along `axis`. */
export interface ConcatNode extends NodeBase {
  readonly kind: 'concat';
  readonly xs: readonly Node[];
  readonly axis: number;
}
/** `x[begin[i] : begin[i] + shape[i]]` on every axis. */
export interface SliceNode extends NodeBase {
  readonly kind: 'slice';
  readonly x: Node;
  readonly begin: readonly number[];
}

/**
 * im2col: `x` `[N, H, W, C]` (NHWC) → `[N, H', W', kh·kw·C]`; output element
 * `[n, p, q, (i·kw + j)·C + c]` is `x[n, p·sh + i·dh − top, q·sw + j·dw − left, c]`, or 0 outside
 * the image. Linear; its adjoint is `unpatches` with the same window.
 */
export interface PatchesNode extends NodeBase {
  readonly kind: 'patches';
  readonly x: Node;
  readonly window: Window2d;
}
/**
 * col2im, the exact transpose of `patches` for the same window and image shape `[N, H, W, C]`
 * (the node's shape): `[N, H', W', kh·kw·C] → [N, H, W, C]`, overlapping contributions summed.
 */
export interface UnpatchesNode extends NodeBase {
  readonly kind: 'unpatches';
  readonly x: Node;
  readonly window: Window2d;
}

export type Node =
  | ConstNode
  | VarNode
  | UnaryNode
  | BinaryNode
  | MatmulNode
  | ReduceNode
  | ReshapeNode
  | BroadcastNode
  | TransposeNode
  | ConcatNode
  | SliceNode
  | PatchesNode
  | UnpatchesNode;

export type NodeKind = Node['kind'];
export type NodeOf<K extends NodeKind> = Extract<Node, { readonly kind: K }>;

/** Every node kind, for exhaustive tables and tests. */
export const nodeKinds: readonly NodeKind[] = [
  'const', 'var', 'unary', 'binary', 'matmul', 'reduce', 'reshape', 'broadcast', 'transpose',
  'concat', 'slice', 'patches', 'unpatches',
];

/**
 * The direct inputs of a node, in order.
 * @example children(add(x, y).node) // [x.node, y.node]
 */
export const children = (n: Node): readonly Node[] => {
  switch (n.kind) {
    case 'const':
    case 'var':
      return [];
    case 'unary':
    case 'reduce':
    case 'reshape':
    case 'broadcast':
    case 'transpose':
    case 'slice':
    case 'patches':
    case 'unpatches':
      return [n.x];
    case 'binary':
    case 'matmul':
      return [n.x, n.y];
    case 'concat':
      return n.xs;
  }
};

/** A slice's extent on each axis is its output shape. */
export const sliceSize = (n: SliceNode): readonly Dim[] => n.shape;
