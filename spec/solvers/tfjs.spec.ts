import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { integrate } from '../../src/solvers/integrate.ts';
import { integratePerTrajectory } from '../../src/solvers/perTrajectory.ts';
import { f64Batch, f64FromRows, f64Space } from '../../src/solvers/f64Space.ts';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import { tfjsSpace } from '../../src/solvers/tfjsSpace.ts';
import { product } from '../../src/solvers/product.ts';
import { methods } from '../../src/solvers/methods.ts';
import { maxAbsDiff, ok, rng } from './helpers.ts';

// A small tanh MLP vector field, f(y) = W2·tanh(W1·y + b1), in float64 and in tfjs.
const D = 3, H = 8;
const r = rng(42);
const W1 = Float64Array.from({ length: H * D }, () => (2 * r() - 1) * 0.8);
const b1 = Float64Array.from({ length: H }, () => (2 * r() - 1) * 0.3);
const W2 = Float64Array.from({ length: D * H }, () => (2 * r() - 1) * 0.8);
const mlp64 = (_t: number, y: F64Batch): F64Batch => {
  const out = f64Batch(y.batch, D);
  for (let b = 0; b < y.batch; b++) {
    const hid = new Float64Array(H);
    for (let i = 0; i < H; i++) {
      let s = b1[i] as number;
      for (let j = 0; j < D; j++) s += (W1[i * D + j] as number) * (y.data[b * D + j] as number);
      hid[i] = Math.tanh(s);
    }
    for (let i = 0; i < D; i++) {
      let s = 0;
      for (let j = 0; j < H; j++) s += (W2[i * H + j] as number) * (hid[j] as number);
      out.data[b * D + i] = s;
    }
  }
  return out;
};
let mlpTf: (t: number, y: tf.Tensor) => tf.Tensor = () => { throw new Error('not initialised'); };
const y0Rows = [[1, 0, -0.5], [0.2, 0.4, 0.6], [-1, 1, 0]];
const ts = [0, 0.5, 1, 2, 4];

const asRows = (x: tf.Tensor): Float64Array => Float64Array.from(x.dataSync());

