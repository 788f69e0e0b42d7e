/**
 * The one DAG traversal every interpreter stands on: an iterative post-order walk (no recursion,
 * so deep graphs cannot overflow the stack) that visits each node once, and a fold that applies
 * a per-kind algebra to the nodes in that order, memoized by node id.
 */
import { children, type Node, type NodeKind, type NodeOf } from '../dsl/node.ts';

/**
 * The nodes reachable from `roots`, each once, children before parents.
 * @example topoOrder([f.node]).at(-1) === f.node
 */
export const topoOrder = (roots: readonly Node[]): readonly Node[] => {
  const order: Node[] = [];
  const seen = new Set<number>();
  const stack: { node: Node; next: number }[] = [];
  for (const r of roots) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    stack.push({ node: r, next: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { node: Node; next: number };
      const kids = children(top.node);
      if (top.next < kids.length) {
        const k = kids[top.next++] as Node;
        if (!seen.has(k.id)) {
          seen.add(k.id);
          stack.push({ node: k, next: 0 });
        }
      } else {
        order.push(top.node);
        stack.pop();
      }
    }
  }
  return order;
};

/** How many parents each node has within the DAG spanned by `roots` (roots count one extra). */
export const parentCounts = (roots: readonly Node[]): ReadonlyMap<number, number> => {
  const counts = new Map<number, number>();
  for (const n of topoOrder(roots)) {
    for (const k of children(n)) counts.set(k.id, (counts.get(k.id) ?? 0) + 1);
  }
  for (const r of roots) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
  return counts;
};

/** One function per node kind, given the node and its children's results. */
export type Algebra<R> = {
  readonly [K in NodeKind]: (node: NodeOf<K>, args: readonly R[]) => R;
};

/** Applies the algebra entry of `n`'s kind; the dispatch every fold uses. */
export const applyAlgebra = <R>(alg: Algebra<R>, n: Node, args: readonly R[]): R => {
  switch (n.kind) {
    case 'const': return alg.const(n, args);
    case 'var': return alg.var(n, args);
    case 'unary': return alg.unary(n, args);
    case 'binary': return alg.binary(n, args);
    case 'matmul': return alg.matmul(n, args);
    case 'reduce': return alg.reduce(n, args);
    case 'reshape': return alg.reshape(n, args);
    case 'broadcast': return alg.broadcast(n, args);
    case 'transpose': return alg.transpose(n, args);
    case 'concat': return alg.concat(n, args);
    case 'slice': return alg.slice(n, args);
    case 'patches': return alg.patches(n, args);
    case 'unpatches': return alg.unpatches(n, args);
  }
};

/**
 * Folds the DAG under `roots` bottom-up, evaluating each node once.
 * @example fold([e.node], { const: () => 1, var: () => 1, unary: (_, [a]) => a + 1, ... })
 */
export const fold = <R>(roots: readonly Node[], alg: Algebra<R>): readonly R[] => {
  const memo = new Map<number, R>();
  for (const n of topoOrder(roots)) {
    const args = children(n).map((k) => memo.get(k.id) as R);
    memo.set(n.id, applyAlgebra(alg, n, args));
  }
  return roots.map((r) => memo.get(r.id) as R);
};

/** The variables reachable from `roots`, in first-seen order. */
export const freeVars = (roots: readonly Node[]): readonly NodeOf<'var'>[] =>
  topoOrder(roots).filter((n): n is NodeOf<'var'> => n.kind === 'var');

/** Number of distinct nodes in the DAG under `roots`. */
export const dagSize = (roots: readonly Node[]): number => topoOrder(roots).length;
