/**
 * The gradient methods against each other and against finite differences (float64):
 * `adjoint` (backsolve) and `backprop` (discretise-then-optimise) agree with central differences
 * of the continuous problem within a tolerance tied to the solver's; `backprop` equals central
 * differences of the discrete solution (a fixed-step replay of its accepted steps) to near
 * machine precision; ∂L/∂z₀ and ∂L/∂tᵢ are checked the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { sym } from '../../src/dsl/shape.ts';
import { linearNamed } from '../../src/dsl/layers.ts';
import { mse } from '../../src/dsl/losses.ts';
import { dynamics, loss, model, type Model } from '../../src/dsl/model.ts';
import type { ParamValues } from '../../src/dsl/params.ts';
import { compileAdjointGradient } from '../../src/adjoint/backsolveF64.ts';
import { compileBackpropGradient } from '../../src/adjoint/backpropF64.ts';
import { compileF64Dynamics } from '../../src/ode/f64Dynamics.ts';
import { dopri5, bosh3, f64Space, integrate, type F64Batch } from '../../src/solvers/index.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { assertProperty } from '../support/property.ts';
import { seedRng, draw, nextNormal } from '../../src/random/prng.ts';

const B = sym('batch'), O = sym('obs');

/** A random tiny model: f = tanh(z W₁ + b₁ [+ t·c]) W₂ + b₂, loss = mse(prediction, target). */
const randomModel = (d: number, h: number, timeDependent: boolean, seed: number): Model => {
  const z = X.state('z', [B, d]);
  const t = X.time('t');
  const l1 = linearNamed('W1', 'b1', d, h), l2 = linearNamed('W2', 'b2', h, d);
  const pre = l1.apply(z);
  const c = X.variable('c', 'param', [h]);
  const act = X.tanh(timeDependent ? X.add(pre, X.mul(c, t)) : pre);
  const f = l2.apply(act);
  const params = [...l1.params, ...l2.params, ...(timeDependent ? [{ expr: c, name: 'c', shape: [h] as const, init: { kind: 'normal', mean: 0, std: 0.5 } as const }] : [])];
  const yhat = X.input('yhat', [O, B, d]), ytrue = X.input('ytrue', [O, B, d]);
  return model({ name: 'random', dynamics: dynamics({ state: z, time: t, params, f }), loss: loss({ prediction: yhat, value: mse(yhat, ytrue) }), seed });
};

const normalT = (shape: number[], seed: number, scale = 1): F64Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: draw(nextNormal, seedRng(seed, 'data'), n)[0].map((v) => scale * v) };
};

const lossAt = (m: Model, params: ParamValues, z0: F64Tensor, ts: readonly number[], target: F64Tensor, rtol: number): number => {
  const g = compileAdjointGradient(m, { forward: { method: dopri5, rtol, atol: rtol * 1e-2 } });
  if (E.isLeft(g)) throw new Error('compile');
  const r = g.right(params, z0, ts, target);
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  return r.right.loss;
};

const perturb = (p: ParamValues, name: string, i: number, h: number): ParamValues => {
  const t = p[name]!;
  const data = t.data.slice();
  data[i] = data[i]! + h;
  return { ...p, [name]: { shape: t.shape, data } };
};

const close = (a: number, b: number, rtol: number, atol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);

