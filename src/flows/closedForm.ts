/**
 * A rewrite for the exact divergence of one-hidden-layer networks: when `f` is structurally
 *
 *   f = s₂ ⊙ (σ(h) W₂) + c₂,   h = s₁ ⊙ (u W₁) + c₁,   u = z or u = [.., z, ..] (columns),
 *
 * with `W₁, W₂, sᵢ, cᵢ` independent of `z` (parameters, time gates, constants), then per row
 *
 *   tr(∂f/∂z) = Σₖ σ′(hₖ) s₁ₖ Σᵢ (W₁)ᵢₖ (W₂)ₖᵢ s₂ᵢ,
 *
 * i.e. `Σₖ σ′(hₖ) s₁ₖ (W₂ diag(s₂) W₁)ₖₖ`: one elementwise pass over the hidden units instead of
 * `D` reverse sweeps. This covers the plain MLP `σ(z W₁ + b₁) W₂ + b₂`, FFJORD's concat-squash
 * layers (`(x W + b) ⊙ gate(t) + shift(t)`) and an MLP on `[z, t]`. The match peels affine
 * wrappers (`+ c`, `− c`, `c −`, `⊙ s`, `/ s`, `−`) whose other operand does not depend on `z`
 * and never stretches the `z`-dependent operand, so each is a diagonal scale; `σ′` comes from the
 * VJP rule table (for tanh it reuses the forward value: `1 − tanh(h)²`).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as B from '../adjoint/build.ts';
import { isZero, unaryVjp } from '../adjoint/vjpRules.ts';
import * as X from '../dsl/expr.ts';
import { children, type Node } from '../dsl/node.ts';
import { shapeEq, type Dim } from '../dsl/shape.ts';
import { simplify } from '../interp/simplify.ts';
import { topoOrder } from '../interp/traverse.ts';
import { checkField, type Rows } from './trace.ts';

/** The ids of the nodes under `root` that depend on `z` (`z` included). */
const dependents = (root: Node, z: Node): ReadonlySet<number> => {
  const dep = new Set<number>();
  for (const n of topoOrder([root])) if (n === z || children(n).some((k) => dep.has(k.id))) dep.add(n.id);
  return dep;
};

/** `s · k`, where `undefined` is the scale 1. */
const times = (s: Node | undefined, k: Node): Node => (s === undefined ? k : B.mul(s, k));

/** A node with its affine wrappers peeled: `n = scale ⊙ core + (terms independent of z)`. */
interface Peeled {
  readonly core: Node;
  readonly scale: Node | undefined;
}

/**
 * Peels elementwise affine wrappers off `n` while exactly one operand depends on `z` and has the
 * node's own shape (so the wrapper is a diagonal map of it).
 */
const peel = (n: Node, dep: ReadonlySet<number>): Peeled => {
  let core = n;
  let scale: Node | undefined;
  for (;;) {
    if (core.kind === 'unary' && core.op === 'neg') {
      scale = times(scale, B.num(-1));
      core = core.x;
      continue;
    }
    if (core.kind !== 'binary') return { core, scale };
    const dx = dep.has(core.x.id), dy = dep.has(core.y.id);
    const own = (k: Node): boolean => shapeEq(k.shape, core.shape);
    if (dx === dy) return { core, scale };
    const [inner, other] = dx ? [core.x, core.y] : [core.y, core.x];
    if (!own(inner)) return { core, scale };
    switch (core.op) {
      case 'add': break;
      case 'sub': if (dy) scale = times(scale, B.num(-1)); break;
      case 'mul': scale = times(scale, other); break;
      case 'div':
        if (dy) return { core, scale };
        scale = times(scale, B.div(B.num(1), other));
        break;
      case 'pow':
      case 'maximum':
      case 'minimum':
        return { core, scale };
    }
    core = inner;
  }
};

