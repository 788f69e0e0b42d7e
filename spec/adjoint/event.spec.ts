/** Gradients through a terminating event time: a falling ball's drop time and impact speed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { sym } from '../../src/dsl/shape.ts';
import { dynamics } from '../../src/dsl/model.ts';
import { param } from '../../src/dsl/params.ts';
import { compileEventGradient } from '../../src/adjoint/eventGradient.ts';
import { dopri5 } from '../../src/solvers/index.ts';

const B = sym('batch');
const z = X.state('z', [B, 2]);                 // [height, velocity]
const g = param('g', [1], { kind: 'constant', value: 9.81 });
const height = X.slice(z, [0, 0], [B, 1]), velocity = X.slice(z, [0, 1], [B, 1]);
const f = X.withShape(X.concat([velocity, X.broadcastBinary('mul', -1, X.broadcastTo(g.expr, [B, 1]))], 1), [B, 2]);
const ball = dynamics({ state: z, time: X.time('t'), params: [g], f });
const event = X.reshape(height, [B]).node;
const zEvent = X.variable('zs', 'input', [1, 2]);
const tEvent = X.variable('ts', 'input', [1]);
const solver = { method: dopri5, rtol: 1e-11, atol: 1e-13 };
const values = { g: { shape: [1], data: Float64Array.of(9.81) } };
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-7 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('drop time t* = √(2h/g): value and gradients w.r.t. the initial height and g match the closed form', () => {
  const gr = compileEventGradient({ dynamics: ball, event, direction: 'falling', loss: { value: X.sum(tEvent).node, zEvent: zEvent.node as never, tEvent: tEvent.node as never } }, solver);
  assert.ok(E.isRight(gr));
  const hs = [1, 2.5];
  const r = gr.right(values, { shape: [2, 2], data: Float64Array.from([hs[0]!, 0, hs[1]!, 0]) }, 0, 10);
  assert.ok(E.isRight(r), E.isLeft(r) ? JSON.stringify(r.left) : '');
  hs.forEach((h, b) => {
    const ts = Math.sqrt((2 * h) / 9.81);
    close(r.right.tEvent[b]!, ts, 't*');
    close(r.right.dz0.data[2 * b]!, 1 / Math.sqrt(2 * h * 9.81), 'dt*/dh₀');
    close(r.right.dz0.data[2 * b + 1]!, dV0(h), 'dt*/dv₀');
  });
  close(r.right.loss, hs.reduce((s, h) => s + Math.sqrt((2 * h) / 9.81), 0), 'loss');
  close(r.right.dparams.g!.data[0]!, hs.reduce((s, h) => s - Math.sqrt((2 * h) / 9.81) / (2 * 9.81), 0), 'dt*/dg summed over rows');
});

// With v₀ = 0, t* solves h + v₀ t − g t²/2 = 0, so the derivative of t* in v₀ is t*/(g t* − v₀) = 1/g.
const dV0 = (_h: number): number => 1 / 9.81;

test('impact velocity v* = −√(2gh): gradients of a loss on the event state', () => {
  const vStar = X.sum(X.slice(zEvent, [0, 1], [1, 1]));
  const gr = compileEventGradient({ dynamics: ball, event, direction: 'falling', loss: { value: vStar.node, zEvent: zEvent.node as never, tEvent: tEvent.node as never } }, solver);
  assert.ok(E.isRight(gr));
  const h = 1.7;
  const r = gr.right(values, { shape: [1, 2], data: Float64Array.from([h, 0]) }, 0, 10);
  assert.ok(E.isRight(r));
  close(r.right.loss, -Math.sqrt(2 * 9.81 * h), 'v*');
  close(r.right.dz0.data[0]!, -Math.sqrt(9.81 / (2 * h)), 'dv*/dh₀');
  close(r.right.dparams.g!.data[0]!, -Math.sqrt(h / (2 * 9.81)), 'dv*/dg');
  assert.ok(r.right.stats.nfeForward > 0 && r.right.stats.nfeBackward > 0);
});

test('no event before the end of the span is an error that says so', () => {
  const gr = compileEventGradient({ dynamics: ball, event, direction: 'falling', loss: { value: X.sum(tEvent).node, zEvent: zEvent.node as never, tEvent: tEvent.node as never } }, solver);
  assert.ok(E.isRight(gr));
  const r = gr.right(values, { shape: [1, 2], data: Float64Array.from([100, 0]) }, 0, 1);
  assert.ok(E.isLeft(r) && r.left._tag === 'Model' && /no event before t = 1/.test(r.left.message));
});