test('adjoint, backprop and central finite differences agree on random dynamics, losses and observation times', () => {
  assertProperty(
    fc.property(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 1e6 }),
      fc.array(fc.double({ min: 0.05, max: 0.6, noNaN: true }), { minLength: 1, maxLength: 3 }),
      (d, batch, timeDependent, seed, gaps) => {
        const m = randomModel(d, 4, timeDependent, seed);
        const ts = gaps.reduce<number[]>((acc, g) => [...acc, (acc.at(-1) as number) + g], [0.1]);
        const z0 = normalT([batch, d], seed + 1);
        const target = normalT([ts.length, batch, d], seed + 2, 0.5);
        const solver = { method: dopri5, rtol: 1e-10, atol: 1e-12 };
        const adj = compileAdjointGradient(m, { forward: solver, seminorm: true });
        const bp = compileBackpropGradient(m, { solver });
        assert.ok(E.isRight(adj) && E.isRight(bp));
        const ra = adj.right(m.values, z0, ts, target), rb = bp.right(m.values, z0, ts, target);
        assert.ok(E.isRight(ra) && E.isRight(rb));
        const h = 1e-6;
        for (const p of m.params) {
          for (const i of [0, p.shape.reduce((a, b) => a * b, 1) - 1]) {
            const fd = (lossAt(m, perturb(m.values, p.name, i, h), z0, ts, target, 1e-11) - lossAt(m, perturb(m.values, p.name, i, -h), z0, ts, target, 1e-11)) / (2 * h);
            close(ra.right.dparams[p.name]!.data[i]!, fd, 1e-5, 1e-8, `adjoint ∂L/∂${p.name}[${i}]`);
            close(rb.right.dparams[p.name]!.data[i]!, fd, 1e-5, 1e-8, `backprop ∂L/∂${p.name}[${i}]`);
          }
        }
        // ∂L/∂z₀ and ∂L/∂tᵢ by differences too.
        const j = z0.data.length - 1;
        const zp = { shape: z0.shape, data: z0.data.map((v, q) => (q === j ? v + h : v)) };
        const zm = { shape: z0.shape, data: z0.data.map((v, q) => (q === j ? v - h : v)) };
        const fdz = (lossAt(m, m.values, zp, ts, target, 1e-11) - lossAt(m, m.values, zm, ts, target, 1e-11)) / (2 * h);
        close(ra.right.dz0.data[j]!, fdz, 1e-5, 1e-8, 'adjoint ∂L/∂z₀');
        close(rb.right.dz0.data[j]!, fdz, 1e-5, 1e-8, 'backprop ∂L/∂z₀');
        for (const k of [0, ts.length - 1]) {
          const tp = ts.map((v, q) => (q === k ? v + h : v)), tm = ts.map((v, q) => (q === k ? v - h : v));
          const fdt = (lossAt(m, m.values, z0, tp, target, 1e-11) - lossAt(m, m.values, z0, tm, target, 1e-11)) / (2 * h);
          close(ra.right.dts[k]!, fdt, 1e-5, 1e-8, `adjoint ∂L/∂t${k}`);
        }
      },
    ),
    { seed: 2026, numRuns: 12 },
  );
});

/** The loss of the discrete solution on a fixed step grid, with `method`'s tableau. */
const replayLoss = (m: Model, params: ParamValues, z0: F64Tensor, grid: readonly number[], ts: readonly number[], target: F64Tensor): number => {
  const d = compileF64Dynamics(m.dynamics, params);
  if (E.isLeft(d)) throw new Error(d.left);
  const tab = bosh3.kind === 'explicit' ? bosh3.tableau : (() => { throw new Error('explicit'); })();
  const B0 = z0.shape[0]!, n = z0.data.length;
  let y = Float64Array.from(z0.data);
  const outs: Float64Array[] = [];
  let obs = 0;
  for (let s = 0; s < grid.length; s++) {
    if (obs < ts.length && grid[s] === ts[obs]) { outs.push(y.slice()); obs++; }
    if (s === grid.length - 1) break;
    const t0 = grid[s]!, hh = grid[s + 1]! - t0;
    const K: Float64Array[] = [];
    for (let i = 0; i < tab.stages; i++) {
      const Yi = Float64Array.from(y);
      (tab.a[i] ?? []).forEach((a, j) => { if (a !== 0) for (let q = 0; q < n; q++) Yi[q] = Yi[q]! + hh * a * K[j]![q]!; });
      K.push(Float64Array.from(d.right.f(t0 + tab.c[i]! * hh, { data: Yi, batch: B0, dim: n / B0 } as F64Batch).data));
    }
    const y1 = Float64Array.from(y);
    tab.b.forEach((b, i) => { if (b !== 0) for (let q = 0; q < n; q++) y1[q] = y1[q]! + hh * b * K[i]![q]!; });
    y = y1;
  }
  let acc = 0;
  outs.forEach((o, k) => o.forEach((v, q) => { acc += (v - target.data[k * n + q]!) ** 2; }));
  return acc / target.data.length;
};

