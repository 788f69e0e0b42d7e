/**
 * Gradients through a terminating event time (`gradients/event.ts`) against the closed forms of
 * a falling ball: height h, velocity v, gravity γ and a floor φ, both parameters, so the event
 * g = h − φ depends on θ as well as on z. From h₀, v₀ at t₀, with Δ = h₀ − φ and
 * S = √(v₀² + 2γΔ): t* = t₀ + (v₀ + S)/γ and v* = −S (the drop time √(2h/γ) when v₀ = φ = 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { dynamics } from '../../src/dsl/model.ts';
import type { Node, NodeOf } from '../../src/dsl/node.ts';
import { param } from '../../src/dsl/params.ts';
import { sym } from '../../src/dsl/shape.ts';
import { eventGradient, type EventProblem } from '../../src/adjoint/gradients/event.ts';
import { dopri5 } from '../../src/solvers/index.ts';
import { near } from './gradients-fixtures.ts';

const B = sym('batch');
const z = X.state('z', [B, 2]);
const gamma = param('gamma', [1], { kind: 'constant', value: 9.81 });
const floor = param('floor', [1], { kind: 'constant', value: 0 });
const height = X.slice(z, [0, 0], [B, 1]), velocity = X.slice(z, [0, 1], [B, 1]);
const f = X.withShape(X.concat([velocity, X.mul(X.broadcastTo(gamma.expr, [B, 1]), -1)], 1), [B, 2]);
const ball = dynamics({ state: z, time: X.time('t'), params: [gamma, floor], f });
const event = X.reshape(X.broadcastBinary('sub', height, floor.expr), [B]).node;
const tE = X.input('tE', [B]), zE = X.input('zE', [B, 2]);
const asVar = (n: Node): NodeOf<'var'> => {
  if (n.kind !== 'var') throw new Error('a variable');
  return n;
};
const scale = param('k', [1], { kind: 'constant', value: 1 });

const closed = (h0: number, v0: number, g: number, phi: number) => {
  const D = h0 - phi, S = Math.sqrt(v0 * v0 + 2 * g * D);
  return {
    t: (v0 + S) / g, v: -S,
    dt: { h0: 1 / S, v0: (1 + v0 / S) / g, g: -(v0 + S) / (g * g) + D / (S * g), phi: -1 / S, t0: 1 },
    dv: { h0: -g / S, v0: -v0 / S, g: -D / S, phi: g / S, t0: 0 },
  };
};

const problem = (value: X.Expr<readonly []>, g: number, phi: number, rows: readonly (readonly [number, number])[], t0: number): EventProblem => ({
  dynamics: ball, event, direction: 'falling',
  loss: { value: value.node, tEvent: asVar(tE.node), zEvent: asVar(zE.node), params: [scale] },
  params: { gamma: { shape: [1], data: Float64Array.of(g) }, floor: { shape: [1], data: Float64Array.of(phi) }, k: { shape: [1], data: Float64Array.of(1.5) } },
  z0: { shape: [rows.length, 2], data: Float64Array.from(rows.flat()) },
  t0, tMax: t0 + 20, solver: { method: dopri5, rtol: 1e-10, atol: 1e-12 },
});

const right = <T>(r: E.Either<unknown, T>): T => {
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  return r.right;
};

test('drop time: t* and ∂t*/∂(h₀, v₀, γ, φ, t₀) match the closed form (the event reads a parameter)', () => {
  const rows = [[1, 0], [2.5, 1.2]] as const;
  const [g, phi, t0] = [9.81, 0.3, 0.2];
  const r = right(eventGradient(problem(X.mul(X.sum(tE), X.sum(scale.expr)), g, phi, rows, t0)));
  const k = 1.5;
  let sumT = 0, dg = 0, dphi = 0;
  rows.forEach(([h0, v0], b) => {
    const c = closed(h0, v0, g, phi);
    near(r.tEvent[b] as number, t0 + c.t, 1e-9, 0, `t* row ${b}`);
    near(r.dz0.data[2 * b] as number, k * c.dt.h0, 1e-7, 1e-10, `∂t*/∂h₀ row ${b}`);
    near(r.dz0.data[2 * b + 1] as number, k * c.dt.v0, 1e-7, 1e-10, `∂t*/∂v₀ row ${b}`);
    sumT += t0 + c.t;
    dg += k * c.dt.g;
    dphi += k * c.dt.phi;
  });
  near(r.loss, k * sumT, 1e-9, 0, 'loss');
  near(r.dparams.gamma?.data[0] as number, dg, 1e-7, 1e-10, '∂L/∂γ');
  near(r.dparams.floor?.data[0] as number, dphi, 1e-7, 1e-10, '∂L/∂φ (through ∂g/∂θ)');
  near(r.dparams.k?.data[0] as number, sumT, 1e-9, 0, '∂L/∂k (a loss parameter)');
  near(r.dt0, k * rows.length, 1e-7, 1e-10, '∂L/∂t₀');
  assert.ok(r.stats.nfeForward > 0 && r.stats.nfeBackward > 0 && r.stats.acceptedBackward > 0);
});

test('impact velocity: a loss on the event state, v* = −√(v₀² + 2γΔ)', () => {
  const rows = [[1.7, 0], [0.9, -0.5]] as const;
  const [g, phi] = [9.81, -0.2];
  const vStar = X.sum(X.slice(zE, [0, 1], [B, 1]));
  const r = right(eventGradient(problem(vStar, g, phi, rows, 0)));
  near(r.loss, rows.reduce((acc, [h0, v0]) => acc + closed(h0, v0, g, phi).v, 0), 1e-9, 0, 'v*');
  rows.forEach(([h0, v0], b) => {
    const c = closed(h0, v0, g, phi);
    near(r.dz0.data[2 * b] as number, c.dv.h0, 1e-7, 1e-10, `∂v*/∂h₀ row ${b}`);
    near(r.dz0.data[2 * b + 1] as number, c.dv.v0, 1e-7, 1e-10, `∂v*/∂v₀ row ${b}`);
  });
  near(r.dparams.gamma?.data[0] as number, rows.reduce((acc, [h0, v0]) => acc + closed(h0, v0, g, phi).dv.g, 0), 1e-7, 1e-10, '∂v*/∂γ');
  near(r.dparams.floor?.data[0] as number, rows.reduce((acc, [h0, v0]) => acc + closed(h0, v0, g, phi).dv.phi, 0), 1e-7, 1e-10, '∂v*/∂φ');
  near(r.dt0, 0, 0, 1e-9, '∂v*/∂t₀');
});

test('no event before tMax, and an event function of the wrong shape, are InvalidProblem values', () => {
  const p = problem(X.sum(tE), 9.81, 0, [[100, 0]], 0);
  const late = eventGradient({ ...p, tMax: 1 });
  assert.ok(E.isLeft(late) && late.left._tag === 'InvalidProblem' && /no event before t = 1/.test(late.left.message));
  const shape = eventGradient({ ...p, event: X.sum(height).node });
  assert.ok(E.isLeft(shape) && shape.left._tag === 'InvalidProblem');
});
