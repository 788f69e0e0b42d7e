import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { integrate } from '../../src/solvers/integrate.ts';
import { f64Batch, f64Space } from '../../src/solvers/f64Space.ts';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import type { Method } from '../../src/solvers/method.ts';
import { rkStep } from '../../src/solvers/rkStep.ts';
import { weightedNorm, rmsNorm } from '../../src/solvers/norms.ts';
import { methods } from '../../src/solvers/methods.ts';
import { expmv, linear, maxAbsDiff, ok } from './helpers.ts';

const D = 3;
// Uniform entries on a grid of [-1, 1]: fc.double is uniform over float bit patterns (mostly tiny
// magnitudes) and biased towards 0 and ±1, which gives degenerate systems with no observable order.
const entry = fc.noBias(fc.integer({ min: -1000, max: 1000 })).map((i) => i / 1000);
const systemArb = fc
  .record({
    A: fc.array(entry, { minLength: D * D, maxLength: D * D }),
    y0: fc.array(entry, { minLength: D, maxLength: D }),
  })
  .filter(({ A, y0 }) => Math.hypot(...y0) > 0.1 && Math.hypot(...A) > 0.1)
  // Fixed scales keep the errors in the asymptotic regime and far above round-off.
  .map(({ A, y0 }) => ({ A: A.map((a) => (1.5 * a) / Math.hypot(...A)), y0: y0.map((v) => v / Math.hypot(...y0)) }));

// [method, order, steps, span]: chosen so the error is far above round-off yet in the asymptotic
// regime (Tsit5's small principal error constant needs smaller steps; DOP853 a longer span).
const plan: readonly [Method, number, number, number][] = [
  [methods.euler, 1, 64, 1],
  [methods.midpoint, 2, 32, 1],
  [methods.heun, 2, 32, 1],
  [methods.rk4, 4, 16, 1],
  [methods.bosh3, 3, 16, 1],
  [methods.fehlberg45, 5, 8, 1],
  [methods.dopri5, 5, 8, 1],
  [methods.tsit5, 5, 16, 1],
  [methods.dopri8, 8, 4, 4],
  [methods.rodas4, 4, 16, 1],
];

const solveFixed = (m: Method, A: Float64Array, y0: Float64Array, n: number, T: number): Float64Array =>
  ok(integrate(f64Space, linear(A, D), f64Batch(1, D, Float64Array.from(y0)), { method: m, t0: 0, t1: T, dt: T / n, autonomous: true })).yFinal.data;

describe('convergence order on random linear systems y\' = Ay', () => {
  for (const [m, p, n, T] of plan) {
    it(`${m.name}: halving the step divides the error by ≈ 2^${p}`, () => {
      fc.assert(
        fc.property(systemArb, ({ A, y0 }) => {
          const Af = Float64Array.from(A), yf = Float64Array.from(y0);
          const exact = expmv(Af, D, T, yf);
          const e1 = maxAbsDiff(solveFixed(m, Af, yf, n, T), exact);
          const e2 = maxAbsDiff(solveFixed(m, Af, yf, 2 * n, T), exact);
          const observed = Math.log2(e1 / e2);
          // Random systems can have small error constants for one component; allow ±0.7.
          assert.ok(Math.abs(observed - p) < 0.7, `${m.name}: observed order ${observed.toFixed(2)}, expected ${p} (e1=${e1}, e2=${e2})`);
        }),
        { seed: 20240601, numRuns: 6, endOnFailure: true },
      );
    });
  }
});

describe('error estimator order: one step\'s estimate scales as h^(q+1)', () => {
  for (const m of [methods.heun, methods.bosh3, methods.fehlberg45, methods.dopri5, methods.tsit5]) {
    const tab = m.tableau;
    const q = tab.error?.kind === 'embedded' ? tab.error.order : Number.NaN;
    it(`${m.name}: estimator of order ${q}`, () => {
      fc.assert(
        fc.property(systemArb, ({ A, y0 }) => {
          const f = linear(Float64Array.from(A), D);
          const y = f64Batch(1, D, Float64Array.from(y0));
          const k1 = f(0, y);
          const est = (h: number): number => {
            const r = rkStep(tab, { comb: f64Space.linCombRows, f: (c: number, ys: F64Batch) => f(c * h, ys), release: () => undefined }, y, h, k1, true);
            return weightedNorm(f64Space, rmsNorm, r.errs[0] as F64Batch, y, r.y1, { rtol: 0, atol: 1 });
          };
          const h = 0.05;
          const observed = Math.log2(est(h) / est(h / 2));
          assert.ok(Math.abs(observed - (q + 1)) < 0.6, `observed ${observed.toFixed(2)}, expected ${q + 1}`);
        }),
        { seed: 7, numRuns: 5, endOnFailure: true },
      );
    });
  }
});
