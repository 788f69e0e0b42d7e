import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultController, piController } from '../../src/solvers/controller.ts';
import { initialStep } from '../../src/solvers/initialStep.ts';
import { integrate } from '../../src/solvers/integrate.ts';
import { f64Batch, f64FromRows, f64Space } from '../../src/solvers/f64Space.ts';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import { rmsNorm, weightedNorm } from '../../src/solvers/norms.ts';
import { methods } from '../../src/solvers/methods.ts';
import { ok, rowwise } from './helpers.ts';

describe('PI step-size controller', () => {
  const c = piController({ safety: 0.9, factorMin: 0.2, factorMax: 10 });
  it('an error estimate of exactly 0 gives the maximum growth (no division by zero)', () => {
    const d = c.accept(c.init(), 0, 5);
    assert.equal(d.factor, 10);
  });
  it('growth and shrink are clamped to [factorMin, factorMax]', () => {
    assert.equal(c.accept(c.init(), 1e-30, 5).factor, 10);
    assert.equal(c.reject(c.init(), 1e30, 5).factor, 0.2);
  });
  it('a rejection never grows the step, and the next accept may not grow it either', () => {
    const r = c.reject(c.init(), 1.0001, 5);
    assert.ok(r.factor <= 1);
    assert.equal(c.accept(r.state, 1e-6, 5).factor, 1);
  });
  it('a non-finite error shrinks by factorMin', () => {
    assert.equal(c.reject(c.init(), Number.NaN, 5).factor, 0.2);
    assert.equal(c.reject(c.init(), Number.POSITIVE_INFINITY, 5).factor, 0.2);
  });
  it('the proportional term damps growth after a large previous error', () => {
    const fresh = c.accept(c.init(), 0.01, 5).factor;
    const afterBig = c.accept(c.accept(c.init(), 0.9, 5).state, 0.01, 5).factor;
    assert.ok(afterBig < fresh);
  });
  it('a custom controller changes the step sequence', () => {
    const osc = rowwise((_t, y, o) => { o[0] = y[1] as number; o[1] = -(y[0] as number); });
    const a = ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: methods.dopri5, t0: 0, t1: 10 }));
    const b = ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: methods.dopri5, t0: 0, t1: 10, controller: piController({ factorMax: 1.2, safety: 0.5 }) }));
    assert.ok(b.stats.accepted > a.stats.accepted);
    assert.equal(defaultController.accept(defaultController.init(), 0, 5).factor, 10);
  });
  it('dtMax bounds every step', () => {
    const osc = rowwise((_t, y, o) => { o[0] = y[1] as number; o[1] = -(y[0] as number); });
    const s = ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: methods.dopri5, t0: 0, t1: 10, dtMax: 0.05, saveSteps: true }));
    const ts = s.steps?.ts ?? [];
    ts.slice(1).forEach((t, i) => assert.ok(t - (ts[i] as number) <= 0.05 * 1.01 + 1e-12));
  });
});

describe('initial step heuristic (Hairer–Nørsett–Wanner I §II.4)', () => {
  const run = (lambda: number): number => {
    const f = rowwise((_t, y, o) => { o[0] = lambda * (y[0] as number); });
    const y0 = f64Batch(1, 1, Float64Array.of(1));
    const tol = { rtol: 1e-6, atol: 1e-9 };
    const [h] = initialStep<F64Batch>({
      y0, f0: f(0, y0), order: 5,
      norms: (x) => Float64Array.of(weightedNorm(f64Space, rmsNorm, x, y0, y0, tol)),
      euler: (h0) => f64Space.linComb([1, h0[0] as number], [y0, f(0, y0)]),
      feval: (h0, y) => f(h0[0] as number, y),
      diff: (a, b) => f64Space.linComb([1, -1], [a, b]),
      release: () => undefined,
    });
    return h as number;
  };
  it('aims at a local error ≈ 0.01: h ∝ (0.01/‖f′‖)^(1/(p+1)), i.e. λ^(−2/6) for y\' = λy, p = 5', () => {
    const h1 = run(-1), h100 = run(-100);
    assert.ok(h1 > 0 && h100 > 0);
    assert.ok(Math.abs(h1 / h100 - Math.cbrt(100)) < 0.1, `${h1 / h100}`);
  });
  it('firstStep overrides it', () => {
    const osc = rowwise((_t, y, o) => { o[0] = y[1] as number; o[1] = -(y[0] as number); });
    const s = ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: methods.dopri5, t0: 0, t1: 1, firstStep: 1e-3, saveSteps: true }));
    assert.ok(Math.abs((s.steps?.ts[1] as number) - 1e-3) < 1e-15);
  });
});