/** `W₁` restricted to the rows that multiply `z`, when `u` is `z` or a column concat holding it. */
const rowsForZ = (u: Node, w1: Node, z: Node, dep: ReadonlySet<number>): E.Either<string, Node> => {
  if (u === z) return E.right(w1);
  if (u.kind !== 'concat' || u.axis !== 1) return E.left('the first layer\'s input is neither z nor a column concatenation holding z');
  let offset = 0, at = -1;
  for (const part of u.xs) {
    if (part === z) {
      if (at >= 0) return E.left('the first layer\'s input holds z twice');
      at = offset;
    } else if (dep.has(part.id)) return E.left('the first layer\'s input concatenates z with something that depends on z');
    const w = part.shape[1];
    if (typeof w !== 'number') return E.left('the first layer\'s input has a named column count');
    offset += w;
  }
  if (at < 0) return E.left('the first layer\'s input concatenates columns that are not z itself');
  return E.right(B.slice(w1, [at, 0], [z.shape[1] as Dim, w1.shape[1] as Dim]));
};

/** A matmul `x W` whose left operand depends on `z` and whose right one does not. */
const rowMatmul = (n: Node, dep: ReadonlySet<number>, what: string): E.Either<string, { x: Node; w: Node }> =>
  n.kind === 'matmul' && dep.has(n.x.id) && !dep.has(n.y.id)
    ? E.right({ x: n.x, w: n.y })
    : E.left(`${what} is a ${n.kind}, not a product x W with W independent of z`);

/**
 * The closed-form divergence of a one-hidden-layer network (see the module comment), or why `f`
 * does not have that shape. Equal to `exactTrace(f, z)` wherever both are defined.
 * @example
 * const h = X.tanh(X.add(X.matmul(z, W1.expr), b1.expr));
 * oneHiddenLayerTrace(X.add(X.matmul(h, W2.expr), b2.expr), z)
 * // right(Σₖ (1 − tanh(h)²)ₖ (W₂W₁)ₖₖ per row)
 */
export const oneHiddenLayerTrace = <M extends Dim, D extends Dim>(
  f: X.Expr<Rows<M, D>>, z: X.Expr<Rows<M, D>>,
): E.Either<string, X.Expr<readonly [M]>> => {
  const ok = checkField(f.node, z.node);
  if (E.isLeft(ok)) return ok;
  const dep = dependents(f.node, z.node);
  const m = z.shape[0];
  const out = peel(f.node, dep);
  const second = rowMatmul(out.core, dep, 'the output layer');
  if (E.isLeft(second)) return second;
  const act = second.right.x;
  if (act.kind !== 'unary') return E.left(`the output layer's input is a ${act.kind}, not an elementwise activation`);
  const hid = peel(act.x, dep);
  const first = rowMatmul(hid.core, dep, 'the hidden layer');
  if (E.isLeft(first)) return first;
  const w1 = rowsForZ(first.right.x, first.right.w, z.node, dep);
  if (E.isLeft(w1)) return w1;
  const w2 = second.right.w;
  const h = act.x;
  const dAct = unaryVjp[act.op](h, act, B.num(1));
  if (isZero(dAct)) return E.right(X.wrap(B.zeros([m]), [m] as const));
  // mixed[i, k] = (W₁)ᵢₖ (W₂)ₖᵢ; per hidden unit c_k = Σᵢ mixed[i, k] s₂ᵢ.
  const mixed = B.mul(w1.right, B.transpose(w2));
  const s2 = out.scale;
  const perUnit = s2 === undefined
    ? B.reduce('sum', mixed, [0], false)
    : B.mm(B.broadcastTo(s2, s2.shape.length === 2 && s2.shape[0] !== 1 ? f.shape : [1, f.shape[1]]), mixed);
  const weights = times(hid.scale, B.mul(B.broadcastTo(dAct, h.shape), perUnit));
  const [tr] = simplify([B.reduce('sum', B.broadcastTo(weights, h.shape), [1], false)]) as [Node];
  return E.right(X.wrap(tr, [m] as const));
};
