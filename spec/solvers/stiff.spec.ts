import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { integrate } from '../../src/solvers/integrate.ts';
import { f64Batch, f64FromRows, f64Space } from '../../src/solvers/f64Space.ts';
import type { F64Batch } from '../../src/solvers/f64Space.ts';
import { formatSolveError } from '../../src/solvers/errors.ts';
import { luFactor, luSolveInto } from '../../src/solvers/lu.ts';
import { methods } from '../../src/solvers/methods.ts';
import { err, maxAbsDiff, ok, rng, rowwise } from './helpers.ts';
import * as E from 'fp-ts/lib/Either.js';

const { rodas4, dopri5, tsit5 } = methods;

// Robertson's chemical kinetics (HW II §IV.1, (1.4)).
const robertson = rowwise((_t, y, o) => {
  const a = y[0] as number, b = y[1] as number, c = y[2] as number;
  o[0] = -0.04 * a + 1e4 * b * c;
  o[1] = 0.04 * a - 1e4 * b * c - 3e7 * b * b;
  o[2] = 3e7 * b * b;
});
const robertsonJac = (_t: number, y: F64Batch): Float64Array => {
  const J = new Float64Array(y.batch * 9);
  for (let r = 0; r < y.batch; r++) {
    const b = y.data[3 * r + 1] as number, c = y.data[3 * r + 2] as number;
    J.set([-0.04, 1e4 * c, 1e4 * b, 0.04, -1e4 * c - 6e7 * b, -1e4 * b, 0, 6e7 * b, 0], 9 * r);
  }
  return J;
};
const rob0 = f64FromRows([[1, 0, 0]]);
const robTol = { rtol: 1e-6, atol: new Float64Array([1e-8, 1e-12, 1e-8]) };

// Van der Pol y'' − μ(1 − y²)y' + y = 0 with μ = 1000 (MATLAB's vdp1000).
const MU = 1000;
const vdp = rowwise((_t, y, o) => {
  const a = y[0] as number, b = y[1] as number;
  o[0] = b;
  o[1] = MU * (1 - a * a) * b - a;
});
const vdpJac = (_t: number, y: F64Batch): Float64Array => {
  const a = y.data[0] as number, b = y.data[1] as number;
  return Float64Array.of(0, 1, -2 * MU * a * b - 1, MU * (1 - a * a));
};

