import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ParamValues } from '../../src/dsl/params.ts';
import { clipGradNorm, clipGradValue, globalNorm } from '../../src/train/clip.ts';

const g = (...xs: number[]): ParamValues[string] => ({ shape: [xs.length], data: Float64Array.from(xs) });
const data = (p: ParamValues, k: string): number[] => [...(p[k]?.data ?? [])];

describe('gradient clipping', () => {
  it('global norm is the norm of per-tensor norms (clip_grad_norm_)', () => {
    assert.equal(globalNorm({ a: g(3), b: g(4) }), 5);
    assert.equal(globalNorm({ a: g(3, -4), b: g(12) }), Math.sqrt(5 ** 2 + 12 ** 2));
    assert.equal(globalNorm({ a: g(3, -7), b: g(5) }, 'inf'), 7);
    assert.equal(globalNorm({ a: g(3, -4), b: g(1) }, 1), 8);
    assert.equal(globalNorm({}), 0);
  });

  it('scales by maxNorm / (norm + 1e-6) when over, and returns the pre-clip norm', () => {
    const grads = { a: g(3, 4) };
    const r = clipGradNorm(grads, 1);
    assert.equal(r.norm, 5);
    const coef = 1 / (5 + 1e-6);
    assert.deepEqual(data(r.grads, 'a'), [3 * coef, 4 * coef]);
    assert.deepEqual(data(grads, 'a'), [3, 4], 'input untouched');
  });

  it('leaves gradients under the limit unchanged (coefficient clamped to 1)', () => {
    const r = clipGradNorm({ a: g(0.3, -0.4, -0) }, 1);
    assert.deepEqual(data(r.grads, 'a'), [0.3, -0.4, -0]);
    assert.ok(Object.is(r.grads['a']?.data[2], -0));
  });

  it('non-finite norms behave as in torch: NaN spreads, Infinity zeroes finite entries', () => {
    const nan = clipGradNorm({ a: g(1, NaN), b: g(2) }, 1);
    assert.ok(Number.isNaN(nan.norm));
    assert.ok(data(nan.grads, 'b').every(Number.isNaN));
    const inf = clipGradNorm({ a: g(1, Infinity) }, 1);
    assert.equal(inf.norm, Infinity);
    assert.equal(data(inf.grads, 'a')[0], 0);
  });

  it('by value: clamps elementwise, keeps NaN, reports the 2-norm before clipping', () => {
    const grads = { a: g(-3, 0.5, NaN), b: g(4) };
    const r = clipGradValue(grads, 1);
    assert.deepEqual(data(r.grads, 'a'), [-1, 0.5, NaN]);
    assert.deepEqual(data(r.grads, 'b'), [1]);
    assert.ok(Number.isNaN(r.norm));
    assert.equal(clipGradValue({ a: g(3, 4) }, 1).norm, 5);
    assert.deepEqual(data(grads, 'a'), [-3, 0.5, NaN], 'input untouched');
  });
});
