/**
 * The gradient API on float64: `adjoint` and `backprop` agree with each other and with central
 * finite differences of the continuous problem (tolerance tied to the solver's) on random tiny
 * MLP dynamics, weighted losses and observation times (increasing or decreasing); the generic
 * `backprop` (steps forced onto the observation times) is the exact gradient of the discrete
 * solution — finite differences of a fixed-step replay of the accepted steps — for θ, z₀ and every tᵢ, with and without checkpointing; failures are values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { gradient, prepareGradient, type GradientProblem, type GradientResult } from '../../src/adjoint/gradients/index.ts';
import { referenceEvaluator } from '../../src/interp/evaluator.ts';
import { dopri5, dopri8, rodas4 } from '../../src/solvers/index.ts';
import { assertProperty } from '../support/property.ts';
import { acceptedGrid, fd2, fd4, lossOf, moveAt, moveParam, near, problemSpec, randomProblem, replayLoss } from './gradients-fixtures.ts';

const right = <T>(r: E.Either<unknown, T>): T => {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`);
  return r.right;
};

/** Element indices checked per parameter: the first and the last. */
const probes = (size: number): number[] => [...new Set([0, size - 1])];

test('adjoint, backprop and central finite differences agree (random dynamics, losses and times)', () => {
  assertProperty(
    fc.property(problemSpec, fc.boolean(), (spec, seminorm) => {
      const p = randomProblem(spec, { method: dopri5, rtol: 1e-8, atol: 1e-10 });
      const adj = right(gradient(p, { method: 'adjoint', seminorm }));
      const bp = right(gradient(p, { method: 'backprop' }));
      const tight: GradientProblem = { ...p, solver: { method: dopri5, rtol: 1e-12, atol: 1e-14 } };
      const h = 1e-5;
      const scale = 1 + Math.abs(adj.loss);
      const check = (what: string, pick: (r: GradientResult) => number, L: (d: number) => number): void => {
        const fd = fd2(L, h);
        near(pick(adj), fd, 1e-5, 1e-7 * scale, `adjoint ${what}`);
        near(pick(bp), fd, 1e-5, 1e-7 * scale, `backprop ${what}`);
        near(pick(adj), pick(bp), 1e-5, 1e-7 * scale, `adjoint vs backprop ${what}`);
      };
      for (const decl of p.dynamics.params) {
        for (const i of probes(decl.shape.reduce((a, b) => a * b, 1))) {
          check(`∂L/∂${decl.name}[${i}]`, (r) => r.dparams[decl.name]?.data[i] as number, (d) => lossOf({ ...tight, params: moveParam(p.params, decl.name, i, d) }));
        }
      }
      const j = p.z0.data.length - 1;
      check(`∂L/∂z₀[${j}]`, (r) => r.dz0.data[j] as number, (d) => lossOf({ ...tight, z0: moveAt(p.z0, j, d) }));
      p.ts.forEach((_, k) => {
        check(`∂L/∂t${k}`, (r) => r.dts[k] as number, (d) => lossOf({ ...tight, ts: p.ts.map((v, q) => (q === k ? v + d : v)) }));
      });
      assert.equal(adj.loss, lossOf(p));
      assert.ok(adj.stats.nfeBackward > 0 && bp.stats.nfeBackward > 0);
    }),
    { seed: 20260601, numRuns: 20 },
  );
});

// The generic backprop (tfjs, and float64 methods the Float64 loop does not run, here DOP853) forces
// steps onto the observation times; float64 backprop on the loop is tested in backpropF64.spec.ts.
test('generic backprop is the exact gradient of the discrete solution: finite differences of a fixed-step replay', () => {
  let interior = 0, runs = 0;
  assertProperty(
    fc.property(problemSpec, fc.constantFrom(dopri8), fc.integer({ min: 1, max: 4 }), (spec, method, checkpointEvery) => {
      const p = randomProblem(spec, { method, rtol: 1e-10, atol: 1e-12 });
      const r = right(gradient(p, { method: 'backprop', checkpointEvery }));
      const grid = acceptedGrid(p);
      runs++;
      if (grid.length > p.ts.length + 1) interior++;
      const replay = (q: GradientProblem): number => replayLoss(grid, p, q);
      near(r.loss, replay(p), 1e-14, 0, 'the loss is the replay’s');
      const h = 1e-4;
      const scale = 1e-11 * (1 + Math.abs(r.loss));
      for (const decl of p.dynamics.params) {
        for (const i of probes(decl.shape.reduce((a, b) => a * b, 1))) {
          near(r.dparams[decl.name]?.data[i] as number, fd4((d) => replay({ ...p, params: moveParam(p.params, decl.name, i, d) }), h), 1e-9, scale, `∂L/∂${decl.name}[${i}]`);
        }
      }
      p.z0.data.forEach((_, j) => near(r.dz0.data[j] as number, fd4((d) => replay({ ...p, z0: moveAt(p.z0, j, d) }), h), 1e-9, scale, `∂L/∂z₀[${j}]`));
      p.ts.forEach((_, k) => near(r.dts[k] as number, fd4((d) => replay({ ...p, ts: p.ts.map((v, q) => (q === k ? v + d : v)) }), h), 1e-9, scale, `∂L/∂t${k}`));
    }),
    { seed: 7, numRuns: 15 },
  );
  assert.ok(interior >= runs / 2, `most step sequences have steps between observations (${interior} of ${runs})`);
});

