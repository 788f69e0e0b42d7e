/**
 * The spiral's gradients on TensorFlow.js (float32, cpu backend): the tfjs adjoint, the tfjs
 * backprop and tfjs's own autodiff through the tfjs solver agree with the float64 adjoint within
 * float32 tolerance, and leave no tensor behind. Plus the work statistics on the spiral: the
 * seminorm cuts backward evaluations at rtol 1e-7 without moving the gradient beyond tolerance.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { mse } from '../../src/dsl/losses.ts';
import { loss } from '../../src/dsl/model.ts';
import { batch, obs, spiralModel } from '../../src/models/spiral.ts';
import { gradient, type GradientConfig, type GradientProblem, type GradientResult } from '../../src/adjoint/gradients/index.ts';
import { draw, nextNormal, seedRng } from '../../src/random/prng.ts';
import { dopri5 } from '../../src/solvers/index.ts';

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const right = <T>(r: E.Either<unknown, T>): T => {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`);
  return r.right;
};

/** The spiral with a smooth loss (mse) at T observation times on [0, span]. */
const spiralProblem = (B: number, T: number, span: number, rtol: number): GradientProblem => {
  const m = spiralModel();
  const yhat = X.input('yhat', [obs, batch, 2]), ytrue = X.input('ytrue', [obs, batch, 2]);
  return {
    dynamics: m.dynamics, loss: loss({ prediction: yhat, value: mse(yhat, ytrue) }), params: m.values,
    z0: { shape: [B, 2], data: draw(nextNormal, seedRng(3, 'z0'), B * 2)[0].map((v) => 0.8 * v) },
    ts: Array.from({ length: T }, (_, i) => (span * i) / (T - 1)),
    lossInputs: { ytrue: { shape: [T, B, 2], data: draw(nextNormal, seedRng(3, 'y'), T * B * 2)[0].map((v) => 0.5 * v) } },
    solver: { method: dopri5, rtol, atol: rtol * 1e-2 },
  };
};

/** Every gradient entry within float32 tolerance of the reference, relative to its largest entry. */
const agrees = (got: GradientResult, want: GradientResult, what: string): void => {
  const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [
    ['dz0', got.dz0.data, want.dz0.data], ['dts', got.dts, want.dts],
    ...Object.keys(want.dparams).map((k): [string, ArrayLike<number>, ArrayLike<number>] => [k, got.dparams[k]?.data ?? [], want.dparams[k]?.data ?? []]),
  ];
  assert.ok(Math.abs(got.loss - want.loss) <= 1e-4 * Math.abs(want.loss), `${what} loss ${got.loss} vs ${want.loss}`);
  for (const [name, a, b] of pairs) {
    assert.equal(a.length, b.length, `${what} ${name} length`);
    const scale = Math.max(...Array.from(b, Math.abs));
    for (let i = 0; i < b.length; i++) {
      const x = a[i] as number, y = b[i] as number;
      assert.ok(Math.abs(x - y) <= 2e-3 * scale + 1e-6, `${what} ${name}[${i}]: ${x} vs ${y} (scale ${scale})`);
    }
  }
};

test('tfjs adjoint, tfjs backprop and tfjs autodiff agree with the float64 adjoint on the spiral (float32 tolerance)', () => {
  const p = spiralProblem(4, 4, 1.5, 1e-5);
  const reference = right(gradient({ ...p, solver: { method: dopri5, rtol: 1e-9, atol: 1e-11 } }, { method: 'adjoint' }));
  const configs: readonly GradientConfig[] = [
    { method: 'adjoint', on: { backend: 'tfjs' } },
    { method: 'adjoint', seminorm: true, on: { backend: 'tfjs' } },
    { method: 'backprop', on: { backend: 'tfjs' } },
    { method: 'backprop', checkpointEvery: 3, on: { backend: 'tfjs' } },
    { method: 'tfjs-autodiff' },
  ];
  for (const cfg of configs) {
    const before = tf.memory().numTensors;
    const r = right(gradient(p, cfg));
    assert.equal(tf.memory().numTensors, before, `${JSON.stringify(cfg)} leaves no tensor behind`);
    agrees(r, reference, JSON.stringify(cfg));
    assert.ok(r.stats.nfeForward > 0 && r.stats.nfeBackward > 0 && r.stats.acceptedBackward > 0, JSON.stringify(r.stats));
  }
});

test('a failed tfjs solve is a SolveFailed value that keeps the SolveError, and frees its tensors', () => {
  const p = spiralProblem(2, 3, 1, 1e-5);
  for (const cfg of [{ method: 'tfjs-autodiff' }, { method: 'backprop', on: { backend: 'tfjs' } }] as const) {
    const before = tf.memory().numTensors;
    const r = gradient({ ...p, solver: { method: dopri5, rtol: 1e-5, atol: 1e-7, maxSteps: 1 } }, cfg);
    assert.ok(E.isLeft(r) && r.left._tag === 'SolveFailed' && r.left.error._tag === 'MaxStepsReached', JSON.stringify(E.isLeft(r) ? r.left : 'right'));
    assert.equal(tf.memory().numTensors, before);
  }
});

test('statistics on the spiral: the seminorm cuts backward evaluations at rtol 1e-7; counts are plausible', () => {
  const p = spiralProblem(20, 5, 5, 1e-7);
  const full = right(gradient(p, { method: 'adjoint' }));
  const semi = right(gradient(p, { method: 'adjoint', seminorm: true }));
  const bp = right(gradient(p, { method: 'backprop' }));
  assert.ok(semi.stats.nfeBackward < full.stats.nfeBackward, `seminorm ${semi.stats.nfeBackward} < full ${full.stats.nfeBackward}`);
  assert.equal(semi.stats.nfeForward, full.stats.nfeForward);
  for (const r of [full, semi, bp]) {
    const s = r.stats;
    assert.ok(s.nfeForward >= 6 * s.acceptedForward && s.nfeBackward > 0 && s.acceptedBackward > 0, JSON.stringify(s));
  }
  // Backprop reverses exactly its accepted steps: one recomputation and at most one VJP per needed stage.
  assert.equal(bp.stats.acceptedBackward, bp.stats.acceptedForward);
  assert.ok(bp.stats.nfeBackward <= 12 * bp.stats.acceptedBackward);
  for (const k of Object.keys(full.dparams)) {
    const a = full.dparams[k]?.data ?? [], b = semi.dparams[k]?.data ?? [];
    const scale = Math.max(...Array.from(a, Math.abs));
    a.forEach((v, i) => assert.ok(Math.abs(v - (b[i] as number)) <= 1e-5 * scale, `${k}[${i}]`));
  }
});