describe('stiff problems: Rosenbrock (rodas4) succeeds where explicit methods cannot', () => {
  it('Robertson to t = 40 matches the reference solution (analytic Jacobian)', () => {
    const s = ok(integrate(f64Space, robertson, rob0, { method: rodas4, ts: [0, 0.4, 4, 40], jacobian: robertsonJac, autonomous: true, ...robTol }));
    const ref = [0.7158270687193435, 9.185534764529256e-6, 0.2841637457372304];
    const y = (s.ys[3] as F64Batch).data;
    ref.forEach((r, i) => assert.ok(Math.abs((y[i] as number) - r) < 1e-5 * Math.abs(r) + 1e-11, `component ${i}: ${y[i]} vs ${r}`));
  });

  it('Robertson to t = 1e11 at rtol 1e-8 in a few thousand steps; mass is conserved; matches the test-set reference', () => {
    const s = ok(integrate(f64Space, robertson, rob0, { method: rodas4, t0: 0, t1: 1e11, jacobian: robertsonJac, autonomous: true, rtol: 1e-8, atol: new Float64Array([1e-16, 1e-20, 1e-12]) }));
    const y = s.yFinal.data;
    assert.ok(s.stats.accepted < 5000, `${s.stats.accepted} steps`);
    assert.ok(Math.abs((y[0] as number) + (y[1] as number) + (y[2] as number) - 1) < 1e-9);
    // Reference at t = 1e11 (Mazzia–Magherini, Test Set for IVP Solvers, problem ROBER).
    const ref = [0.2083340149701255e-7, 0.8333360770334713e-13, 0.9999999791665050];
    ref.forEach((r, i) => assert.ok(Math.abs((y[i] as number) - r) < 1e-4 * r, `component ${i}: ${y[i]} vs ${r}`));
  });

  it('Robertson with the finite-difference Jacobian fallback gives the same answer', () => {
    const a = ok(integrate(f64Space, robertson, rob0, { method: rodas4, t0: 0, t1: 1e5, jacobian: robertsonJac, ...robTol }));
    const b = ok(integrate(f64Space, robertson, rob0, { method: rodas4, t0: 0, t1: 1e5, ...robTol }));
    assert.ok(b.stats.njac > 0 && b.stats.nfe > a.stats.nfe);
    [0, 1, 2].forEach((i) => {
      const x = a.yFinal.data[i] as number, z = b.yFinal.data[i] as number;
      assert.ok(Math.abs(x - z) < 1e-4 * Math.abs(x) + 1e-12, `component ${i}: ${x} vs ${z}`);
    });
  });

  it('Robertson: an explicit method hits MaxStepsReached and the message suggests rodas4', () => {
    const e = err(integrate(f64Space, robertson, rob0, { method: dopri5, t0: 0, t1: 1e5, maxSteps: 5000, ...robTol }));
    assert.equal(e._tag, 'MaxStepsReached');
    assert.match(formatSolveError(e), /use the stiff solver rodas4/);
  });

  it('Van der Pol μ = 1000 on [0, 3000]: rodas4 agrees with itself at a much tighter tolerance', () => {
    const loose = ok(integrate(f64Space, vdp, f64FromRows([[2, 0]]), { method: rodas4, ts: [0, 500, 1000, 3000], rtol: 1e-6, atol: 1e-6, jacobian: vdpJac, autonomous: true }));
    const tight = ok(integrate(f64Space, vdp, f64FromRows([[2, 0]]), { method: rodas4, ts: [0, 500, 1000, 3000], rtol: 1e-9, atol: 1e-9, jacobian: vdpJac, autonomous: true }));
    assert.ok(loose.stats.accepted < 3000, `${loose.stats.accepted} steps`);
    // Compare y1 (y2 is large and steep near the fast transitions).
    [1, 2, 3].forEach((k) => {
      const a = (loose.ys[k] as F64Batch).data[0] as number, b = (tight.ys[k] as F64Batch).data[0] as number;
      assert.ok(Math.abs(a - b) < 1e-3, `t = ${[0, 500, 1000, 3000][k]}: ${a} vs ${b}`);
      assert.ok(Math.abs(a) <= 2.01);
    });
    // The relaxation oscillation has period ≈ (3 − 2 ln 2)μ ≈ 1614: y1 changes sign before t = 1000.
    assert.ok(((tight.ys[1] as F64Batch).data[0] as number) > 0 && ((tight.ys[2] as F64Batch).data[0] as number) < 0);
  });

  it('Van der Pol μ = 1000: explicit methods hit MaxStepsReached with a modest budget', () => {
    for (const m of [dopri5, tsit5]) {
      const e = err(integrate(f64Space, vdp, f64FromRows([[2, 0]]), { method: m, t0: 0, t1: 3000, rtol: 1e-6, atol: 1e-6, maxSteps: 20_000 }));
      assert.equal(e._tag, 'MaxStepsReached', m.name);
    }
  });

  it('rodas4 handles a batch: one LU per trajectory, same answers as solo solves', () => {
    const y0 = f64FromRows([[1, 0, 0], [0.5, 0, 0.5]]);
    const s = ok(integrate(f64Space, robertson, y0, { method: rodas4, t0: 0, t1: 100, jacobian: robertsonJac, autonomous: true, rtol: 1e-8, atol: 1e-14 }));
    [[1, 0, 0], [0.5, 0, 0.5]].forEach((row, b) => {
      const solo = ok(integrate(f64Space, robertson, f64FromRows([row]), { method: rodas4, t0: 0, t1: 100, jacobian: robertsonJac, autonomous: true, rtol: 1e-8, atol: 1e-14 }));
      assert.ok(maxAbsDiff(s.yFinal.data.subarray(3 * b, 3 * b + 3), solo.yFinal.data) < 1e-6);
    });
  });
});

describe('LU with partial pivoting', () => {
  it('solves random systems to round-off and needs pivoting where a₁₁ = 0', () => {
    const r = rng(9);
    for (const n of [1, 2, 5, 12]) {
      const A = Float64Array.from({ length: n * n }, () => 2 * r() - 1);
      A[0] = 0;
      const x = Float64Array.from({ length: n }, () => 2 * r() - 1);
      const b = Float64Array.from({ length: n }, (_, i) => x.reduce((s, xj, j) => s + (A[i * n + j] as number) * xj, 0));
      const f = luFactor(A, n);
      if (n === 1) { assert.ok(E.isLeft(f)); continue; }
      assert.ok(E.isRight(f));
      luSolveInto(f.right, b);
      assert.ok(maxAbsDiff(b, x) < 1e-10, `n = ${n}`);
    }
  });
  it('reports the column of a singular matrix', () => {
    const f = luFactor(Float64Array.of(1, 2, 2, 4), 2);
    assert.ok(E.isLeft(f) && f.left === 1);
  });
  it('factors in place at an offset without touching the source', () => {
    const src = Float64Array.of(9, 9, 2, 1, 1, 3);
    const f = luFactor(src, 2, 2);
    assert.ok(E.isRight(f));
    assert.deepEqual(Array.from(src), [9, 9, 2, 1, 1, 3]);
    const b = f64Batch(1, 2, Float64Array.of(3, 4)).data;
    luSolveInto(f.right, b);
    assert.ok(maxAbsDiff(b, [1, 1]) < 1e-14);
  });
});
