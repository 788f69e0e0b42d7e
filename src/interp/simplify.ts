/**
 * Simplification: constant folding and algebraic identities that hold exactly under IEEE-754
 * arithmetic (up to the sign of a zero). Rules are data: each is a name and a partial rewrite
 * of one node whose children are already simplified. `x * 0 → 0` is deliberately absent: it is
 * false for x = NaN or ±∞; so are `x - x → 0` and `sqrt(x)² → x`.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../dsl/construct.ts';
import { children, type Node } from '../dsl/node.ts';
import { shapeEq, staticSize } from '../dsl/shape.ts';
import { evalF64 } from './evalF64.ts';
import { topoOrder } from './traverse.ts';

/** One rewrite: returns the replacement, or `undefined` when it does not apply. */
export interface Rule {
  readonly name: string;
  readonly rewrite: (n: Node) => Node | undefined;
}

const ok = <T extends Node>(r: E.Either<string, T>): Node | undefined => (E.isRight(r) ? r.right : undefined);
const isOne = (n: Node): boolean => C.isConstAll(n, 1);
const isZero = (n: Node): boolean => C.isConstAll(n, 0) || C.isConstAll(n, -0);
const FOLD_LIMIT = 4096;

/** The rule table, tried in order at every node. */
export const rules: readonly Rule[] = [
  {
    name: 'fold constants',
    rewrite: (n) => {
      if (n.kind === 'const' || n.kind === 'var') return undefined;
      const kids = children(n);
      const size = staticSize(n.shape);
      if (size === undefined || size > FOLD_LIMIT || !kids.every((k) => k.kind === 'const')) return undefined;
      const r = evalF64([n], {});
      if (E.isLeft(r)) return undefined;
      const t = r.right[0];
      return t === undefined ? undefined : ok(C.constant(t.data, n.shape));
    },
  },
  { name: 'x + 0 → x', rewrite: (n) => (n.kind === 'binary' && n.op === 'add' && isZero(n.y) ? n.x : undefined) },
  { name: '0 + x → x', rewrite: (n) => (n.kind === 'binary' && n.op === 'add' && isZero(n.x) ? n.y : undefined) },
  // x + x is exactly 2·x in IEEE arithmetic (both round the same, overflow and NaN alike).
  { name: 'x + x → 2x', rewrite: (n) => (n.kind === 'binary' && n.op === 'add' && n.x === n.y ? ok(C.binary('mul', C.scalar(2), n.x)) : undefined) },
  { name: 'x - 0 → x', rewrite: (n) => (n.kind === 'binary' && n.op === 'sub' && isZero(n.y) ? n.x : undefined) },
  { name: '0 - x → -x', rewrite: (n) => (n.kind === 'binary' && n.op === 'sub' && isZero(n.x) ? ok(C.unary('neg', n.y)) : undefined) },
  { name: 'x * 1 → x', rewrite: (n) => (n.kind === 'binary' && n.op === 'mul' && isOne(n.y) ? n.x : undefined) },
  { name: '1 * x → x', rewrite: (n) => (n.kind === 'binary' && n.op === 'mul' && isOne(n.x) ? n.y : undefined) },
  { name: 'x * -1 → -x', rewrite: (n) => (n.kind === 'binary' && n.op === 'mul' && C.isConstAll(n.y, -1) ? ok(C.unary('neg', n.x)) : undefined) },
  { name: '-1 * x → -x', rewrite: (n) => (n.kind === 'binary' && n.op === 'mul' && C.isConstAll(n.x, -1) ? ok(C.unary('neg', n.y)) : undefined) },
  { name: 'x / 1 → x', rewrite: (n) => (n.kind === 'binary' && n.op === 'div' && isOne(n.y) ? n.x : undefined) },
  { name: 'x ^ 1 → x', rewrite: (n) => (n.kind === 'binary' && n.op === 'pow' && isOne(n.y) ? n.x : undefined) },
  { name: 'x ^ 2 → x²', rewrite: (n) => (n.kind === 'binary' && n.op === 'pow' && C.isConstAll(n.y, 2) ? ok(C.unary('square', n.x)) : undefined) },
  { name: '--x → x', rewrite: (n) => (n.kind === 'unary' && n.op === 'neg' && n.x.kind === 'unary' && n.x.op === 'neg' ? n.x.x : undefined) },
  { name: 'x - -y → x + y', rewrite: (n) => (n.kind === 'binary' && n.op === 'sub' && n.y.kind === 'unary' && n.y.op === 'neg' ? ok(C.binary('add', n.x, n.y.x)) : undefined) },
  { name: 'x + -y → x - y', rewrite: (n) => (n.kind === 'binary' && n.op === 'add' && n.y.kind === 'unary' && n.y.op === 'neg' ? ok(C.binary('sub', n.x, n.y.x)) : undefined) },
  { name: '-x + y → y - x', rewrite: (n) => (n.kind === 'binary' && n.op === 'add' && n.x.kind === 'unary' && n.x.op === 'neg' ? ok(C.binary('sub', n.y, n.x.x)) : undefined) },
  {
    name: '(-x)(-y) → xy',
    rewrite: (n) => (n.kind === 'binary' && n.op === 'mul' && n.x.kind === 'unary' && n.x.op === 'neg' && n.y.kind === 'unary' && n.y.op === 'neg'
      ? ok(C.binary('mul', n.x.x, n.y.x)) : undefined),
  },
  { name: 'reshape to own shape', rewrite: (n) => (n.kind === 'reshape' && shapeEq(n.x.shape, n.shape) ? n.x : undefined) },
  { name: 'reshape of reshape', rewrite: (n) => (n.kind === 'reshape' && n.x.kind === 'reshape' ? ok(C.reshape(n.x.x, n.shape)) : undefined) },
  { name: 'broadcast to own shape', rewrite: (n) => (n.kind === 'broadcast' && shapeEq(n.x.shape, n.shape) ? n.x : undefined) },
  { name: 'identity transpose', rewrite: (n) => (n.kind === 'transpose' && n.perm.every((p, i) => p === i) ? n.x : undefined) },
  {
    name: 'transpose of transpose',
    rewrite: (n) => (n.kind === 'transpose' && n.x.kind === 'transpose'
      ? ok(C.transpose(n.x.x, n.perm.map((p) => (n.x.kind === 'transpose' ? (n.x.perm[p] as number) : p))))
      : undefined),
  },
  {
    name: 'reduce over unit axes',
    rewrite: (n) => {
      if (n.kind !== 'reduce' || !n.axes.every((a) => n.x.shape[a] === 1)) return undefined;
      if (n.op === 'logsumexp') return undefined; // logsumexp of one element is itself, but keep NaN/inf handling in one place
      return shapeEq(n.shape, n.x.shape) ? n.x : ok(C.reshape(n.x, n.shape));
    },
  },
  { name: 'full slice', rewrite: (n) => (n.kind === 'slice' && shapeEq(n.shape, n.x.shape) ? n.x : undefined) },
  { name: 'concat of one', rewrite: (n) => (n.kind === 'concat' && n.xs.length === 1 ? n.xs[0] : undefined) },
];

