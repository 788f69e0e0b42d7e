import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { integrate } from '../../src/solvers/integrate.ts';
import { f64FromRows, f64Space } from '../../src/solvers/f64Space.ts';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import { denseTerms } from '../../src/solvers/denseOutput.ts';
import { rkDense, rkExtraStages, rkStep } from '../../src/solvers/rkStep.ts';
import type { Method } from '../../src/solvers/method.ts';
import { methods } from '../../src/solvers/methods.ts';
import { maxAbsDiff, ok, rowwise } from './helpers.ts';

const osc = rowwise((_t, y, o) => { o[0] = y[1] as number; o[1] = -(y[0] as number); });
const exact = (t: number): number[] => [Math.cos(t), -Math.sin(t)];

// Interpolation error in the middle of one step from the exact state, against the exact solution.
const midStepError = (m: Method, h: number): number => {
  if (m.kind !== 'explicit') return Number.NaN;
  const tab = m.tableau;
  const y = f64FromRows([[1, 0]]);
  const ctx = { comb: f64Space.linCombRows, f: (c: number, ys: F64Batch) => osc(c * h, ys), release: () => undefined };
  const r = rkStep(tab, ctx, y, h, osc(0, y), false);
  const f1 = osc(h, r.y1);
  const d = rkDense(tab, 0, h, y, r.y1, [...r.ks, ...rkExtraStages(tab, ctx, y, h, r.ks)], f1);
  const [c, xs] = denseTerms(d, 0.4);
  return maxAbsDiff(f64Space.linCombRows(c, xs).data, exact(0.4 * h));
};

describe('dense output', () => {
  // Local interpolation error is O(h^(q+1)) for an interpolant of order q.
  const cases: [Method, number][] = [[methods.dopri5, 4], [methods.tsit5, 4], [methods.dopri8, 7], [methods.bosh3, 3], [methods.fehlberg45, 3]];
  for (const [m, q] of cases) {
    it(`${m.name}: the continuous extension has order ${q}`, () => {
      const h = m === methods.dopri8 ? 0.4 : 0.1;
      const observed = Math.log2(midStepError(m, h) / midStepError(m, h / 2));
      assert.ok(Math.abs(observed - (q + 1)) < 0.6, `observed local order ${observed.toFixed(2)}, expected ${q + 1}`);
    });
  }

  it('outputs at ts do not force steps onto them (same accepted steps with or without ts)', () => {
    for (const m of [methods.dopri5, methods.tsit5, methods.dopri8]) {
      const ts = Array.from({ length: 1001 }, (_, i) => i / 100);
      const a = ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: m, ts, rtol: 1e-8, atol: 1e-10 }));
      const b = ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: m, t0: 0, t1: 10, rtol: 1e-8, atol: 1e-10 }));
      assert.equal(a.stats.accepted, b.stats.accepted, m.name);
      assert.ok(a.stats.accepted < 500, `${a.stats.accepted} steps`);
      a.ys.forEach((y, k) => assert.ok(maxAbsDiff(y.data, exact(ts[k] as number)) < 1e-6, `${m.name} at ${ts[k]}`));
    }
  });

  it('Solution.evaluate interpolates anywhere in the span and matches the outputs', () => {
    const s = ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: methods.tsit5, ts: [0, 1, 2, 3], rtol: 1e-9, atol: 1e-11, dense: true }));
    for (const t of [0, 0.123, 1, 1.5, 2.999, 3]) {
      const y = s.evaluate(t);
      assert.ok(E.isRight(y));
      assert.ok(maxAbsDiff(y.right.data, exact(t)) < 1e-7, `t = ${t}`);
    }
    const out = s.evaluate(3.5);
    assert.ok(E.isLeft(out) && out.left._tag === 'OutsideSpan');
    const noDense = ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: methods.tsit5, t0: 0, t1: 1 }));
    const nd = noDense.evaluate(0.5);
    assert.ok(E.isLeft(nd) && nd.left._tag === 'DenseNotKept');
  });

  it('saveSteps records every accepted step, starting at t0 and ending at t1', () => {
    const s = ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: methods.dopri5, t0: 0, t1: 5, saveSteps: true }));
    const steps = s.steps;
    assert.ok(steps !== undefined);
    assert.equal(steps.ts.length, s.stats.accepted + 1);
    assert.equal(steps.ts[0], 0);
    assert.equal(steps.ts[steps.ts.length - 1], 5);
    steps.ts.slice(1).forEach((t, i) => assert.ok(t > (steps.ts[i] as number)));
  });

  it('stepTs are landed on exactly', () => {
    const kinks = [0.3, 1.7, 2.25];
    const s = ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: methods.dopri5, t0: 0, t1: 3, stepTs: kinks, saveSteps: true }));
    kinks.forEach((k) => assert.ok(s.steps?.ts.includes(k), `${k} not stepped on`));
  });

  it('jumpTs: a discontinuous vector field is integrated to round-off with few rejections', () => {
    // y' = 1 before t = 1, −2 after: y(3) = 1 − 4 = −3. Exact for any RK method if steps respect the jump.
    const f = rowwise((t, _y, o) => { o[0] = t < 1 ? 1 : -2; });
    const withJump = ok(integrate(f64Space, f, f64FromRows([[0]]), { method: methods.dopri5, t0: 0, t1: 3, jumpTs: [1] }));
    const without = ok(integrate(f64Space, f, f64FromRows([[0]]), { method: methods.dopri5, t0: 0, t1: 3 }));
    assert.ok(Math.abs((withJump.yFinal.data[0] as number) + 3) < 1e-12);
    assert.equal(withJump.stats.rejected, 0);
    assert.ok(without.stats.rejected > withJump.stats.rejected);
    assert.ok(Math.abs((without.yFinal.data[0] as number) + 3) > Math.abs((withJump.yFinal.data[0] as number) + 3));
  });

  it('jumpTs restart: f is re-evaluated on the new side (no FSAL reuse across the jump)', () => {
    const f = rowwise((t, _y, o) => { o[0] = t < 1 ? 1 : -2; });
    const s = ok(integrate(f64Space, f, f64FromRows([[0]]), { method: methods.tsit5, t0: 0, t1: 2, jumpTs: [1], dense: true }));
    // Just after the jump the slope must be −2: a reused f(1⁻) = 1 would give a wrong interpolant.
    const y = s.evaluate(1.5);
    assert.ok(E.isRight(y) && Math.abs((y.right.data[0] as number) - 0) < 1e-12);
  });

  it('fixed-step methods without dt step between requested times', () => {
    const s = ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: methods.rk4, ts: [0, 0.1, 0.2, 0.3, 0.4] }));
    assert.equal(s.stats.accepted, 4);
    assert.ok(maxAbsDiff((s.ys[4] as F64Batch).data, exact(0.4)) < 1e-6);
  });
});
