/**
 * A few non-stiff DETEST problems (Hull, Enright, Fellen, Sedgwick, "Comparing numerical methods
 * for ordinary differential equations", SIAM J. Numer. Anal. 9 (1972) 603–637), at tight
 * tolerances, against closed forms or a dopri8 reference at a much tighter tolerance.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { integrate } from '../../src/solvers/integrate.ts';
import { f64FromRows, f64Space } from '../../src/solvers/f64Space.ts';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import { methods } from '../../src/solvers/methods.ts';
import { kepler, keplerExact, keplerY0, maxAbsDiff, ok, rowwise } from './helpers.ts';

interface Detest {
  readonly id: string;
  readonly f: (t: number, y: F64Batch) => F64Batch;
  readonly y0: number[];
  readonly t1: number;
  readonly exact?: number[];
}

const problems: Detest[] = [
  { id: 'A2 (y\' = −y³/2)', f: rowwise((_t, y, o) => { o[0] = -((y[0] as number) ** 3) / 2; }), y0: [1], t1: 20, exact: [1 / Math.sqrt(21)] },
  { id: 'A3 (y\' = y cos t)', f: rowwise((t, y, o) => { o[0] = (y[0] as number) * Math.cos(t); }), y0: [1], t1: 20, exact: [Math.exp(Math.sin(20))] },
  {
    id: 'B1 (Lotka–Volterra)',
    f: rowwise((_t, y, o) => {
      const a = y[0] as number, b = y[1] as number;
      o[0] = 2 * (a - a * b);
      o[1] = -(b - a * b);
    }),
    y0: [1, 3],
    t1: 20,
  },
  {
    id: 'B5 (Euler rigid body)',
    f: rowwise((_t, y, o) => {
      o[0] = (y[1] as number) * (y[2] as number);
      o[1] = -(y[0] as number) * (y[2] as number);
      o[2] = -0.51 * (y[0] as number) * (y[1] as number);
    }),
    y0: [0, 1, 1],
    t1: 20,
  },
  { id: 'D2 (Kepler e = 0.3)', f: kepler, y0: keplerY0(0.3), t1: 20, exact: keplerExact(0.3, 20) },
  { id: 'D5 (Kepler e = 0.9)', f: kepler, y0: keplerY0(0.9), t1: 20, exact: keplerExact(0.9, 20) },
  {
    id: 'E2 (Van der Pol, μ = 1)',
    f: rowwise((_t, y, o) => {
      const a = y[0] as number, b = y[1] as number;
      o[0] = b;
      o[1] = (1 - a * a) * b - a;
    }),
    y0: [2, 0],
    t1: 20,
  },
];

const solve = (p: Detest, m: (typeof methods)[keyof typeof methods], rtol: number, atol: number): Float64Array =>
  ok(integrate(f64Space, p.f, f64FromRows([p.y0]), { method: m, t0: 0, t1: p.t1, rtol, atol, maxSteps: 200_000 })).yFinal.data;

describe('DETEST non-stiff problems at tight tolerances', () => {
  for (const p of problems) {
    const reference = p.exact ?? Array.from(solve(p, methods.dopri8, 1e-14, 1e-16));
    const scale = Math.max(1, ...reference.map(Math.abs));
    for (const m of [methods.dopri5, methods.tsit5, methods.dopri8]) {
      it(`${p.id} with ${m.name} at rtol = 1e-10`, () => {
        const e = maxAbsDiff(solve(p, m, 1e-10, 1e-12), reference);
        // Kepler e = 0.9 amplifies phase errors near pericentre; the others stay far below.
        const allowed = (p.id.startsWith('D5') ? 1e-5 : 1e-7) * scale;
        assert.ok(e < allowed, `error ${e}, allowed ${allowed}`);
      });
    }
  }
  it('the dopri8 reference agrees with itself at two tight tolerances (it is a valid reference)', () => {
    const p = problems[2] as Detest;
    assert.ok(maxAbsDiff(solve(p, methods.dopri8, 1e-14, 1e-16), solve(p, methods.dopri8, 1e-12, 1e-14)) < 1e-9);
  });
});
