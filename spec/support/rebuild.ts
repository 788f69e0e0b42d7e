/** Rebuilding expressions node by node in tests: a structural copy, or one with float32 constants. */
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../../src/dsl/construct.ts';
import { children, type Node } from '../../src/dsl/node.ts';
import { topoOrder } from '../../src/interp/traverse.ts';

/** `n` rebuilt over new children with the checked constructors. @example rebuild(n, children(n)) === n */
export const rebuild = (n: Node, kids: readonly Node[]): Node => {
  const [a, b] = kids as [Node, Node];
  const r = ((): E.Either<string, Node> => {
    switch (n.kind) {
      case 'const': case 'var': return E.right(n);
      case 'unary': return C.unary(n.op, a);
      case 'binary': return C.binary(n.op, a, b);
      case 'matmul': return C.matmul(a, b);
      case 'reduce': return C.reduce(n.op, a, n.axes, n.keepDims);
      case 'reshape': return C.reshape(a, n.shape);
      case 'broadcast': return C.broadcastTo(a, n.shape);
      case 'transpose': return C.transpose(a, n.perm);
      case 'concat': return C.concat(kids, n.axis);
      case 'slice': return C.slice(a, n.begin, n.shape);
    }
  })();
  if (E.isLeft(r)) throw new Error(r.left);
  return r.right;
};

/** The expression with every constant rounded to float32, so float64 and float32 read the same numbers. */
export const froundConsts = (root: Node): Node => {
  const memo = new Map<number, Node>();
  for (const n of topoOrder([root])) {
    const m = n.kind === 'const'
      ? (() => { const r = C.constant(n.value.map(Math.fround), n.shape); if (E.isLeft(r)) throw new Error(r.left); return r.right; })()
      : rebuild(n, children(n).map((k) => memo.get(k.id)!));
    memo.set(n.id, m);
  }
  return memo.get(root.id)!;
};
