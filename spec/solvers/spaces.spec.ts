import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { f64Batch, f64Space } from '../../src/solvers/f64Space.ts';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import { tfjsSpace } from '../../src/solvers/tfjsSpace.ts';
import { product } from '../../src/solvers/product.ts';
import { maxNorm, rmsNorm, customNorm, weightedNorm, weightedRowNorms } from '../../src/solvers/norms.ts';
import type { Tolerance } from '../../src/solvers/vectorSpace.ts';
import { maxAbsDiff } from './helpers.ts';

const B = 3, D = 4;
const val = fc.noBias(fc.integer({ min: -1000, max: 1000 })).map((i) => i / 100);
const batchArb = fc.array(val, { minLength: B * D, maxLength: B * D }).map((xs) => f64Batch(B, D, Float64Array.from(xs)));
const coefArb = fc.array(val, { minLength: 3, maxLength: 3 });
const maskArb = fc.array(fc.boolean(), { minLength: B, maxLength: B }).map((m) => Uint8Array.from(m, (v) => (v ? 1 : 0)));
const params = { seed: 11, numRuns: 25 };
const tol: Tolerance = { rtol: 1e-3, atol: new Float64Array([1e-6, 1e-5, 1e-4, 1e-3]) };

const toTf = (x: F64Batch): tf.Tensor => tf.tensor2d(Array.from(x.data), [x.batch, x.dim]);

