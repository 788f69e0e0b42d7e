/**
 * The adjoint system: its right-hand sides against finite differences of aᵀf, its state layout,
 * sharing with the forward pass, and the cost of deriving it (linear in depth).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { concatSquash } from '../../src/dsl/layers.ts';
import { dynamics, type Dynamics } from '../../src/dsl/model.ts';
import type { Node } from '../../src/dsl/node.ts';
import { param } from '../../src/dsl/params.ts';
import type { Shape } from '../../src/dsl/shape.ts';
import { adjointSystem, augmentedLayout, augmentedRoots, makeAdjointSystem } from '../../src/adjoint/system.ts';
import { compileF64, type F64Env } from '../../src/interp/evalF64.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { dagSize, topoOrder } from '../../src/interp/traverse.ts';
import { closeTo, fdGradient, rng, run, type Rng } from './fd.ts';
import { Bt, mlpDynamics, spiral } from './models.ts';


/** Random values for the state, the adjoint, the time and every parameter. */
const envFor = (dyn: Dynamics, r: Rng, batch: number): Record<string, F64Tensor> => {
  const res = (s: Shape) => s.map((d) => (typeof d === 'number' ? d : batch));
  const env: Record<string, F64Tensor> = {
    [(dyn.state.node as { name: string }).name]: r.tensor(res(dyn.state.shape)),
    t: { shape: [], data: Float64Array.of(r.uniform(0, 1)) },
  };
  for (const p of dyn.params) env[p.name] = r.tensor(res(p.shape), () => r.normal() * 0.5);
  return env;
};

/** Checks every right-hand side of the adjoint system of `dyn` against finite differences of aᵀf. */
const checkSystem = (dyn: Dynamics, seed: number): void => {
  const sys = adjointSystem(dyn);
  const r = rng(seed);
  const batch = 3;
  const env: F64Env = { ...envFor(dyn, r, batch), [sys.a.name]: r.tensor(sys.z.shape.map((d) => (typeof d === 'number' ? d : batch))) };
  const slots = augmentedLayout(sys);
  const values = run(augmentedRoots(sys), env);
  const f = compileF64([dyn.f.node]);
  const aTf = (e: F64Env): number => {
    const v = f(e);
    if (E.isLeft(v)) throw new Error(v.left._tag);
    const a = (env[sys.a.name] as F64Tensor).data;
    return (v.right[0] as F64Tensor).data.reduce((s, x, i) => s + x * (a[i] as number), 0);
  };
  const fz = run([dyn.f.node], env)[0] as F64Tensor;
  closeTo((values[0] as F64Tensor).data, fz.data, 0, 0, 'dz/dt = f');
  const wrtName = (i: number): string => {
    const s = slots[i];
    if (s === undefined) throw new Error('slot');
    switch (s.part) {
      case 'state': return '';
      case 'adjoint': return sys.z.name;
      case 'param': return sys.paramAdjoints.find((p) => p.adjointVar === s.variable)?.param.name ?? '';
      case 'time': return sys.t.name;
    }
  };
  for (let i = 1; i < slots.length; i++) {
    const fd = fdGradient(aTf, env, wrtName(i)).map((x) => -x);
    closeTo((values[i] as F64Tensor).data, fd, 1e-6, 1e-8, `d${slots[i]?.name}/dt`);
  }
};

test('the adjoint system of the spiral dynamics matches finite differences of aᵀf', () => {
  checkSystem(spiral(), 11);
});

test('the adjoint system of time-dependent dynamics (concat-squash) has the time adjoint', () => {
  const z = X.state('z', [Bt, 2]);
  const t = X.time('t');
  const l1 = concatSquash('cs1', 2, 8);
  const l2 = concatSquash('cs2', 8, 2);
  const f = l2.apply(X.softplus(l1.apply(z, t)), t);
  const dyn = dynamics({ state: z, time: t, params: [...l1.params, ...l2.params], f });
  checkSystem(dyn, 12);
  const sys = adjointSystem(dyn);
  assert.notEqual(sys.timeAdjoint.rhs.kind, 'const');
});

