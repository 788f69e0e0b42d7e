/**
 * Saved activations for backprop: the values of f's expensive elementwise nodes (tanh, exp, …)
 * are outputs of the forward evaluation, kept on the tape, and inputs of the stage VJP, which
 * then does not recompute them nor the subgraph only they read (the matmul before a tanh). The
 * VJP rules reuse primal outputs (tanh: 1 − y²), so a saved node is exactly what they read.
 */
import type { Node, NodeOf } from '../../dsl/node.ts';
import { children } from '../../dsl/node.ts';
import { variable } from '../../dsl/construct.ts';
import type { UnaryOp } from '../../dsl/ops.ts';
import { rebuild } from '../../interp/simplify.ts';
import { freeVars, topoOrder } from '../../interp/traverse.ts';

type VarNode = NodeOf<'var'>;

/** f's nodes whose values the forward pass outputs, and the VJP that reads them. */
export interface SavedSplit {
  /** Nodes of f's DAG, in the order of `vars`. */
  readonly saved: readonly Node[];
  /** One input variable per saved node, of its shape. */
  readonly vars: readonly VarNode[];
  /** The VJP roots with every saved node replaced by its variable. */
  readonly vjpRoots: readonly Node[];
}

/** Elementwise ops worth a stored value: a transcendental per element (cheap ones are recomputed). */
const expensive: { readonly [K in UnaryOp]: boolean } = {
  neg: false, exp: true, log: true, log1p: true, sqrt: true, square: false, sin: true, cos: true, tanh: true, sigmoid: true,
  softplus: true, relu: false, abs: false, sign: false, step: false,
};

/**
 * Splits f's VJP at f's expensive elementwise nodes (none saved: the VJP unchanged).
 * @example const sp = splitSaved(s.fRoots, s.vjpRoots); // { saved: [tanh(…)], vars: [__saved_0], vjpRoots }
 */
export const splitSaved = (fRoots: readonly Node[], vjpRoots: readonly Node[]): SavedSplit => {
  const inVjp = new Set(topoOrder(vjpRoots).map((n) => n.id));
  const candidates = topoOrder(fRoots).filter((n) => n.kind === 'unary' && expensive[n.op] && inVjp.has(n.id));
  if (candidates.length === 0) return { saved: [], vars: [], vjpRoots };
  const taken = new Set(freeVars([...fRoots, ...vjpRoots]).map((v) => v.name));
  const varOf = new Map<number, VarNode>();
  candidates.forEach((n, i) => {
    let name = `saved_${i}`;
    while (taken.has(name)) name += '_';
    taken.add(name);
    const v = variable(name, 'input', n.shape);
    if (v._tag === 'Left') throw new Error(`bug: a saved variable: ${v.left}`);
    varOf.set(n.id, v.right);
  });
  const memo = new Map<number, Node>();
  for (const n of topoOrder(vjpRoots)) {
    const v = varOf.get(n.id);
    memo.set(n.id, v ?? rebuild(n, children(n).map((k) => memo.get(k.id) ?? k)));
  }
  const roots = vjpRoots.map((r) => memo.get(r.id) ?? r);
  // A saved node read only through another saved node is not an input after all.
  const used = new Set(freeVars(roots));
  const keep = candidates.filter((n) => used.has(varOf.get(n.id) as VarNode));
  return { saved: keep, vars: keep.map((n) => varOf.get(n.id) as VarNode), vjpRoots: roots };
};