test('backprop is the exact gradient of the discrete solution (fixed-step replay), with and without checkpointing', () => {
  const m = randomModel(2, 5, true, 3);
  const ts = [0, 0.4, 1.1];
  const z0 = normalT([2, 2], 11), target = normalT([3, 2, 2], 12, 0.5);
  const solver = { method: bosh3, rtol: 1e-4, atol: 1e-6 };
  const dyn = compileF64Dynamics(m.dynamics, m.values);
  assert.ok(E.isRight(dyn));
  const fwd = integrate(f64Space, dyn.right.f, { data: z0.data, batch: 2, dim: 2 }, { method: bosh3, ts, stepTs: ts, saveSteps: true, rtol: 1e-4, atol: 1e-6 });
  assert.ok(E.isRight(fwd) && fwd.right.steps !== undefined);
  const grid = fwd.right.steps.ts;
  assert.ok(grid.length > 6, `a non-trivial step sequence (${grid.length} steps)`);
  for (const checkpointEvery of [1, 4]) {
    const bp = compileBackpropGradient(m, { solver, checkpointEvery });
    assert.ok(E.isRight(bp));
    const r = bp.right(m.values, z0, ts, target);
    assert.ok(E.isRight(r));
    close(r.right.loss, replayLoss(m, m.values, z0, grid, ts, target), 1e-13, 0, 'loss');
    const h = 1e-5;
    for (const p of m.params) {
      for (let i = 0; i < Math.min(3, p.shape.reduce((a, b) => a * b, 1)); i++) {
        const fd = (replayLoss(m, perturb(m.values, p.name, i, h), z0, grid, ts, target) - replayLoss(m, perturb(m.values, p.name, i, -h), z0, grid, ts, target)) / (2 * h);
        close(r.right.dparams[p.name]!.data[i]!, fd, 1e-8, 1e-11, `∂L/∂${p.name}[${i}] (checkpoint every ${checkpointEvery})`);
      }
    }
  }
});

test('the seminorm reduces backward work on the spiral without changing the gradient beyond tolerance', async () => {
  const { spiralModel } = await import('../../src/models/spiral.ts');
  const m = spiralModel();
  const z0 = normalT([8, 2], 5, 0.8);
  const ts = Array.from({ length: 10 }, (_, i) => 0.025 * i);
  const target = normalT([10, 8, 2], 6, 0.8);
  const solver = { method: dopri5, rtol: 1e-7, atol: 1e-9 };
  const full = compileAdjointGradient(m, { forward: solver, seminorm: false });
  const semi = compileAdjointGradient(m, { forward: solver, seminorm: true });
  assert.ok(E.isRight(full) && E.isRight(semi));
  const a = full.right(m.values, z0, ts, target), b = semi.right(m.values, z0, ts, target);
  assert.ok(E.isRight(a) && E.isRight(b));
  assert.ok(b.right.stats.nfeBackward <= a.right.stats.nfeBackward, `${b.right.stats.nfeBackward} vs ${a.right.stats.nfeBackward}`);
  assert.ok(a.right.stats.nfeForward > 0 && a.right.stats.nfeBackward > 0);
  for (const p of m.params) a.right.dparams[p.name]!.data.forEach((v, i) => close(v, b.right.dparams[p.name]!.data[i]!, 1e-4, 1e-8, p.name));
});
