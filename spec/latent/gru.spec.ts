/**
 * The GRU cell: one step against a hand-written float64 GRU, its VJP against central finite
 * differences, the parameter layout and initialisation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { initParams } from '../../src/dsl/params.ts';
import { sym } from '../../src/dsl/shape.ts';
import type { NodeOf } from '../../src/dsl/node.ts';
import { kernelEvaluator } from '../../src/interp/evaluator.ts';
import { gru, zeroState } from '../../src/latent/gru.ts';
import { checkVjp, rng, run } from '../adjoint/fd.ts';
import { assertProperty } from '../support/property.ts';
import { assertClose, gruParams, gruStepRef, mat } from './reference.ts';

const B = sym('batch');

test('one step equals the hand-written PyTorch GRU equations (reference and kernel evaluators)', () => {
  assertProperty(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 2 ** 30 }),
      (I, H, rows, seed) => {
        const cell = gru('g', I, H);
        const h = X.input('h', [B, H]), x = X.input('x', [B, I]);
        const out = cell.apply(h, x);
        const r = rng(seed, 'gru');
        const params = Object.fromEntries(cell.params.map((p) => [p.name, r.tensor(p.shape, () => r.uniform(-1.5, 1.5))]));
        const env = { ...params, h: r.tensor([rows, H]), x: r.tensor([rows, I], () => r.uniform(-3, 3)) };
        const [got] = run([out.node], env);
        const want = gruStepRef(gruParams(params, 'g'), mat(env.h), mat(env.x));
        assertClose((got as { data: Float64Array }).data, want.data, 1e-13, 'step');
        const k = kernelEvaluator([out.node])(env);
        assert.ok(E.isRight(k));
        assertClose((k.right[0] as { data: Float64Array }).data, want.data, 1e-13, 'kernel');
      }),
    { seed: 7, numRuns: 40 },
  );
});

test('the VJP of a step w.r.t. h, x and every parameter equals central finite differences', () => {
  const cell = gru('g', 3, 4);
  const h = X.input('h', [B, 4]), x = X.input('x', [B, 3]);
  const out = cell.apply(h, x);
  const r = rng(11, 'gru-vjp');
  const params = Object.fromEntries(cell.params.map((p) => [p.name, r.tensor(p.shape, () => r.uniform(-1, 1))]));
  const env = { ...params, h: r.tensor([3, 4]), x: r.tensor([3, 3]) };
  const wrt = [h.node, x.node, ...cell.params.map((p) => p.expr.node)] as NodeOf<'var'>[];
  const { mismatches, checked } = checkVjp({ outputs: [out.node], wrt, env, rng: r, sizes: new Map([['batch', 3]]) });
  assert.deepEqual(mismatches, []);
  assert.equal(checked, 12 + 9 + 3 * 12 + 4 * 12 + 12 + 12);
});

test('two chained steps: the VJP through the recurrence equals finite differences', () => {
  const cell = gru('g', 2, 3);
  const x1 = X.input('x1', [B, 2]), x2 = X.input('x2', [B, 2]);
  const out = cell.apply(cell.apply(zeroState(B, 3), x1), x2);
  const r = rng(12, 'gru-chain');
  const params = Object.fromEntries(cell.params.map((p) => [p.name, r.tensor(p.shape, () => r.uniform(-1, 1))]));
  const env = { ...params, x1: r.tensor([2, 2]), x2: r.tensor([2, 2]) };
  const wrt = [x1.node, x2.node, ...cell.params.map((p) => p.expr.node)] as NodeOf<'var'>[];
  assert.deepEqual(checkVjp({ outputs: [out.node], wrt, env, rng: r }).mismatches, []);
});

test('parameters: fused [I,3H], [H,3H], [3H], [3H], initialised U(±1/√H) as PyTorch', () => {
  const cell = gru('enc', 3, 25);
  assert.deepEqual(cell.params.map((p) => [p.name, p.shape]), [
    ['enc_Wi', [3, 75]], ['enc_Wh', [25, 75]], ['enc_bi', [75]], ['enc_bh', [75]],
  ]);
  const values = initParams(cell.params, 0);
  for (const v of Object.values(values)) {
    const m = Math.max(...Array.from(v.data, Math.abs));
    assert.ok(m <= 1 / 5 && m > 0.15, `max |w| = ${m}`);
  }
  assert.equal(cell.apply(zeroState(B, 25), X.input('x', [B, 3])).shape[1], 25);
  assert.throws(() => gru('bad', 0, 3), RangeError);
});