test('the evaluator is pluggable: the reference evaluator gives the kernels’ gradient bit for bit', () => {
  const p = randomProblem({ d: 2, batch: 2, hidden: 3, act: 'tanh', time: 'concat', gaps: [0.3, 0.4], decreasing: false, seed: 5 }, { method: dopri5, rtol: 1e-7, atol: 1e-9 });
  for (const method of ['adjoint', 'backprop'] as const) {
    const a = right(gradient(p, { method }));
    const b = right(gradient(p, { method, on: { backend: 'float64', evaluator: referenceEvaluator } }));
    assert.deepEqual(b.dparams, a.dparams);
    assert.deepEqual(b.dts, a.dts);
  }
});

test('a prepared gradient is reusable across data; a single observation time needs no solve', () => {
  const p = randomProblem({ d: 1, batch: 3, hidden: 4, act: 'softplus', time: 'none', gaps: [0.5], decreasing: false, seed: 9 }, { method: dopri5, rtol: 1e-8, atol: 1e-10 });
  const g = right(prepareGradient(p, { method: 'adjoint' }));
  const r1 = right(g(p)), r2 = right(g({ ...p, z0: moveAt(p.z0, 0, 0.1) }));
  assert.notEqual(r1.loss, r2.loss);
  const one: GradientProblem = { ...p, ts: [0.1], lossInputs: { ytrue: { shape: [1, 3, 1], data: Float64Array.of(1, 2, 3) }, w: { shape: [1, 3, 1], data: Float64Array.of(1, 1, 1) } } };
  for (const method of ['adjoint', 'backprop'] as const) {
    const r = right(gradient(one, { method }));
    // L = mean((z₀ − y)²) over 3 values: ∂L/∂z₀ = 2(z₀ − y)/3, no time dependence.
    r.dz0.data.forEach((v, i) => near(v, (2 * ((p.z0.data[i] as number) - (i + 1))) / 3, 1e-14, 0, `${method} ∂L/∂z₀[${i}]`));
    assert.equal(r.dts[0], 0);
    assert.equal(r.stats.nfeForward, 0);
  }
});

test('failures are values: invalid problems, and solve failures keep the SolveError', () => {
  const p = randomProblem({ d: 2, batch: 1, hidden: 3, act: 'tanh', time: 'none', gaps: [0.4, 0.4], decreasing: false, seed: 1 }, { method: dopri5, rtol: 1e-6, atol: 1e-8 });
  const tag = (r: E.Either<{ readonly _tag: string }, unknown>): string => (E.isLeft(r) ? r.left._tag : 'Right');
  assert.equal(tag(gradient({ ...p, z0: { shape: [1, 3], data: new Float64Array(3) } }, { method: 'adjoint' })), 'InvalidProblem');
  assert.equal(tag(gradient({ ...p, ts: [] }, { method: 'adjoint' })), 'InvalidProblem');
  assert.equal(tag(gradient({ ...p, ts: [0, 0.5, 0.5] }, { method: 'backprop' })), 'InvalidProblem');
  assert.equal(tag(gradient({ ...p, lossInputs: {} }, { method: 'adjoint' })), 'InvalidProblem');
  assert.equal(tag(gradient({ ...p, solver: { method: rodas4 } }, { method: 'backprop' })), 'InvalidProblem');
  assert.equal(tag(gradient(p, { method: 'backprop', checkpointEvery: 0 })), 'InvalidProblem');
  const fwd = gradient({ ...p, solver: { method: dopri5, rtol: 1e-10, atol: 1e-12, maxSteps: 2 } }, { method: 'backprop' });
  assert.ok(E.isLeft(fwd) && fwd.left._tag === 'SolveFailed' && fwd.left.phase === 'forward' && fwd.left.error._tag === 'MaxStepsReached');
  const bwd = gradient(p, { method: 'adjoint', backward: { method: dopri5, rtol: 1e-10, atol: 1e-12, maxSteps: 2 } });
  assert.ok(E.isLeft(bwd) && bwd.left._tag === 'SolveFailed' && bwd.left.phase === 'backward' && bwd.left.error._tag === 'MaxStepsReached');
  assert.ok(fwd.left.error.t >= 0.1 && fwd.left.error.t < 0.9, 'the error says where the solve stopped');
});
