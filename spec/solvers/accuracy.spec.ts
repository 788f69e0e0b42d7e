import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { integrate } from '../../src/solvers/integrate.ts';
import { f64FromRows, f64Space } from '../../src/solvers/f64Space.ts';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import type { Method } from '../../src/solvers/method.ts';
import { methods } from '../../src/solvers/methods.ts';
import { kepler, keplerExact, keplerY0, ok, rowwise } from './helpers.ts';

interface Problem {
  readonly name: string;
  readonly f: (t: number, y: F64Batch) => F64Batch;
  readonly y0: number[];
  readonly ts: number[];
  readonly exact: (t: number) => number[];
}

const problems: Problem[] = [
  { name: 'exponential decay', f: rowwise((_t, y, o) => { o[0] = -2 * (y[0] as number); }), y0: [1], ts: [0, 0.5, 1, 2, 3], exact: (t) => [Math.exp(-2 * t)] },
  {
    name: 'harmonic oscillator',
    f: rowwise((_t, y, o) => { o[0] = y[1] as number; o[1] = -(y[0] as number); }),
    y0: [1, 0],
    ts: Array.from({ length: 11 }, (_, i) => i),
    exact: (t) => [Math.cos(t), -Math.sin(t)],
  },
  { name: 'Kepler orbit e = 0.5, one period', f: kepler, y0: keplerY0(0.5), ts: [0, Math.PI / 2, Math.PI, 2 * Math.PI], exact: (t) => keplerExact(0.5, t) },
  {
    // y' = ω(t) J y with ω = 1 + t: a rotation by the angle t + t²/2.
    name: 'time-dependent linear system',
    f: rowwise((t, y, o) => { o[0] = -(1 + t) * (y[1] as number); o[1] = (1 + t) * (y[0] as number); }),
    y0: [1, 0],
    ts: [0, 0.5, 1, 1.5, 2, 2.5, 3],
    exact: (t) => [Math.cos(t + (t * t) / 2), Math.sin(t + (t * t) / 2)],
  },
];

const maxErr = (m: Method, p: Problem, rtol: number, atol: number): number => {
  const s = ok(integrate(f64Space, p.f, f64FromRows([p.y0]), { method: m, ts: p.ts, rtol, atol }));
  assert.equal(s.ys.length, p.ts.length);
  return Math.max(...s.ys.flatMap((y, k) => Array.from(y.data, (v, j) => Math.abs(v - (p.exact(p.ts[k] as number)[j] as number)))));
};

// Global error of a tolerance-controlled solve is a modest multiple of the tolerance.
const cases: [Method, number][] = [
  [methods.heun, 1e-5],
  [methods.bosh3, 1e-7],
  [methods.fehlberg45, 1e-8],
  [methods.dopri5, 1e-8],
  [methods.tsit5, 1e-8],
  [methods.dopri8, 1e-11],
  [methods.rodas4, 1e-7],
];

describe('adaptive methods meet their tolerance on problems with analytic solutions', () => {
  for (const p of problems) {
    for (const [m, tol] of cases) {
      it(`${m.name} on ${p.name} at rtol = ${tol}`, () => {
        const e = maxErr(m, p, tol, tol * 1e-2);
        assert.ok(e < 100 * tol, `error ${e} exceeds 100 × tol`);
      });
    }
  }
  it('tightening the tolerance by 100 reduces the error (the tolerance is honoured, not luck)', () => {
    for (const m of [methods.dopri5, methods.tsit5, methods.dopri8]) {
      const loose = maxErr(m, problems[2] as Problem, 1e-5, 1e-7);
      const tight = maxErr(m, problems[2] as Problem, 1e-7, 1e-9);
      assert.ok(tight < loose / 10, `${m.name}: ${loose} → ${tight}`);
    }
  });
});
