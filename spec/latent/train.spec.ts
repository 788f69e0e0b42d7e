/**
 * Training of the latent ODE and of the RNN baseline: the composed gradient of the negative ELBO
 * (encoder VJP ∘ reparameterisation ∘ adjoint ODE gradient, plus the KL) against central finite
 * differences of the whole loss, short seeded runs lowering their losses (deterministically), and
 * the evaluation's RMSE on hand-made values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import type { ParamValues } from '../../src/dsl/params.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { seedRng } from '../../src/random/prng.ts';
import { dopri5 } from '../../src/solvers/index.ts';
import { lastValueBaselineRmse, meanBaselineRmse, rmse, scoreLatent, scoreRnn, spread, trajectoryRmses } from '../../src/latent/evaluate.ts';
import { initLatentParams, latentOde, latentStep, prepareLatentGradient, type LatentOde } from '../../src/latent/latentModel.ts';
import { initRnnParams, rnnStep, rnnTrainable } from '../../src/latent/rnnModel.ts';
import { spirals, type SpiralSet } from '../../src/latent/spirals.ts';
import { trainLatent, trainRnn } from '../../src/latent/train.ts';
import fc from 'fast-check';
import { rng } from '../adjoint/fd.ts';
import { assertProperty } from '../support/property.ts';

const right = <T>(r: E.Either<string, T>): T => {
  if (E.isLeft(r)) throw new Error(r.left);
  return r.right;
};

const tiny = (): { m: LatentOde; set: SpiralSet } => {
  const [d] = spirals({ count: 5, testCount: 0, observed: 3, observeSteps: 8, extrapolateSteps: 2, dt: 0.1 }, seedRng(11));
  const m = latentOde({ steps: 3, observeSteps: 8, obsStd: 0.5, latentDim: 2, encoderHidden: 3, odeHidden: 3, decoderHidden: 3 });
  return { m, set: d.train };
};

test('the composed gradient of −ELBO equals central finite differences of the whole loss', () => {
  const { m, set } = tiny();
  const g = right(prepareLatentGradient(m));
  const r = rng(21, 'latent-chain');
  // Larger-than-default parameters, so every part contributes clearly.
  const params: ParamValues = Object.fromEntries(m.params.map((p) => [p.name, r.tensor(p.shape, () => r.uniform(-0.8, 0.8))]));
  const rows = [0, 3, 4];
  const eps = r.tensor([3, 2]).data;
  const solver = { method: dopri5, rtol: 1e-11, atol: 1e-12 };
  const at = (ps: ParamValues) => right(latentStep(m, g, ps, { set, rows, eps, solver }));
  const base = at(params);
  assert.ok(base.kl > 0);
  assert.ok(Math.abs(base.loss - (base.kl - base.logLik)) < 1e-12);
  const h = 1e-5;
  let checked = 0;
  const bad: string[] = [];
  for (const p of m.params) {
    const v = params[p.name] as F64Tensor;
    const sym = (base.grads[p.name] as F64Tensor).data;
    for (let i = 0; i < v.data.length; i++) {
      const shifted = (d: number): ParamValues => {
        const data = Float64Array.from(v.data);
        data[i] = (data[i] as number) + d;
        return { ...params, [p.name]: { shape: v.shape, data } };
      };
      const fd = (at(shifted(h)).loss - at(shifted(-h)).loss) / (2 * h);
      const s = sym[i] as number;
      if (Math.abs(s - fd) > 1e-5 * Math.max(1, Math.abs(fd))) bad.push(`${p.name}[${i}]: symbolic ${s}, fd ${fd}`);
      checked++;
    }
  }
  assert.deepEqual(bad, []);
  // Every encoder, dynamics and decoder parameter was compared.
  assert.equal(checked, m.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0));
  assert.ok(m.encoder.params.some((p) => (base.grads[p.name] as F64Tensor).data.some((x) => Math.abs(x) > 1e-3)), 'encoder gradients are not all ~0');
});

const small = () => {
  const [d] = spirals({ count: 48, testCount: 8, observed: 8, observeSteps: 30, extrapolateSteps: 10 }, seedRng(5));
  return d;
};
const solver = { method: dopri5, rtol: 1e-5, atol: 1e-6 };

test('a short seeded run lowers the negative ELBO (at the posterior mean, on all training spirals), deterministically', () => {
  const d = small();
  const m = latentOde({ steps: 8, observeSteps: 30, obsStd: 0.3, latentDim: 4, encoderHidden: 12, odeHidden: 12, decoderHidden: 12 });
  const g = right(prepareLatentGradient(m));
  const rows = Array.from({ length: d.train.theta0.length }, (_, i) => i);
  const negElbo = (ps: ParamValues): number => right(latentStep(m, g, ps, { set: d.train, rows, eps: new Float64Array(rows.length * 4), solver })).loss;
  const p0 = initLatentParams(m, 3);
  const opts = { iterations: 60, batchSize: 20, seed: 1, optimizer: { kind: 'adam', lr: 0.02 } } as const;
  const r = trainLatent(m, p0, d.train, opts, solver);
  assert.equal(r.error, undefined);
  assert.equal(r.logs.length, 60);
  assert.ok(r.logs.every((l) => Number.isFinite(l.loss) && l.nfeForward > 0 && l.nfeBackward > 0));
  const before = negElbo(p0), after = negElbo(r.params);
  assert.ok(after < 0.5 * before, `−ELBO ${before} → ${after}`);
  // Seeded: a second run of a few iterations is identical bit for bit to the first's prefix.
  const again = trainLatent(m, p0, d.train, { ...opts, iterations: 3 }, solver);
  assert.deepEqual(again.logs.map((l) => l.loss), r.logs.slice(0, 3).map((l) => l.loss));
  // The fitted reconstruction beats the untrained model's on held-out spirals.
  const test8 = Array.from({ length: 8 }, (_, i) => i);
  const s0 = right(scoreLatent(m, p0, d.test, test8, solver)), s1 = right(scoreLatent(m, r.params, d.test, test8, solver));
  assert.ok(s1.reconstruction < s0.reconstruction, `reconstruction RMSE ${s0.reconstruction} → ${s1.reconstruction}`);
  assert.deepEqual(s1.prediction.shape, [40, 8, 2]);
});

test("the RNN baseline's training lowers its one-step NLL; its extrapolation has the grid's shape", () => {
  const d = small();
  const opts = { steps: 8, obsStd: 0.3, hiddenDim: 10 };
  const rt = rnnTrainable(opts);
  const rows = Array.from({ length: d.train.theta0.length }, (_, i) => i);
  const nll = (ps: ParamValues): number => right(rnnStep(rt, ps, d.train, rows)).loss;
  const p0 = initRnnParams(rt, 2);
  const r = trainRnn(rt, p0, d.train, { iterations: 80, batchSize: 20, seed: 4, optimizer: { kind: 'adam', lr: 0.02 } });
  assert.equal(r.error, undefined);
  const before = nll(p0), after = nll(r.params);
  assert.ok(after < before - 0.5 * Math.abs(before), `NLL ${before} → ${after}`);
  const s = right(scoreRnn(opts, r.params, d.test, [0, 1, 2]));
  assert.deepEqual(s.prediction.shape, [10, 3, 2]);
  assert.ok(Number.isFinite(s.extrapolation) && Number.isNaN(s.reconstruction));
  assert.ok(r.logs.every((l) => l.gradNorm > 0 && l.nfeForward === 0));
  // Bad loop options come back as errors naming the option, with the parameters untouched.
  const bad = (o: Partial<Parameters<typeof trainRnn>[3]>) => trainRnn(rt, p0, d.train, { iterations: 2, batchSize: 4, seed: 0, ...o });
  assert.match(bad({ iterations: 1.5 }).error ?? '', /iterations/);
  assert.match(bad({ batchSize: 0 }).error ?? '', /batch size/);
  assert.match(bad({ schedule: { kind: 'step', every: 0, gamma: 0.5 } }).error ?? '', /every/);
  assert.equal(bad({ iterations: 1.5 }).params, p0);
});

test('rmse: hand-made values, time ranges and misuse; the constant baselines on a still and a moving trajectory', () => {
  const a = { shape: [2, 1, 2], data: Float64Array.of(0, 0, 3, 4) };
  const z = { shape: [2, 1, 2], data: new Float64Array(4) };
  assert.equal(rmse(a, z), Math.sqrt(25 / 4));
  assert.equal(rmse(a, z, 1), Math.sqrt(25 / 2));
  assert.equal(rmse(a, z, 0, 1), 0);
  assert.equal(rmse(a, a), 0);
  assert.throws(() => rmse(a, { shape: [1, 2, 2], data: new Float64Array(4) }), /one shape/);
  assert.throws(() => rmse(a, z, 1, 1), /empty/);
  assert.throws(() => rmse(a, z, 0, 3), /not within/);
  // Noise-free, not moving (dt so small the spiral barely turns): the observed mean predicts it.
  const [d] = spirals({ count: 3, testCount: 3, observed: 5, observeSteps: 10, extrapolateSteps: 5, noiseStd: 0, dt: 1e-9 }, seedRng(1));
  assert.ok(meanBaselineRmse(d.test, [0, 1, 2]) < 1e-7);
  assert.ok(lastValueBaselineRmse(d.test, [0, 1, 2]) < 1e-7);
  // Noise-free and moving: the last observed point is nearer the future than the mean of all of them
  // when the last observation is the region's last time (all observed), and both are wrong.
  const [m] = spirals({ count: 4, testCount: 4, observed: 10, observeSteps: 10, extrapolateSteps: 5, noiseStd: 0, dt: 0.05 }, seedRng(2));
  const last = lastValueBaselineRmse(m.test, [0, 1, 2, 3]), mean = meanBaselineRmse(m.test, [0, 1, 2, 3]);
  assert.ok(last > 0.01 && last < mean, `last value ${last}, mean ${mean}`);
});

test('trajectoryRmses and spread: hand-made values; the pooled RMSE is the root mean square of the per-trajectory ones', () => {
  const a = { shape: [1, 2, 2], data: Float64Array.of(0, 0, 3, 4) }, z = { shape: [1, 2, 2], data: new Float64Array(4) };
  const per = trajectoryRmses(a, z);
  assert.equal(per[0], 0);
  assert.ok(Math.abs((per[1] as number) - 5 / Math.SQRT2) < 1e-15);
  assert.deepEqual(spread(Float64Array.of(4, 100, 1, 3, 2)), { median: 3, p90: 100, max: 100 });
  assert.deepEqual(spread(Float64Array.of(7)), { median: 7, p90: 7, max: 7 });
  assert.throws(() => spread(new Float64Array(0)), RangeError);
  assert.throws(() => trajectoryRmses(a, z, 1, 1), /empty/);
  const r = rng(8, 'trajectory-rmse');
  assertProperty(fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1 }), (T, B, from) => {
    const p = r.tensor([T, B, 2]), q = r.tensor([T, B, 2]);
    const per = trajectoryRmses(p, q, from);
    const pooled = Math.sqrt(per.reduce((s, e) => s + e * e, 0) / B);
    assert.ok(Math.abs(pooled - rmse(p, q, from)) < 1e-12);
    const sp = spread(per);
    assert.ok(sp.median <= sp.p90 && sp.p90 <= sp.max && sp.max === Math.max(...per));
  }), { seed: 43, numRuns: 50 });
});
