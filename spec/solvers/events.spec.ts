import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { integrate } from '../../src/solvers/integrate.ts';
import { integratePerTrajectory } from '../../src/solvers/perTrajectory.ts';
import { f64FromRows, f64Space } from '../../src/solvers/f64Space.ts';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import { illinois } from '../../src/solvers/events.ts';
import { methods } from '../../src/solvers/methods.ts';
import { ok, rowwise } from './helpers.ts';

const G = 9.81;
const fall = rowwise((_t, y, o) => { o[0] = y[1] as number; o[1] = -G; });
const heights = [1, 2, 5];
const dropTime = (h: number): number => Math.sqrt((2 * h) / G);
const height = (_t: number | Float64Array, y: F64Batch): Float64Array => Float64Array.from({ length: y.batch }, (_, b) => y.data[b * y.dim] as number);

describe('terminating events', () => {
  for (const m of [methods.dopri5, methods.tsit5, methods.dopri8, methods.bosh3]) {
    it(`${m.name}: a dropped ball hits the ground at sqrt(2h/g)`, () => {
      const s = ok(integrate(f64Space, fall, f64FromRows([[2, 0]]), { method: m, t0: 0, t1: 10, rtol: 1e-8, atol: 1e-10, event: { g: (_t, y) => y.data[0] as number } }));
      const ev = s.event;
      assert.ok(ev !== undefined, 'event did not fire');
      assert.ok(Math.abs(ev.t - dropTime(2)) < 1e-10, `t = ${ev.t}, exact ${dropTime(2)}`);
      assert.equal(s.t1, ev.t);
      assert.equal(ev.sign, -1);
      assert.ok(Math.abs(ev.y.data[0] as number) < 1e-9);
      assert.ok(Math.abs((ev.y.data[1] as number) + Math.sqrt(2 * G * 2)) < 1e-8);
      assert.equal(s.yFinal, ev.y);
    });
  }

  it('shared step, batched g: stops at the earliest trajectory and says which', () => {
    const s = ok(integrate(f64Space, fall, f64FromRows(heights.map((h) => [h, 0])), { method: methods.dopri5, t0: 0, t1: 10, rtol: 1e-9, atol: 1e-12, event: { g: height } }));
    assert.equal(s.event?.index, 0);
    assert.ok(Math.abs((s.event?.t ?? 0) - dropTime(1)) < 1e-10);
  });

  it('outputs after the event are omitted; outputs before it are kept', () => {
    const ts = [0, 0.2, 0.4, 0.6, 0.8];
    const s = ok(integrate(f64Space, fall, f64FromRows([[1, 0]]), { method: methods.dopri5, ts, rtol: 1e-9, atol: 1e-12, event: { g: (_t, y) => y.data[0] as number } }));
    assert.deepEqual(s.ts, [0, 0.2, 0.4]); // the drop time is ≈ 0.4515
    s.ys.forEach((y, k) => assert.ok(Math.abs((y.data[0] as number) - (1 - (G * (ts[k] as number) ** 2) / 2)) < 1e-9));
  });

  it('direction filter: a falling-only event ignores the upward crossing; a rising-only one never fires on a fall', () => {
    // Thrown up from the ground-level marker at 1 m: g = height − 1.5 rises, then falls.
    const s = ok(integrate(f64Space, fall, f64FromRows([[1, 10]]), { method: methods.tsit5, t0: 0, t1: 5, rtol: 1e-9, atol: 1e-12, event: { g: (_t, y) => (y.data[0] as number) - 1.5, direction: 'falling' } }));
    // 1 + 10t − g t²/2 = 1.5 on the way down.
    const tDown = (10 + Math.sqrt(100 - 2 * G * 0.5)) / G;
    assert.ok(Math.abs((s.event?.t ?? 0) - tDown) < 1e-9, `t = ${s.event?.t}, expected ${tDown}`);
    const none = ok(integrate(f64Space, fall, f64FromRows([[2, 0]]), { method: methods.tsit5, t0: 0, t1: 1, event: { g: (_t, y) => y.data[0] as number, direction: 'rising' } }));
    assert.equal(none.event, undefined);
    assert.equal(none.t1, 1);
  });

  it('per-trajectory events: every ball stops at its own drop time and freezes', () => {
    const r = ok(integratePerTrajectory(f64Space, (_t, y) => fall(0, y), f64FromRows(heights.map((h) => [h, 0])), {
      method: methods.dopri5, t0: 0, t1: 10, rtol: 1e-9, atol: 1e-12, event: { g: height },
    }));
    heights.forEach((h, b) => {
      assert.equal(r.events?.fired[b], 1);
      assert.ok(Math.abs((r.events?.t[b] as number) - dropTime(h)) < 1e-10, `row ${b}`);
      assert.ok(Math.abs((r.t1[b] as number) - dropTime(h)) < 1e-10);
      assert.ok(Math.abs(r.yFinal.data[b * 2] as number) < 1e-9);
    });
  });

  it('the Illinois root finder converges superlinearly from a bracket', () => {
    let calls = 0;
    const x = illinois((v) => { calls++; return v * v * v - 2; }, 0, 2, -2, 6, 1e-14);
    assert.ok(Math.abs(x - Math.cbrt(2)) < 1e-13);
    assert.ok(x >= Math.cbrt(2) - 1e-15, 'returns the far side of the root');
    assert.ok(calls < 40, `${calls} evaluations`);
  });
});
