import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { sym, type Shape } from '../../src/dsl/shape.ts';
import { evalF64, unaryF64, binaryF64, type F64Env } from '../../src/interp/evalF64.ts';
import { formatBindError } from '../../src/interp/bind.ts';
import { f64, fromNested, toNested, type Nested } from '../../src/interp/tensor.ts';
import { unaryOps, binaryOps } from '../../src/dsl/ops.ts';

const B = sym('batch');
const run = (e: X.Expr<Shape>, env: Record<string, Nested>): Nested => {
  const tenv: F64Env = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, fromNested(v)!]));
  const r = evalF64([e.node], tenv);
  if (E.isLeft(r)) throw new Error(formatBindError(r.left));
  return toNested(r.right[0]!);
};

test('spiral true dynamics (y∘y∘y) A by hand', () => {
  const y = X.state('y', [B, 2]);
  const A = X.tensor([-0.1, 2, -2, -0.1], [2, 2]);
  const f = X.matmul(X.mul(X.mul(y, y), y), A);
  assert.deepEqual(run(f, { y: [[2, 0], [1, -1]] }), [[-0.8, 16], [1.9, 2.1]]);
});

test('broadcasting: bias, scalar, column', () => {
  const x = X.input('x', [2, 3]);
  assert.deepEqual(run(X.add(x, X.tensor([10, 20, 30], [3])), { x: [[1, 2, 3], [4, 5, 6]] }), [[11, 22, 33], [14, 25, 36]]);
  assert.deepEqual(run(X.mul(2, x), { x: [[1, 2, 3], [4, 5, 6]] }), [[2, 4, 6], [8, 10, 12]]);
  const col = X.input('c', [2, 1]);
  assert.deepEqual(run(X.broadcastBinary('sub', x, col), { x: [[1, 2, 3], [4, 5, 6]], c: [[1], [4]] }), [[0, 1, 2], [0, 1, 2]]);
  const row = X.input('r', [1, 3]);
  assert.deepEqual(run(X.broadcastBinary('add', col, row), { c: [[1], [2]], r: [[10, 20, 30]] }), [[11, 21, 31], [12, 22, 32]]);
});

test('reductions over axes, keepDims, logsumexp stable and NaN-propagating', () => {
  const x = X.input('x', [2, 3]);
  const v = { x: [[1, 2, 3], [4, 5, 6]] };
  assert.deepEqual(run(X.sumAxis(x, 0), v), [5, 7, 9]);
  assert.deepEqual(run(X.sumAxes(x, [1], true), v), [[6], [15]]);
  assert.deepEqual(run(X.meanAxis(x, 1), v), [2, 5]);
  assert.equal(run(X.sum(x), v), 21);
  const big = run(X.logsumexpAxis(x, 1), { x: [[1000, 1000, 1000], [-Infinity, -Infinity, -Infinity]] }) as number[];
  assert.ok(Math.abs(big[0]! - (1000 + Math.log(3))) < 1e-9);
  assert.equal(big[1], -Infinity);
  const nan = run(X.logsumexp(x), { x: [[1, NaN, 3], [4, 5, 6]] });
  assert.ok(Number.isNaN(nan));
});

test('structural ops: reshape, broadcast, transpose 3-D, concat, slice', () => {
  const x = X.input('x', [2, 3]);
  const v = { x: [[1, 2, 3], [4, 5, 6]] };
  assert.deepEqual(run(X.reshape(x, [3, 2]), v), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(run(X.broadcastTo(X.input('r', [3]), [2, 3]), { r: [7, 8, 9] }), [[7, 8, 9], [7, 8, 9]]);
  const z = X.input('z', [2, 2, 3]);
  const zv = [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]];
  assert.deepEqual(run(X.transpose(z, [2, 0, 1]), { z: zv }), [[[1, 4], [7, 10]], [[2, 5], [8, 11]], [[3, 6], [9, 12]]]);
  assert.deepEqual(run(X.concat([x, X.input('w', [2, 1])], 1), { ...v, w: [[0], [-1]] }), [[1, 2, 3, 0], [4, 5, 6, -1]]);
  assert.deepEqual(run(X.concat([x, x], 0), v), [[1, 2, 3], [4, 5, 6], [1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(run(X.slice(z, [1, 0, 1], [1, 2, 2]), { z: zv }), [[[8, 9], [11, 12]]]);
});

test('named dims bind from inputs; conflicts and missing inputs are errors', () => {
  const y = X.state('y', [B, 2]);
  const u = X.input('u', [B, 2]);
  const r = evalF64([X.add(y, u).node], { y: f64([1, 2], [1, 2]), u: f64([1, 2, 3, 4], [2, 2]) });
  assert.ok(E.isLeft(r));
  assert.equal(formatBindError(r.left), 'input u gives dim batch size 2, but another input gave 1');
  const m = evalF64([y.node], {});
  assert.ok(E.isLeft(m) && formatBindError(m.left) === 'missing input y of shape [batch,2]');
  const s = evalF64([y.node], { y: f64([1, 2, 3], [1, 3]) });
  assert.ok(E.isLeft(s) && formatBindError(s.left) === 'input y has shape [1,3], expected [batch,2]');
  const unbound = evalF64([X.broadcastTo(X.scalar(1), [sym('n')]).node], {});
  assert.ok(E.isLeft(unbound) && unbound.left._tag === 'UnboundDim');
});

test('op tables: spot values, stability, NaN propagation', () => {
  assert.equal(unaryF64.sigmoid(-800), 0);
  assert.equal(unaryF64.sigmoid(800), 1);
  assert.equal(unaryF64.softplus(800), 800);
  assert.ok(Math.abs(unaryF64.softplus(-800)) < 1e-300);
  assert.equal(unaryF64.step(0), 0);
  assert.equal(unaryF64.relu(-3), 0);
  for (const op of unaryOps) if (op !== 'sign' && op !== 'step') assert.ok(Number.isNaN(unaryF64[op](NaN)), op);
  assert.ok(Number.isNaN(unaryF64.step(NaN)) && Number.isNaN(unaryF64.sign(NaN)));
  for (const op of binaryOps) assert.ok(Number.isNaN(binaryF64[op](NaN, 1)) || op === 'pow', op);
  assert.equal(binaryF64.pow(NaN, 0), 1); // IEEE pow(NaN, 0) = 1
});

test('a shared subexpression is evaluated once, so a 60-level doubling DAG is fast', () => {
  let e: X.Expr<readonly [2]> = X.input('x', [2]);
  for (let i = 0; i < 60; i++) e = X.add(e, e);
  assert.deepEqual(run(e, { x: [1, 0] }), [2 ** 60, 0]);
});

test('a chain of depth 20,000 evaluates without stack overflow', () => {
  let e: X.Expr<readonly [1]> = X.input('x', [1]);
  for (let i = 0; i < 20_000; i++) e = X.add(e, 1);
  assert.deepEqual(run(e, { x: [0] }), [20_000]);
});