/**
 * Rebuilds `n` over new children (interning returns `n` itself when nothing changed).
 * @example rebuild(n, children(n)) === n
 */
export const rebuild = (n: Node, kids: readonly Node[]): Node => {
  const [a, b] = kids as [Node, Node];
  const r = ((): E.Either<string, Node> => {
    switch (n.kind) {
      case 'const':
      case 'var': return E.right(n);
      case 'unary': return C.unary(n.op, a);
      case 'binary': return C.binary(n.op, a, b);
      case 'matmul': return C.matmul(a, b);
      case 'reduce': return C.reduce(n.op, a, n.axes, n.keepDims);
      case 'reshape': return C.reshape(a, n.shape);
      case 'broadcast': return C.broadcastTo(a, n.shape);
      case 'transpose': return C.transpose(a, n.perm);
      case 'concat': return C.concat(kids, n.axis);
      case 'slice': return C.slice(a, n.begin, n.shape);
      case 'patches': return C.patches(a, n.window);
      case 'unpatches': return C.unpatches(a, n.window, [n.shape[1] as number, n.shape[2] as number]);
    }
  })();
  if (E.isLeft(r)) throw new Error(`bug: rebuilding ${n.kind} failed: ${r.left}`);
  return r.right;
};

const MAX_REWRITES_PER_NODE = 64;

const firstRewrite = (ruleSet: readonly Rule[], n: Node): Node | undefined => {
  for (const r of ruleSet) {
    const m = r.rewrite(n);
    if (m !== undefined && m !== n && shapeEq(m.shape, n.shape)) return m;
  }
  return undefined;
};

/**
 * Simplifies a DAG with `ruleSet` (default: `rules`). Shapes never change; a rewrite whose
 * result has another shape is ignored. Shared nodes stay shared.
 * @example simplify([X.add(X.mul(x, 1), 0).node]) // [x.node]
 */
export const simplify = (roots: readonly Node[], ruleSet: readonly Rule[] = rules): readonly Node[] => {
  const memo = new Map<number, Node>();
  const run = (top: readonly Node[], depth: number): void => {
    for (const n of topoOrder(top)) {
      if (memo.has(n.id)) continue;
      let cur = rebuild(n, children(n).map((k) => memo.get(k.id) ?? k));
      for (let i = 0; i < MAX_REWRITES_PER_NODE; i++) {
        const hit = firstRewrite(ruleSet, cur);
        if (hit === undefined) break;
        // A rewrite may build new nodes over simplified children; simplify those too.
        if (!memo.has(hit.id) && depth < 8) run([hit], depth + 1);
        cur = memo.get(hit.id) ?? hit;
      }
      memo.set(n.id, cur);
      memo.set(cur.id, cur);
    }
  };
  run(roots, 0);
  return roots.map((r) => memo.get(r.id) ?? r);
};
