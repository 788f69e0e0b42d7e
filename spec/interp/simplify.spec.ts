import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as X from '../../src/dsl/expr.ts';
import { rules, simplify } from '../../src/interp/simplify.ts';
import { sym, type Shape } from '../../src/dsl/shape.ts';

const x = X.input('x', [3]);
const s1 = (e: X.Expr<Shape>) => simplify([e.node])[0];

test('identities: x+0, 0+x, x-0, x*1, 1*x, x/1, x^1, --x', () => {
  for (const e of [X.add(x, 0), X.add(0, x), X.sub(x, 0), X.mul(x, 1), X.mul(1, x), X.div(x, 1), X.pow(x, 1), X.neg(X.neg(x)), X.add(x, -0)])
    assert.equal(s1(e), x.node);
});

test('x*0, x-x, x/x and 0/x are never rewritten (false for NaN and ±∞)', () => {
  for (const e of [X.mul(x, 0), X.mul(0, x), X.sub(x, x), X.div(x, x), X.div(0, x), X.pow(x, 0)]) assert.equal(s1(e), e.node);
});

test('constant folding evaluates with the reference semantics', () => {
  const c = s1(X.add(X.mul(X.scalar(2), X.scalar(3)), X.exp(X.scalar(0))));
  assert.ok(c !== undefined && c.kind === 'const');
  assert.deepEqual(Array.from(c.value), [7]);
  const nan = s1(X.mul(X.scalar(0), X.scalar(Infinity)));
  assert.ok(nan !== undefined && nan.kind === 'const' && Number.isNaN(nan.value[0]));
});

test('a rewrite never changes the shape: x + zeros[2,3] with x [3] stays', () => {
  const z = X.tensor([0, 0, 0, 0, 0, 0], [2, 3]);
  const e = X.broadcastBinary('add', x, z);
  assert.deepEqual(s1(e)?.shape, [2, 3]);
  assert.notEqual(s1(e), x.node);
});

test('structural identities: reshape to own shape, transpose twice, full slice, concat of one, unit-axis sum', () => {
  const B = sym('batch');
  const m = X.input('m', [B, 3]);
  assert.equal(s1(X.reshape(m, [B, 3])), m.node);
  assert.equal(s1(X.transpose(X.transpose(m))), m.node);
  assert.equal(s1(X.slice(m, [0, 0], [B, 3])), m.node);
  assert.equal(s1(X.concat([m], 1)), m.node);
  const col = X.input('c', [B, 1]);
  assert.equal(s1(X.sumAxes(col, [1], true)), col.node);
});

test('shared subexpressions stay shared and unchanged DAGs come back identical', () => {
  const h = X.tanh(X.mul(x, 1));
  const e = X.add(h, X.mul(h, h));
  const out = s1(e);
  assert.ok(out !== undefined && out.kind === 'binary' && out.y.kind === 'binary');
  assert.equal(out.x, out.y.x);
  const clean = X.add(X.tanh(x), X.sin(x));
  assert.equal(s1(clean), clean.node);
});

test('every rule has a distinct name', () => {
  assert.equal(new Set(rules.map((r) => r.name)).size, rules.length);
});
