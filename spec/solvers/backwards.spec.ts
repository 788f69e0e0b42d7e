import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { integrate } from '../../src/solvers/integrate.ts';
import { f64FromRows, f64Space } from '../../src/solvers/f64Space.ts';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import { methods } from '../../src/solvers/methods.ts';
import { maxAbsDiff, ok, rowwise } from './helpers.ts';

// A nonlinear pendulum with a time-dependent forcing.
const pendulum = rowwise((t, y, o) => { o[0] = y[1] as number; o[1] = -Math.sin(y[0] as number) + 0.1 * Math.cos(t); });
const y0 = [[1, 0], [0.3, -0.5]];

describe('backwards-in-time integration', () => {
  for (const m of [methods.dopri5, methods.tsit5, methods.dopri8, methods.bosh3, methods.rodas4]) {
    it(`${m.name}: forward 0 → 5 then backward 5 → 0 returns to the initial state`, () => {
      const fwd = ok(integrate(f64Space, pendulum, f64FromRows(y0), { method: m, t0: 0, t1: 5, rtol: 1e-10, atol: 1e-12 }));
      const back = ok(integrate(f64Space, pendulum, fwd.yFinal, { method: m, t0: 5, t1: 0, rtol: 1e-10, atol: 1e-12 }));
      assert.equal(back.t1, 0);
      const d = maxAbsDiff(back.yFinal.data, y0.flat());
      assert.ok(d < 1e-7, `${d}`);
    });
  }

  it('decreasing output times, events and dense evaluation work backwards', () => {
    const fwd = ok(integrate(f64Space, pendulum, f64FromRows(y0), { method: methods.tsit5, ts: [0, 1, 2, 3], rtol: 1e-10, atol: 1e-12 }));
    const back = ok(integrate(f64Space, pendulum, fwd.yFinal, { method: methods.tsit5, ts: [3, 2, 1, 0], rtol: 1e-10, atol: 1e-12, dense: true }));
    [3, 2, 1, 0].forEach((_, k) => assert.ok(maxAbsDiff((back.ys[k] as F64Batch).data, (fwd.ys[3 - k] as F64Batch).data) < 1e-7));
    const mid = back.evaluate(1.5);
    const midFwd = ok(integrate(f64Space, pendulum, f64FromRows(y0), { method: methods.tsit5, ts: [0, 1.5], rtol: 1e-10, atol: 1e-12 }));
    assert.ok(E.isRight(mid) && maxAbsDiff(mid.right.data, (midFwd.ys[1] as F64Batch).data) < 1e-7);
    // Event backwards: the time at which the first pendulum angle was 0.9 (on the way down, forwards).
    const ev = ok(integrate(f64Space, pendulum, fwd.yFinal, { method: methods.tsit5, t0: 3, t1: 0, rtol: 1e-10, atol: 1e-12, event: { g: (_t, y) => (y.data[0] as number) - 0.9 } }));
    const check = ok(integrate(f64Space, pendulum, f64FromRows(y0), { method: methods.tsit5, ts: [0, ev.t1], rtol: 1e-10, atol: 1e-12 }));
    assert.ok(Math.abs(((check.ys[1] as F64Batch).data[0] as number) - 0.9) < 1e-7);
  });
});
