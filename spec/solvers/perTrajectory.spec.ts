import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { integrate } from '../../src/solvers/integrate.ts';
import { integratePerTrajectory } from '../../src/solvers/perTrajectory.ts';
import { f64Batch, f64FromRows, f64Row, f64Space } from '../../src/solvers/f64Space.ts';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import { methods } from '../../src/solvers/methods.ts';
import { maxAbsDiff, ok } from './helpers.ts';

// A time-dependent oscillator with a per-row stiffness: y1' = y2, y2' = −k_b (1 + ½ sin t) y1.
const ks = [1, 4, 9, 0.25];
const rowsF = (t: Float64Array, y: F64Batch, rowIds: readonly number[]): F64Batch => {
  const out = f64Batch(y.batch, 2);
  for (let b = 0; b < y.batch; b++) {
    const k = ks[rowIds[b] as number] as number;
    out.data[2 * b] = y.data[2 * b + 1] as number;
    out.data[2 * b + 1] = -k * (1 + 0.5 * Math.sin(t[b] as number)) * (y.data[2 * b] as number);
  }
  return out;
};
const sharedF = (rowIds: readonly number[]) => (t: number, y: F64Batch): F64Batch => rowsF(new Float64Array(y.batch).fill(t), y, rowIds);
const y0Rows = [[1, 0], [0, 1], [0.5, -0.5], [2, 0.1]];
const all = [0, 1, 2, 3];
const grids = [
  [0, 0.5, 1, 3],
  [0, 2, 2.5, 4],
  [0, 0.1, 0.2, 0.3],
  [0, 1.5, 3.5, 5],
];

describe('per-trajectory grids and step control', () => {
  it('shared step, per-trajectory grids: each row matches its solo solve within tolerance', () => {
    const s = ok(integrate(f64Space, sharedF(all), f64FromRows(y0Rows), { method: methods.dopri5, ts: grids, rtol: 1e-10, atol: 1e-12 }));
    assert.equal(s.ys.length, 4);
    all.forEach((b) => {
      const solo = ok(integrate(f64Space, sharedF([b]), f64FromRows([y0Rows[b] as number[]]), { method: methods.dopri5, ts: grids[b] as number[], rtol: 1e-10, atol: 1e-12 }));
      solo.ys.forEach((y, k) => {
        const d = maxAbsDiff(f64Row(s.ys[k] as F64Batch, b), y.data);
        assert.ok(d < 1e-8, `row ${b}, output ${k}: ${d}`);
      });
    });
  });

  for (const m of [methods.dopri5, methods.tsit5, methods.dopri8, methods.fehlberg45]) {
    it(`${m.name}: per-trajectory step control equals solving each trajectory alone`, () => {
      const r = ok(integratePerTrajectory(f64Space, (t, y) => rowsF(t, y, all), f64FromRows(y0Rows), { method: m, ts: grids, rtol: 1e-8, atol: 1e-10 }));
      all.forEach((b) => {
        const solo = ok(integratePerTrajectory(f64Space, (t, y) => rowsF(t, y, [b]), f64FromRows([y0Rows[b] as number[]]), { method: m, ts: [grids[b] as number[]], rtol: 1e-8, atol: 1e-10 }));
        assert.equal(r.stats.accepted[b], solo.stats.accepted[0], `row ${b}: accepted steps`);
        assert.equal(r.stats.rejected[b], solo.stats.rejected[0], `row ${b}: rejected steps`);
        solo.ys.forEach((y, k) => {
          const d = maxAbsDiff(f64Row(r.ys[k] as F64Batch, b), y.data);
          assert.ok(d < 1e-13, `row ${b}, output ${k}: ${d}`);
        });
        // …and the same as the shared-step driver on that trajectory alone.
        const shared = ok(integrate(f64Space, sharedF([b]), f64FromRows([y0Rows[b] as number[]]), { method: m, ts: grids[b] as number[], rtol: 1e-8, atol: 1e-10 }));
        assert.equal(shared.stats.accepted, solo.stats.accepted[0]);
        shared.ys.forEach((y, k) => assert.ok(maxAbsDiff(y.data, (solo.ys[k] as F64Batch).data) < 1e-13));
      });
    });
  }

  it('finished trajectories freeze: a short span takes few steps while a long one continues', () => {
    const r = ok(integratePerTrajectory(f64Space, (t, y) => rowsF(t, y, all), f64FromRows(y0Rows), {
      method: methods.dopri5, t0: 0, t1: Float64Array.of(0.3, 20, 0.3, 20), rtol: 1e-8, atol: 1e-10,
    }));
    assert.ok((r.stats.accepted[0] as number) < 15 && (r.stats.accepted[1] as number) > 100, Array.from(r.stats.accepted).join(','));
    assert.deepEqual(Array.from(r.t1), [0.3, 20, 0.3, 20]);
  });

  it('rows may run in different directions', () => {
    const r = ok(integratePerTrajectory(f64Space, (t, y) => rowsF(t, y, all), f64FromRows(y0Rows), {
      method: methods.tsit5, ts: [[0, 1, 2], [2, 1, 0], [0, -1, -2], [1, 1.5, 2]], rtol: 1e-9, atol: 1e-11,
    }));
    const back = ok(integrate(f64Space, sharedF([1]), f64FromRows([y0Rows[1] as number[]]), { method: methods.tsit5, ts: [2, 1, 0], rtol: 1e-9, atol: 1e-11 }));
    assert.ok(maxAbsDiff(f64Row(r.ys[2] as F64Batch, 1), (back.ys[2] as F64Batch).data) < 1e-12);
  });

  it('per-trajectory control reports failures with the trajectory', () => {
    const r = integratePerTrajectory(f64Space, (t, y) => rowsF(t, y, all), f64FromRows(y0Rows), { method: methods.dopri5, t0: 0, t1: Float64Array.of(1, 1, 100, 1), maxSteps: 30 });
    assert.ok(r._tag === 'Left' && r.left._tag === 'MaxStepsReached' && r.left.row === 2);
  });
});
