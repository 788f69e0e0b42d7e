/**
 * The reverse sweep: vector-Jacobian products as expressions. The sweep walks only the nodes
 * that lie on a path from a requested input to an output (descendants of the outputs that
 * depend on some `wrt`), in reverse topological order, iteratively (deep graphs are fine).
 * Each node's cotangent is the sum of its parents' contributions (fan-out sums); a node that
 * receives none keeps the symbolic `Zero` and builds nothing. The results are ordinary nodes:
 * they can be simplified, printed, compiled and differentiated again.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../dsl/construct.ts';
import { children, type Node } from '../dsl/node.ts';
import { formatShape, shapeEq, type Dim } from '../dsl/shape.ts';
import { simplify } from '../interp/simplify.ts';
import { topoOrder } from '../interp/traverse.ts';
import { checkRowwise } from './batch.ts';
import * as B from './build.ts';
import { applyVjpRule, isZero, Zero, type Cotangent } from './vjpRules.ts';

/**
 * The ids of the nodes under `outputs` that depend on some node of `wrt` (the `wrt` nodes
 * included when reachable), with the topological order it was computed on.
 */
const dependents = (outputs: readonly Node[], wrt: readonly Node[]): { order: readonly Node[]; dep: ReadonlySet<number> } => {
  const order = topoOrder(outputs);
  const wrtIds = new Set(wrt.map((w) => w.id));
  const dep = new Set<number>();
  for (const n of order) if (wrtIds.has(n.id) || children(n).some((k) => dep.has(k.id))) dep.add(n.id);
  return { order, dep };
};

/**
 * The reverse sweep with symbolic zeros exposed: for each `wrt`, Σ over outputs of
 * `cotangents[i]ᵀ · ∂outputs[i]/∂wrt`, or `Zero` when no output depends on it. Nothing is
 * simplified. A cotangent may itself be `Zero`.
 * @throws when the lists' lengths differ or a cotangent's shape differs from its output's
 * @example
 * const [gx] = vjpSweep([X.mul(x, x).node], [g.node], [x.node]); // g·x + g·x
 */
export const vjpSweep = (
  outputs: readonly Node[], cotangents: readonly Cotangent[], wrt: readonly Node[],
): readonly Cotangent[] => {
  if (outputs.length !== cotangents.length)
    throw new Error(`fluxion: vjp got ${outputs.length} outputs but ${cotangents.length} cotangents`);
  const { order, dep } = dependents(outputs, wrt);
  const wrtIds = new Set(wrt.map((w) => w.id));
  const acc = new Map<number, Node>();
  const addTo = (n: Node, c: Node): void => {
    if (!shapeEq(c.shape, n.shape))
      throw new Error(`bug: cotangent of shape ${formatShape(c.shape)} for a ${n.kind} of shape ${formatShape(n.shape)}`);
    const prev = acc.get(n.id);
    acc.set(n.id, prev === undefined ? c : B.add(prev, c));
  };
  outputs.forEach((o, i) => {
    const c = cotangents[i] as Cotangent;
    if (isZero(c)) return;
    if (!shapeEq(c.shape, o.shape))
      throw new Error(`fluxion: vjp cotangent ${i} has shape ${formatShape(c.shape)}, output has ${formatShape(o.shape)}`);
    if (dep.has(o.id)) addTo(o, c);
  });
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i] as Node;
    const g = acc.get(n.id);
    if (g === undefined) continue;
    const kids = children(n);
    const need = kids.map((k) => dep.has(k.id));
    if (need.some((b) => b)) {
      const cts = applyVjpRule(n, g, need);
      kids.forEach((k, j) => {
        const c = cts[j];
        if (need[j] === true && c !== undefined && !isZero(c)) addTo(k, c);
      });
    }
    // Every parent of `n` came before it in this loop: its cotangent is final.
    if (!wrtIds.has(n.id)) acc.delete(n.id);
  }
  return wrt.map((w) => acc.get(w.id) ?? Zero);
};

/**
 * Replaces `Zero` by an explicit zero of `shape` (`0`, or `broadcast(0, shape)`).
 * @example materialize(Zero, [sym('batch'), 2]) // broadcast(0, [batch,2])
 */
export const materialize = (c: Cotangent, shape: readonly Dim[]): Node => (isZero(c) ? B.zeros(shape) : c);