test('layout: z, a, each parameter adjoint, then the time adjoint', () => {
  const sys = adjointSystem(spiral());
  const slots = augmentedLayout(sys);
  assert.deepEqual(slots.map((s) => s.name), ['y', 'a_y', 'gW1', 'gb1', 'gW2', 'gb2', 'g_t']);
  assert.deepEqual(slots.map((s) => s.part), ['state', 'adjoint', 'param', 'param', 'param', 'param', 'time']);
  assert.deepEqual(slots.map((s) => s.shape), [['batch', 2], ['batch', 2], [2, 50], [50], [50, 2], [2], []]);
  slots.forEach((s) => assert.deepEqual(s.rhs.shape, s.shape, s.name));
  assert.ok(slots.every((s) => s.variable.role === 'state'));
  assert.deepEqual(augmentedRoots(sys), slots.map((s) => s.rhs));
  // The spiral does not depend on t: its time adjoint is an explicit scalar zero.
  assert.equal(sys.timeAdjoint.rhs.kind, 'const');
});

test('new variables never collide with existing names', () => {
  const y = X.state('y', [2]);
  const W = param('a_y', [2, 2], { kind: 'zeros' });
  const g = param('gW', [2], { kind: 'zeros' });
  const gW = param('W', [2], { kind: 'zeros' });
  const f = X.add(X.add(X.tanh(X.matmul(X.reshape(y, [1, 2]), W.expr)), g.expr), gW.expr);
  const dyn = dynamics({ state: y, params: [W, g, gW], f: X.reshape(f, [2]) });
  const names = augmentedLayout(adjointSystem(dyn)).map((s) => s.name);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual(names, ['y', 'a_y_', 'ga_y', 'ggW', 'gW_', 'g_t']);
  assert.ok(E.isRight(makeAdjointSystem(dyn)));
});

test('the adjoint shares the forward activations: tanh(h) is one node in the compiled roots', () => {
  const dyn = spiral();
  const sys = adjointSystem(dyn);
  const order = topoOrder(augmentedRoots(sys));
  const tanhs = order.filter((n) => n.kind === 'unary' && n.op === 'tanh');
  assert.equal(tanhs.length, 1);
  assert.ok(topoOrder([sys.rhs.a]).includes(tanhs[0] as Node));
  // Everything together is smaller than f and the VJPs apart.
  const apart = augmentedRoots(sys).reduce((s, n) => s + dagSize([n]), 0);
  assert.ok(dagSize(augmentedRoots(sys)) < apart);
});

test('deriving the adjoint system of an MLP costs nodes linear in depth', () => {
  const counts = Array.from({ length: 8 }, (_, i) => dagSize(augmentedRoots(adjointSystem(mlpDynamics(i + 1)))));
  const forward = Array.from({ length: 8 }, (_, i) => dagSize([mlpDynamics(i + 1).f.node]));
  const diffs = counts.slice(1).map((c, i) => c - (counts[i] as number));
  console.log(`adjoint system node counts, depth 1..8: ${counts.join(', ')} (forward: ${forward.join(', ')})`);
  assert.ok(diffs.every((d) => d === diffs[0]), `per-layer increments ${diffs.join(', ')}`);
  // Per layer: 5 forward nodes (W, b, matmul, add, tanh) and at most 8 adjoint nodes
  // (Wᵀ, g Wᵀ, y², 1 − y², the product, hᵀ, hᵀ g, Σ_batch g).
  const fwd = (forward[1] as number) - (forward[0] as number);
  assert.equal(fwd, 5);
  assert.ok((diffs[0] as number) - fwd <= 8, `${(diffs[0] as number) - fwd} adjoint nodes per layer`);
});

test('the adjoint system of an MLP matches finite differences', () => {
  checkSystem(mlpDynamics(3), 13);
});
