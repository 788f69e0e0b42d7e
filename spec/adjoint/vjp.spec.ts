/**
 * The reverse sweep: random expressions against finite differences, fan-out summing, linear cost
 * on shared DAGs, deep graphs, and Jacobians with their batch-independence check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import type { Node, NodeOf } from '../../src/dsl/node.ts';
import type { Shape } from '../../src/dsl/shape.ts';
import { grad, jacobian, jacobianRows, vjp, vjpSweep } from '../../src/adjoint/vjp.ts';
import { checkRowwise } from '../../src/adjoint/batch.ts';
import { isZero } from '../../src/adjoint/vjpRules.ts';
import { dagSize, freeVars, topoOrder } from '../../src/interp/traverse.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { anyExpr, exprVars } from '../arbitraries/expr.ts';
import { checkVjp, rng, run } from './fd.ts';
import { Bt, spiral } from './models.ts';

const data = (t: F64Tensor | undefined): number[] => Array.from((t as F64Tensor).data);

test('property: the VJP of random expressions equals central finite differences', () => {
  const BATCH = 4;
  const sizes = new Map([['batch', BATCH]]);
  fc.assert(
    fc.property(anyExpr, fc.integer({ min: 0, max: 2 ** 30 }), (e, seed) => {
      const wrt = freeVars([e]);
      if (wrt.length === 0) return;
      const r = rng(seed, 'property');
      const env = Object.fromEntries(Object.values(exprVars).map((v) => [
        v.name, r.tensor(v.shape.map((d) => (typeof d === 'number' ? d : BATCH)), () => r.uniform(-2, 2)),
      ]));
      const { mismatches } = checkVjp({ outputs: [e], wrt, env, rng: r, sizes, binders: Object.values(exprVars) });
      assert.deepEqual(mismatches, []);
    }),
    { seed: 20240601, numRuns: 100 },
  );
});

test('fan-out sums cotangents: d(x·x)/dx = 2x', () => {
  const x = X.variable('x', 'input', [3]);
  const [gx] = grad(X.sum(X.mul(x, x)).node, [x.node]);
  const xs = [0.5, -2, 3];
  assert.deepEqual(data(run([gx as Node], { x: { shape: [3], data: Float64Array.from(xs) } })[0]), xs.map((v) => 2 * v));
});

test('a DAG of 60 doubling levels differentiates in linear size', () => {
  const x = X.variable('x', 'input', []);
  let y: X.Expr<readonly []> = x;
  for (let i = 0; i < 60; i++) y = X.add(y, y);
  const [g] = grad(y.node, [x.node]);
  // Each level adds one node to the cotangent (c + c); exponential blow-up would be 2^60.
  assert.ok(dagSize([g as Node]) <= 2 * 60 + 4, `size ${dagSize([g as Node])}`);
  assert.equal(data(run([g as Node], { x: { shape: [], data: Float64Array.of(1) } })[0])[0], 2 ** 60);
});

test('a chain of depth 10,000 differentiates without recursion', () => {
  const x = X.variable('x', 'input', []);
  let y: X.Expr<readonly []> = x;
  for (let i = 0; i < 10_000; i++) y = X.sin(y);
  const [g] = grad(y.node, [x.node]);
  let v = 0.7, d = 1;
  for (let i = 0; i < 10_000; i++) {
    d *= Math.cos(v);
    v = Math.sin(v);
  }
  const got = data(run([g as Node], { x: { shape: [], data: Float64Array.of(0.7) } })[0])[0] as number;
  assert.ok(Math.abs(got - d) <= 1e-12 * Math.abs(d), `${got} vs ${d}`);
});

test('only paths between outputs and wrt are walked; unrelated inputs get zero', () => {
  const x = X.variable('x', 'input', [Bt, 2]);
  const w = X.variable('w', 'input', [2, 2]);
  const u = X.variable('u', 'input', [Bt, 2]);
  const f = X.add(X.tanh(X.matmul(x, w)), X.exp(u));
  const [gw, gu] = vjpSweep([f.node], [u.node], [w.node, X.variable('unused', 'input', [3]).node]);
  assert.ok(gw !== undefined && !isZero(gw));
  assert.ok(gu !== undefined && isZero(gu));
  // exp(u) is not on a path to w: no rule ran on it, so the cotangent of w does not mention it.
  assert.ok(!topoOrder([gw as Node]).some((n) => n.kind === 'unary' && n.op === 'exp'));
});

test('vjp checks the cotangent shapes', () => {
  const x = X.variable('x', 'input', [3]);
  assert.throws(() => vjp([X.tanh(x).node], [X.variable('g', 'input', [2]).node], [x.node]), /cotangent 0 has shape \[2\]/);
  assert.throws(() => vjp([x.node], [], [x.node]), /1 outputs but 0 cotangents/);
});

test('second derivatives: the VJP of a VJP matches finite differences', () => {
  const x = X.variable('x', 'input', [3]);
  const [g1] = grad(X.sum(X.mul(X.tanh(x), X.sigmoid(x))).node, [x.node]);
  const r = rng(5);
  const { mismatches } = checkVjp({ outputs: [g1 as Node], wrt: [x.node as NodeOf<'var'>], env: { x: r.tensor([3]) }, rng: r });
  assert.deepEqual(mismatches, []);
});

// ---------- Jacobians ----------

test('jacobian of the spiral dynamics matches finite differences', () => {
  const { state: y, f } = spiral();
  const J = jacobian(f.node, y.node);
  assert.ok(E.isRight(J));
  assert.deepEqual(J.right.shape, ['batch', 2, 2]);
  const r = rng(6);
  const B = 3;
  const env = {
    y: r.tensor([B, 2]), W1: r.tensor([2, 50], () => r.normal() * 0.5), b1: r.tensor([50]),
    W2: r.tensor([50, 2], () => r.normal() * 0.3), b2: r.tensor([2]),
  };
  const [Jv] = run([J.right], env);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < 2; j++) {
      const h = 1e-6;
      const at = (d: number) => {
        const yd = Float64Array.from(env.y.data);
        yd[b * 2 + j] = (yd[b * 2 + j] as number) + d;
        return data(run([f.node], { ...env, y: { shape: [B, 2], data: yd } })[0]);
      };
      const plus = at(h), minus = at(-h);
      for (let i = 0; i < 2; i++) {
        const fd = ((plus[b * 2 + i] as number) - (minus[b * 2 + i] as number)) / (2 * h);
        const sym = data(Jv)[b * 4 + i * 2 + j] as number;
        assert.ok(Math.abs(sym - fd) <= 1e-6 * Math.max(1, Math.abs(fd)), `J[${b},${i},${j}] = ${sym}, fd ${fd}`);
      }
      // Rows do not interact: f of other rows is unchanged.
      for (let b2i = 0; b2i < B; b2i++) if (b2i !== b) assert.equal(plus[b2i * 2], minus[b2i * 2]);
    }
  }
  const rows = jacobianRows(f.node, y.node);
  assert.ok(E.isRight(rows) && rows.right.length === 2);
});

test('jacobian rejects functions whose rows interact, and bad shapes', () => {
  const z = X.state('z', [Bt, 3]);
  const Wz = X.variable('Wz', 'param', [3, 3]);
  const bad: readonly [string, X.Expr<Shape>, RegExp][] = [
    ['mean over the batch', X.sub(z, X.meanAxes(z, [0], true)), /reduces over the batch axis/],
    ['batch contraction', X.broadcastTo(X.matmul(X.transposeM(z), z), [3, 3]), /contracts over the batch axis|multiplies two/],
    ['batch-to-batch product', X.matmul(z, X.matmul(X.transposeM(z), z)), /multiplies two batch-dependent/],
  ];
  for (const [label, f, why] of bad) {
    const r = checkRowwise(f.node, z.node);
    assert.ok(E.isLeft(r), label);
    assert.match(r.left, why, label);
  }
  const good: readonly X.Expr<Shape>[] = [
    X.concat([X.slice(z, [0, 1], [Bt, 2]), X.slice(z, [0, 0], [Bt, 1])], 1),
    X.tanh(X.add(X.matmul(z, Wz), X.sumAxes(z, [1], true))),
    X.transpose(X.reshape(X.transpose(z), [3, Bt]), [1, 0]),
    X.mul(z, X.broadcastTo(X.meanAxes(Wz, [0], true), [Bt, 3])),
  ];
  for (const f of good) assert.ok(E.isRight(checkRowwise(f.node, z.node)));
  assert.ok(E.isLeft(jacobian(X.sumAxis(z, 1).node, z.node)));
  assert.ok(E.isLeft(jacobian(X.matmul(z, X.matmul(X.transposeM(z), z)).node, z.node)));
});

test('unbatched jacobian of a vector function', () => {
  const x = X.variable('x', 'input', [3]);
  const f = X.mul(X.sin(x), X.sum(x));
  const J = jacobian(f.node, x.node);
  assert.ok(E.isRight(J));
  const xs = [0.1, 0.7, -0.4];
  const [Jv] = run([J.right], { x: { shape: [3], data: Float64Array.from(xs) } });
  const s = xs.reduce((a, b) => a + b, 0);
  const expected = xs.flatMap((xi, i) => xs.map((_, j) => (i === j ? Math.cos(xi) * s : 0) + Math.sin(xi)));
  data(Jv).forEach((v, k) => assert.ok(Math.abs(v - (expected[k] as number)) < 1e-12));
});