/**
 * Vector-Jacobian products: for each node of `wrt`, Σᵢ `cotangents[i]ᵀ · ∂outputs[i]/∂wrt`, as
 * a simplified expression of `wrt`'s shape (an explicit zero where nothing depends on it).
 * Evaluate the result together with the outputs to share the forward values it reuses. A
 * result may mention a named dim without a variable that fixes its size (the gradient of a sum
 * over the batch is a broadcast of a batch-free cotangent; the zero of a batched input is
 * `broadcast(0, [batch, …])`): evaluate it alongside a root that binds the dim (the outputs, the
 * state).
 * @throws when a cotangent's shape differs from its output's
 * @example
 * const y = X.tanh(X.matmul(z, W));
 * const [gz, gW] = vjp([y.node], [a.node], [z.node, W.node]); // (a·(1−y²))Wᵀ, zᵀ(a·(1−y²))
 */
export const vjp = (outputs: readonly Node[], cotangents: readonly Node[], wrt: readonly Node[]): readonly Node[] =>
  simplify(vjpSweep(outputs, cotangents, wrt).map((c, i) => materialize(c, (wrt[i] as Node).shape)));

/**
 * The gradient of a scalar `out` with respect to each `wrt`.
 * @throws when `out` is not a scalar
 * @example grad(X.sum(X.square(x)).node, [x.node]) // [2x]
 */
export const grad = (out: Node, wrt: readonly Node[]): readonly Node[] => {
  if (out.shape.length !== 0) throw new Error(`fluxion: grad needs a scalar output, got shape ${formatShape(out.shape)}`);
  return vjp([out], [B.num(1)], wrt);
};

const oneHot = (n: number, i: number): Node => {
  const v = new Float64Array(n);
  v[i] = 1;
  const r = C.constant(v, [n]);
  if (E.isLeft(r)) throw new Error(`bug: ${r.left}`);
  return r.right;
};

/**
 * The rows of the Jacobian of a per-row function: for `f: [B, D]` depending row-wise on
 * `z: [B, K]`, `D` expressions of shape `[B, K]`, row `i` holding `∂f[b, i]/∂z[b, :]` for every
 * `b`. Each is one reverse sweep with the one-hot cotangent `eᵢ` broadcast over the batch, which
 * is exact only when rows do not interact (batch independence); this is checked structurally
 * first (see `checkRowwise`). Unbatched `f: [D]`, `z: [K]` gives `D` expressions of shape `[K]`.
 * The sweeps share every node that depends only on the primal (e.g. `1 − tanh²`).
 * @example
 * const rows = jacobianRows(f.node, z.node); // right([∂f₀/∂z, ∂f₁/∂z]) for D = 2
 */
export const jacobianRows = (f: Node, z: Node): E.Either<string, readonly Node[]> => {
  const batched = f.shape.length === 2 && z.shape.length === 2;
  if (!batched && !(f.shape.length === 1 && z.shape.length === 1))
    return E.left(`jacobian: needs f and z both [B, D] or both [D], got f ${formatShape(f.shape)} and z ${formatShape(z.shape)}`);
  if (batched && f.shape[0] !== z.shape[0])
    return E.left(`jacobian: f ${formatShape(f.shape)} and z ${formatShape(z.shape)} have different batch dims`);
  const d = f.shape[f.shape.length - 1] as Dim;
  if (typeof d !== 'number' || d < 1) return E.left(`jacobian: the output size of f ${formatShape(f.shape)} must be a positive number`);
  if (batched) {
    const rowwise = checkRowwise(f, z);
    if (E.isLeft(rowwise)) return E.left(`jacobian: f does not act on rows independently: ${rowwise.left}`);
  }
  const rows: Node[] = [];
  for (let i = 0; i < d; i++) {
    const [c] = vjpSweep([f], [B.broadcastTo(oneHot(d, i), f.shape)], [z]);
    rows.push(materialize(c as Cotangent, z.shape));
  }
  return E.right(simplify(rows));
};

/**
 * The Jacobian of a per-row function as one expression: `[B, D, K]` for `f: [B, D]`,
 * `z: [B, K]` (entry `[b, i, j] = ∂f[b, i]/∂z[b, j]`), or `[D, K]` unbatched. See `jacobianRows`
 * for the batch-independence assumption, which is checked.
 * @example
 * jacobian(f.node, y.node) // right(node of shape [batch, 2, 2]) for the spiral dynamics
 */
export const jacobian = (f: Node, z: Node): E.Either<string, Node> =>
  E.map((rows: readonly Node[]) => {
    const lead = z.shape.slice(0, -1);
    const k = z.shape[z.shape.length - 1] as Dim;
    const stacked = rows.map((r) => B.reshape(r, [...lead, 1, k]));
    return B.concat(stacked, lead.length);
  })(jacobianRows(f, z));