describe('vector space instances', () => {
  before(async () => { await tf.setBackend('cpu'); });

  it('f64: linComb is the pointwise linear combination; linCombInto and linCombRows agree with it', () => {
    fc.assert(fc.property(coefArb, batchArb, batchArb, batchArb, (c, x, y, z) => {
      const r = f64Space.linComb(c, [x, y, z]);
      const manual = x.data.map((v, i) => (c[0] as number) * v + (c[1] as number) * (y.data[i] as number) + (c[2] as number) * (z.data[i] as number));
      assert.ok(maxAbsDiff(r.data, manual) < 1e-12);
      const out = f64Batch(B, D);
      f64Space.linCombInto?.(out, c, [x, y, z]);
      assert.deepEqual(out.data, r.data);
      assert.deepEqual(f64Space.linCombRows(c, [x, y, z]).data, r.data);
    }), params);
  });

  it('f64: per-row coefficients scale each row separately; selectRows picks whole rows', () => {
    fc.assert(fc.property(batchArb, batchArb, maskArb, (x, y, mask) => {
      const rows = Float64Array.of(1, -2, 0.5);
      const r = f64Space.linCombRows([1, rows], [x, y]);
      for (let b = 0; b < B; b++) for (let j = 0; j < D; j++) {
        assert.ok(Math.abs((r.data[b * D + j] as number) - ((x.data[b * D + j] as number) + (rows[b] as number) * (y.data[b * D + j] as number))) < 1e-12);
      }
      const s = f64Space.selectRows(mask, x, y);
      for (let b = 0; b < B; b++) assert.deepEqual(s.data.subarray(b * D, (b + 1) * D), (mask[b] ? x : y).data.subarray(b * D, (b + 1) * D));
    }), params);
  });

  it('weighted norms: RMS, max and custom over e/(atol + rtol·max(|y0|,|y1|)), per component and per row', () => {
    fc.assert(fc.property(batchArb, batchArb, batchArb, (e, a, b) => {
      const scaled = e.data.map((v, i) => v / (((tol.atol as Float64Array)[i % D] as number) + 1e-3 * Math.max(Math.abs(a.data[i] as number), Math.abs(b.data[i] as number))));
      const rms = Math.sqrt(scaled.reduce((s, v) => s + v * v, 0) / scaled.length);
      assert.ok(Math.abs(weightedNorm(f64Space, rmsNorm, e, a, b, tol) - rms) <= 1e-12 * rms);
      assert.equal(weightedNorm(f64Space, maxNorm, e, a, b, tol), Math.max(...scaled.map(Math.abs)));
      assert.equal(weightedNorm(f64Space, customNorm('first', (s) => s[0] as number), e, a, b, tol), scaled[0]);
      const rows = weightedRowNorms(f64Space, rmsNorm, e, a, b, tol);
      rows.forEach((r, row) => {
        const part = scaled.subarray(row * D, (row + 1) * D);
        assert.ok(Math.abs(r - Math.sqrt(part.reduce((s, v) => s + v * v, 0) / D)) <= 1e-12 * (r + 1e-300));
      });
    }), params);
  });

  it('NaN propagates through every norm (so the step is rejected, not accepted)', () => {
    const e = f64Batch(1, 2, Float64Array.of(0, Number.NaN));
    for (const n of [rmsNorm, maxNorm]) assert.ok(Number.isNaN(weightedNorm(f64Space, n, e, e, e, { rtol: 0, atol: 1 })));
    assert.equal(f64Space.firstNonFinite(e), 1);
  });

  it('tfjs agrees with f64 on every operation (float32 accuracy)', () => {
    fc.assert(fc.property(coefArb, batchArb, batchArb, maskArb, (c, x, y, mask) => {
      const tx = toTf(x), ty = toTf(y);
      const close = (t: tf.Tensor, f: F64Batch, eps = 1e-4): void => assert.ok(maxAbsDiff(t.dataSync(), f.data) < eps * (1 + Math.max(...Array.from(f.data, Math.abs))));
      const before = tf.memory().numTensors;
      const lc = tfjsSpace.linComb(c.slice(0, 2), [tx, ty]);
      close(lc, f64Space.linComb(c.slice(0, 2), [x, y]));
      const rows = Float64Array.of(1, -2, 0.5);
      const lr = tfjsSpace.linCombRows([1, rows], [tx, ty]);
      close(lr, f64Space.linCombRows([1, rows], [x, y]));
      const sel = tfjsSpace.selectRows(mask, tx, ty);
      close(sel, f64Space.selectRows(mask, x, y));
      const ss = tfjsSpace.weightedSumSq(tx, ty, tx, tol), sf = f64Space.weightedSumSq(x, y, x, tol);
      assert.ok(Math.abs(ss - sf) <= 1e-4 * sf + 1e-6);
      const rs = tfjsSpace.weightedRowSumSq(tx, ty, tx, tol), rf = f64Space.weightedRowSumSq(x, y, x, tol);
      rs.forEach((v, b) => assert.ok(Math.abs(v - (rf[b] as number)) <= 1e-4 * (rf[b] as number) + 1e-6));
      const rm = tfjsSpace.weightedRowMax(tx, ty, tx, tol), rmf = f64Space.weightedRowMax(x, y, x, tol);
      rm.forEach((v, b) => assert.ok(Math.abs(v - (rmf[b] as number)) <= 1e-4 * (rmf[b] as number) + 1e-6));
      [lc, lr, sel].forEach((t) => t.dispose());
      assert.equal(tf.memory().numTensors, before, 'space operations leaked tensors');
      tx.dispose();
      ty.dispose();
    }), { seed: 12, numRuns: 10 });
  });

  it('tfjs linComb never returns one of its inputs (the caller may dispose the result)', () => {
    const x = tf.ones([2, 2]);
    const r = tfjsSpace.linComb([1], [x]);
    assert.notEqual(r, x);
    r.dispose();
    assert.ok(!x.isDisposed);
    x.dispose();
  });

  it('product: componentwise operations over parts of different layouts; norms sum over all parts', () => {
    const space = product(f64Space, f64Space);
    fc.assert(fc.property(coefArb, batchArb, batchArb, (c, x, y) => {
      const p = f64Batch(1, 5, Float64Array.of(1, 2, 3, 4, 5));
      const q = f64Batch(1, 5, Float64Array.of(-1, 0, 1, 0, -1));
      const [rx, rp] = space.linComb(c.slice(0, 2), [[x, p], [y, q]]);
      assert.deepEqual(rx.data, f64Space.linComb(c.slice(0, 2), [x, y]).data);
      assert.deepEqual(rp.data, f64Space.linComb(c.slice(0, 2), [p, q]).data);
      const ptol: Tolerance = { rtol: 0, atol: Float64Array.of(1, 2, 3, 4, 10, 10, 10, 10, 10) };
      assert.equal(space.toleranceLength([x, p]), D + 5);
      const whole = space.weightedSumSq([x, p], [x, p], [x, p], ptol);
      const parts = f64Space.weightedSumSq(x, x, x, { rtol: 0, atol: Float64Array.of(1, 2, 3, 4) }) + f64Space.weightedSumSq(p, p, p, { rtol: 0, atol: 10 });
      assert.ok(Math.abs(whole - parts) < 1e-12 * parts);
      const flat = space.toF64([x, p]);
      assert.equal(flat.length, B * D + 5);
      const [bx, bp] = space.fromF64(flat, [x, p]);
      assert.deepEqual(bx.data, x.data);
      assert.deepEqual(bp.data, p.data);
      assert.equal(space.firstNonFinite([x, f64Batch(1, 2, Float64Array.of(0, Number.NaN))]), B * D + 1);
    }), params);
  });
});