describe('tfjs and Float64 instances give the same trajectories', () => {
  before(async () => {
    await tf.setBackend('cpu');
    const w1 = tf.tensor2d(Array.from(W1), [H, D]), bb = tf.tensor1d(Array.from(b1)), w2 = tf.tensor2d(Array.from(W2), [D, H]);
    mlpTf = (_t, y) => tf.matMul(tf.tanh(tf.add(tf.matMul(y as tf.Tensor2D, w1, false, true), bb)), w2, false, true);
  });

  for (const m of [methods.dopri5, methods.tsit5, methods.bosh3, methods.dopri8]) {
    it(`${m.name}: same outputs within float32 tolerance, and no tensor leaks`, () => {
      const opts = { method: m, ts, rtol: 1e-5, atol: 1e-7 };
      const s64 = ok(integrate(f64Space, mlp64, f64FromRows(y0Rows), opts));
      const y0 = tf.tensor2d(y0Rows);
      const before = tf.memory().numTensors;
      const s32 = ok(integrate(tfjsSpace, mlpTf, y0, { ...opts, dense: true, saveSteps: true }));
      s32.ys.forEach((y, k) => {
        const d = maxAbsDiff(asRows(y), (s64.ys[k] as F64Batch).data);
        assert.ok(d < 2e-4, `output ${k}: ${d}`);
      });
      // Roughly the same work: float32 rounding may change a few controller decisions. (DOP853's
      // combined estimate sees float32 round-off at this tolerance and takes more, smaller steps.)
      if (m !== methods.dopri8) assert.ok(Math.abs(s32.stats.accepted - s64.stats.accepted) <= 3, `${s32.stats.accepted} vs ${s64.stats.accepted}`);
      const mid = s32.evaluate(3);
      assert.ok(E.isRight(mid));
      mid.right.dispose();
      s32.dispose();
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      y0.dispose();
    });
  }

  it('failures on tfjs free every tensor too', () => {
    const y0 = tf.tensor2d([[1]]);
    const before = tf.memory().numTensors;
    const res = integrate(tfjsSpace, (_t, y) => tf.square(y), y0, { method: methods.dopri5, t0: 0, t1: 2, rtol: 1e-4, atol: 1e-6 });
    assert.ok(E.isLeft(res) && (res.left._tag === 'StepSizeUnderflow' || res.left._tag === 'NonFiniteState'));
    assert.equal(tf.memory().numTensors, before);
    y0.dispose();
  });

  it('per-trajectory step control and events run on tfjs', () => {
    const fall64 = (_t: Float64Array, y: F64Batch): F64Batch => {
      const o = f64Batch(y.batch, 2);
      for (let b = 0; b < y.batch; b++) { o.data[2 * b] = y.data[2 * b + 1] as number; o.data[2 * b + 1] = -9.81; }
      return o;
    };
    const accel = tf.tensor2d([[0, -9.81]]);
    const swap = tf.tensor2d([[0, 0], [1, 0]]);
    const fallTf = (_t: Float64Array, y: tf.Tensor): tf.Tensor => tf.add(tf.matMul(y as tf.Tensor2D, swap), accel);
    const heights = [[1, 0], [3, 0]];
    const y0 = tf.tensor2d(heights);
    const before = tf.memory().numTensors;
    const g = (_t: Float64Array, y: tf.Tensor): Float64Array => Float64Array.from(tf.slice(y, [0, 0], [-1, 1]).dataSync());
    const rt = ok(integratePerTrajectory(tfjsSpace, fallTf, y0, { method: methods.tsit5, t0: 0, t1: 5, rtol: 1e-5, atol: 1e-7, event: { g } }));
    const r64 = ok(integratePerTrajectory(f64Space, fall64, f64FromRows(heights), { method: methods.tsit5, t0: 0, t1: 5, rtol: 1e-5, atol: 1e-7, event: { g: (_t, y) => Float64Array.of(y.data[0] as number, y.data[2] as number) } }));
    heights.forEach(([h], b) => {
      const exact = Math.sqrt((2 * (h as number)) / 9.81);
      assert.ok(Math.abs((rt.events?.t[b] as number) - exact) < 1e-5);
      assert.ok(Math.abs((r64.events?.t[b] as number) - exact) < 1e-10);
    });
    rt.dispose();
    assert.equal(tf.memory().numTensors, before);
    [y0, accel, swap].forEach((x) => x.dispose());
  });

  it('product space over different layouts: (batched tensor z, unbatched Float64 p) as in the adjoint', () => {
    // z' = −z (B × D), p' = Σ_b z_b (no batch axis): p(t) = (1 − e^{−t}) Σ_b z0_b.
    const space = product(tfjsSpace, f64Space);
    const z0 = tf.tensor2d([[1, 2], [3, 4]]);
    const p0 = f64Batch(1, 2);
    const f = (_t: number, [z]: readonly [tf.Tensor, F64Batch]): readonly [tf.Tensor, F64Batch] => {
      const s = Float64Array.from(tf.sum(z, 0).dataSync());
      return [tf.neg(z), f64Batch(1, 2, s)];
    };
    const before = tf.memory().numTensors;
    const s = ok(integrate(space, f, [z0, p0] as const, { method: methods.dopri5, t0: 0, t1: 2, rtol: 1e-6, atol: 1e-8 }));
    const [zT, pT] = s.yFinal;
    const e = Math.exp(-2);
    assert.ok(maxAbsDiff(asRows(zT), [e, 2 * e, 3 * e, 4 * e]) < 1e-5);
    assert.ok(maxAbsDiff(pT.data, [4 * (1 - e), 6 * (1 - e)]) < 1e-5);
    s.dispose();
    assert.equal(tf.memory().numTensors, before);
    z0.dispose();
  });

  it('rodas4 (generic through toF64/fromF64) also runs on tfjs states', () => {
    const y0 = tf.tensor2d([[1, 0]]);
    const lin = tf.tensor2d([[-100, 0], [1, -0.5]]);
    const f = (_t: number, y: tf.Tensor): tf.Tensor => tf.matMul(y as tf.Tensor2D, lin, false, true);
    const s = ok(integrate(tfjsSpace, f, y0, { method: methods.rodas4, t0: 0, t1: 5, rtol: 1e-4, atol: 1e-6, autonomous: true }));
    const y = asRows(s.yFinal);
    // y1 = e^{−100t}; y2' = y1 − y2/2 ⇒ y2 = (e^{−t/2} − e^{−100t})/99.5.
    assert.ok(Math.abs((y[1] as number) - Math.exp(-2.5) / 99.5) < 1e-5);
    s.dispose();
    [y0, lin].forEach((x) => x.dispose());
  });
});
