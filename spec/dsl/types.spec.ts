/**
 * Type-level tests: each `@ts-expect-error` line must fail to compile (the type check in
 * `npm test` fails if one compiles), and the runtime part checks the same shapes at run time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as X from '../../src/dsl/expr.ts';
import { sym } from '../../src/dsl/shape.ts';

const B = sym('batch');

test('matmul unifies inner dimensions and keeps outer ones', () => {
  const y = X.state('y', [B, 2]);
  const W1 = X.variable('W1', 'param', [2, 50]);
  const b1 = X.variable('b1', 'param', [50]);
  const W2 = X.variable('W2', 'param', [50, 2]);
  const h: X.Expr<readonly [typeof B, 50]> = X.tanh(X.add(X.matmul(y, W1), b1));
  const f: X.Expr<readonly [typeof B, 2]> = X.matmul(h, W2);
  assert.deepEqual(f.shape, ['batch', 2]);
  // @ts-expect-error inner dimensions 2 and 3 differ
  assert.throws(() => X.matmul(y, X.variable('W3', 'param', [3, 50])), /inner dimensions differ/);
  // @ts-expect-error result of [B,2]×[2,50] is not [B,2]
  const bad: X.Expr<readonly [typeof B, 2]> = X.matmul(y, W1);
  void bad;
});

test('elementwise ops accept equal shapes, suffixes and numbers, not other shapes', () => {
  const x = X.input('x', [B, 3]);
  assert.deepEqual(X.mul(x, 2).shape, ['batch', 3]);
  assert.deepEqual(X.sub(1, x).shape, ['batch', 3]);
  assert.deepEqual(X.add(X.variable('b', 'param', [3]), x).shape, ['batch', 3]);
  // @ts-expect-error [4] is not a suffix of [batch,3]
  assert.throws(() => X.add(x, X.variable('c', 'param', [4])), /do not broadcast/);
});

test('reductions drop the reduced axis in the type', () => {
  const x = X.input('x', [B, 3]);
  const s: X.Expr<readonly [typeof B]> = X.sumAxis(x, 1);
  const all: X.Expr<readonly []> = X.mean(x);
  assert.deepEqual(s.shape, ['batch']);
  assert.deepEqual(all.shape, []);
  // @ts-expect-error summing axis 0 leaves [3], not [batch]
  const wrong: X.Expr<readonly [typeof B]> = X.sumAxis(x, 0);
  void wrong;
});
