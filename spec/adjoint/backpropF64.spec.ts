/**
 * Float64 backprop (`backpropF64.ts`): the forward pass is the plain forward solve (same outputs
 * bit for bit, same NFE as the adjoint's forward solve); the gradient is the exact derivative of
 * that discrete solution — finite differences of an independent fixed-step replay with dense
 * output — for θ, z₀ and every tᵢ, for FSAL/non-FSAL tableaus with polynomial or Hermite dense
 * output, with and without checkpointing; and it agrees with the adjoint at tight tolerances.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { gradient, prepareGradient, type GradientProblem, type GradientResult } from '../../src/adjoint/gradients/index.ts';
import { backpropF64 } from '../../src/adjoint/gradients/backpropF64.ts';
import { deriveSymbolic } from '../../src/adjoint/gradients/symbolic.ts';
import { kernelEvaluator } from '../../src/interp/evaluator.ts';
import { compileF64Dynamics } from '../../src/ode/f64Dynamics.ts';
import { bosh3, dopri5, f64Space, fehlberg45, integrate, tsit5 } from '../../src/solvers/index.ts';
import { assertProperty } from '../support/property.ts';
import { fd4, freeGrid, moveAt, moveParam, near, problemSpec, randomProblem, replayDenseLoss } from './gradients-fixtures.ts';

const right = <T>(r: E.Either<unknown, T>): T => {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`);
  return r.right;
};

const probes = (size: number): number[] => [...new Set([0, size - 1])];

test('float64 backprop is the exact gradient of the free-stepping discrete solution (dense-output replay)', () => {
  let interior = 0, runs = 0;
  assertProperty(
    fc.property(problemSpec, fc.constantFrom(dopri5, tsit5, bosh3, fehlberg45), fc.integer({ min: 1, max: 3 }), (spec, method, checkpointEvery) => {
      const p = randomProblem(spec, { method, rtol: 1e-5, atol: 1e-7 });
      const r = right(gradient(p, { method: 'backprop', checkpointEvery }));
      const grid = freeGrid(p);
      runs++;
      // Some observation time falls strictly inside a step: the interpolant is differentiated.
      if (p.ts.slice(1, -1).some((t) => !grid.includes(t))) interior++;
      const replay = (q: GradientProblem): number => replayDenseLoss(grid, p, q);
      near(r.loss, replay(p), 1e-13, 0, 'the loss is the replay’s');
      // fd4 with h = 1e-4: truncation O(h⁴) ≈ 1e-16, rounding ≈ ε·|L|/h ≈ 1e-12·(1 + |L|).
      const h = 1e-4;
      const scale = 1e-11 * (1 + Math.abs(r.loss));
      for (const decl of p.dynamics.params) {
        for (const i of probes(decl.shape.reduce((a, b) => a * b, 1))) {
          near(r.dparams[decl.name]?.data[i] as number, fd4((d) => replay({ ...p, params: moveParam(p.params, decl.name, i, d) }), h), 1e-9, scale, `∂L/∂${decl.name}[${i}]`);
        }
      }
      p.z0.data.forEach((_, j) => near(r.dz0.data[j] as number, fd4((d) => replay({ ...p, z0: moveAt(p.z0, j, d) }), h), 1e-9, scale, `∂L/∂z₀[${j}]`));
      p.ts.forEach((_, k) => near(r.dts[k] as number, fd4((d) => replay({ ...p, ts: p.ts.map((v, q) => (q === k ? v + d : v)) }), h), 1e-9, scale, `∂L/∂t${k}`));
      assert.equal(r.stats.acceptedBackward, grid.length - 1);
    }),
    { seed: 20261129, numRuns: 24 },
  );
  assert.ok(interior >= runs / 2, `most problems have observation times inside steps (${interior} of ${runs})`);
});

test('the forward pass is the plain forward solve: outputs bit for bit, same NFE as the solve and as the adjoint', () => {
  assertProperty(
    fc.property(problemSpec, fc.constantFrom(dopri5, tsit5, bosh3, fehlberg45), (spec, method) => {
      const p = randomProblem(spec, { method, rtol: 1e-6, atol: 1e-8 });
      const bp = right(gradient(p, { method: 'backprop' }));
      const adj = right(gradient(p, { method: 'adjoint' }));
      const d = compileF64Dynamics(p.dynamics, p.params);
      if (E.isLeft(d)) throw new Error(d.left);
      const B = p.z0.shape[0] as number, n = p.z0.data.length;
      const sol = right(integrate(f64Space, d.right.f, { data: p.z0.data, batch: B, dim: n / B }, { method, ts: p.ts, rtol: 1e-6, atol: 1e-8 }));
      const expected = new Float64Array(p.ts.length * n);
      sol.ys.forEach((y, k) => expected.set(y.data, k * n));
      assert.deepEqual(bp.prediction.data, expected);
      assert.equal(bp.stats.nfeForward, sol.stats.nfe);
      assert.equal(bp.stats.nfeForward, adj.stats.nfeForward);
      assert.equal(bp.loss, adj.loss);
    }),
    { seed: 11, numRuns: 12 },
  );
});

test('float64 backprop and the adjoint agree at tight tolerances (both tend to the continuous gradient)', () => {
  assertProperty(
    fc.property(problemSpec, (spec) => {
      const p = randomProblem(spec, { method: dopri5, rtol: 1e-11, atol: 1e-13 });
      const bp = right(gradient(p, { method: 'backprop' }));
      const adj = right(gradient(p, { method: 'adjoint' }));
      // Each is within a few multiples of the tolerances of the continuous gradient.
      const tol = 1e-7 * (1 + Math.abs(bp.loss));
      const all = (r: GradientResult): number[] => [
        ...Object.keys(r.dparams).sort().flatMap((k) => [...(r.dparams[k]?.data ?? [])]), ...r.dz0.data, ...r.dts,
      ];
      const a = all(bp), b = all(adj);
      a.forEach((v, i) => near(v, b[i] as number, 1e-6, tol, `component ${i}`));
    }),
    { seed: 3, numRuns: 12 },
  );
});

test('a prepared float64 backprop reuses its buffers: interleaved sizes and repeated calls give identical results', () => {
  const p = randomProblem({ d: 2, batch: 3, hidden: 4, act: 'tanh', time: 'mul', gaps: [0.3, 0.5], decreasing: false, seed: 4 }, { method: dopri5, rtol: 1e-6, atol: 1e-8 });
  const q = randomProblem({ d: 2, batch: 1, hidden: 4, act: 'tanh', time: 'mul', gaps: [0.2, 0.2, 0.4], decreasing: true, seed: 4 }, { method: tsit5, rtol: 1e-6, atol: 1e-8 });
  const g = right(prepareGradient(p, { method: 'backprop' }));
  const first = right(g(p));
  const other = right(g({ ...q, params: p.params }));
  const again = right(g(p));
  assert.deepEqual(again, first);
  assert.deepEqual(right(g({ ...q, params: p.params })), other);
  assert.deepEqual(right(gradient(p, { method: 'backprop' })), first);
});

test('saved activations change no value: a tape without them (VJPs recompute f) gives the same gradient', () => {
  const p = randomProblem({ d: 2, batch: 2, hidden: 5, act: 'tanh', time: 'concat', gaps: [0.3, 0.4], decreasing: false, seed: 8 }, { method: dopri5, rtol: 1e-7, atol: 1e-9 });
  const q = randomProblem({ d: 1, batch: 3, hidden: 4, act: 'softplus', time: 'mul', gaps: [0.5, 0.2], decreasing: true, seed: 2 }, { method: bosh3, rtol: 1e-6, atol: 1e-8 });
  for (const prob of [p, q]) for (const checkpointEvery of [1, 2]) {
    const sym = right(deriveSymbolic(prob));
    const cfg = { method: 'backprop', checkpointEvery } as const;
    const none = (): never => { throw new Error('no fallback expected'); };
    const saved = right(backpropF64(sym, cfg, kernelEvaluator, none)(prob));
    // 150 float64s: one or two steps' activations (10 or 12 values per evaluation), later steps recompute.
    for (const maxSavedElements of [0, 150]) {
      const plain = right(backpropF64(sym, cfg, kernelEvaluator, none, { maxSavedElements })(prob));
      assert.equal(plain.loss, saved.loss);
      const flat = (r: GradientResult): number[] => [...Object.keys(r.dparams).sort().flatMap((k) => [...(r.dparams[k]?.data ?? [])]), ...r.dz0.data, ...r.dts];
      const a = flat(plain), b = flat(saved);
      a.forEach((v, i) => near(v, b[i] as number, 1e-12, 1e-15, `component ${i} (max ${maxSavedElements})`));
    }
  }
});
