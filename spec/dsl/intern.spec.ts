import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as X from '../../src/dsl/expr.ts';
import * as C from '../../src/dsl/construct.ts';
import { internTableSize, sweepInternTable } from '../../src/dsl/intern.ts';
import { sym } from '../../src/dsl/shape.ts';

const B = sym('batch');

test('building the same expression twice gives the same node', () => {
  const build = () => {
    const y = X.state('y', [B, 2]);
    const W = X.variable('W', 'param', [2, 3]);
    return X.sum(X.tanh(X.add(X.matmul(y, W), X.tensor([1, 2, 3], [3]))));
  };
  const a = build(), b = build();
  assert.equal(a.node, b.node);
  assert.equal(a.node.id, b.node.id);
});

test('different structure gives different nodes; -0 and 0 constants differ, NaN equals NaN', () => {
  const x = X.input('x', [2]);
  assert.notEqual(X.add(x, 1).node, X.add(x, 2).node);
  assert.notEqual(X.sub(x, 1).node, X.add(x, 1).node);
  assert.notEqual(X.scalar(0).node, X.scalar(-0).node);
  assert.equal(X.scalar(NaN).node, X.scalar(NaN).node);
  assert.notEqual(X.input('x', [3]).node, x.node);
  assert.notEqual(X.variable('x', 'param', [2]).node, x.node);
});

test('nodes are frozen', () => {
  const n = X.add(X.input('x', [2]), 1).node;
  assert.ok(Object.isFrozen(n));
  assert.ok(Object.isFrozen(n.shape));
});

test('constructors reject bad shapes with messages naming the op', () => {
  const x = X.input('x', [2, 3]).node;
  const msg = (r: { _tag: string; left?: string }) => (r._tag === 'Left' ? r.left : 'ok');
  assert.equal(msg(C.matmul(x, x)), 'matmul inner dimensions differ ([2,3] × [2,3])');
  assert.equal(msg(C.reshape(x, [5])), 'reshape: cannot reshape [2,3] to [5]');
  assert.equal(msg(C.reduce('sum', x, [2])), 'sum: axis 2 out of range for rank 2');
  assert.equal(msg(C.transpose(x, [0, 0])), 'transpose: [0,0] is not a permutation of 2 axes');
  assert.equal(msg(C.slice(x, [1, 0], [2, 3])), 'slice: [1, 1+2) out of range on axis 0 of [2,3]');
  assert.equal(msg(C.variable('__proto__', 'input', [1])), 'var: name __proto__ is reserved');
  assert.equal(msg(C.constant([1, 2], [3])), 'const: 2 values for shape [3] (needs 3)');
});

test('the intern table does not grow across many short-lived expressions', { skip: typeof globalThis.gc !== 'function' && 'needs --expose-gc' }, async () => {
  const gc = globalThis.gc as () => void;
  const x = X.input('x', [2]);
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    sweepInternTable();
  };
  await settle();
  const base = internTableSize();
  for (let it = 0; it < 20_000; it++) {
    // A fresh constant each "training step": nothing keeps these alive afterwards.
    X.sum(X.mul(X.add(x, it), it + 0.5));
  }
  const grown = internTableSize();
  await settle();
  const after = internTableSize();
  assert.ok(grown - base >= 20_000, `expected growth while alive (base ${base}, grown ${grown})`);
  assert.ok(after - base < 1000, `intern table kept ${after - base} dead entries`);
});
