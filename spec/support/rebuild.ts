/** Rebuilding expressions node by node in tests: a structural copy, or one with float32 constants. */
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../../src/dsl/construct.ts';
import { children, type Node } from '../../src/dsl/node.ts';
import { topoOrder } from '../../src/interp/traverse.ts';
import { rebuild } from '../../src/interp/simplify.ts';

export { rebuild };

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
