/**
 * The recognition network: its size for the paper's observation counts, its values against a
 * hand-written backward GRU on real spiral batches, its gradients against finite differences,
 * and the reparameterised draw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import type { NodeOf } from '../../src/dsl/node.ts';
import { initParams } from '../../src/dsl/params.ts';
import { kernelEvaluator } from '../../src/interp/evaluator.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { dagSize, freeVars } from '../../src/interp/traverse.ts';
import { seedRng } from '../../src/random/prng.ts';
import { batch, encoder, encoderEnv, sampleZ0 } from '../../src/latent/encoder.ts';
import { observationsOf, spirals } from '../../src/latent/spirals.ts';
import { checkVjp, rng, run } from '../adjoint/fd.ts';
import { assertClose, at, gruParams, gruStepRef, hcat, linearRef, mat, type Mat } from './reference.ts';

const data = (t: F64Tensor | undefined): Float64Array => (t as F64Tensor).data;

test('size: 12 + 23·K nodes for K observations (K = 30 / 50 / 100: 702 / 1162 / 2312)', () => {
  const sizes = [30, 50, 100].map((K) => {
    const e = encoder({ steps: K, latentDim: 4 });
    return dagSize([e.mu.node, e.logvar.node]);
  });
  assert.deepEqual(sizes, [702, 1162, 2312]);
  const e = encoder({ steps: 30, latentDim: 4 });
  assert.deepEqual(e.mu.shape, [batch, 4]);
  assert.deepEqual(e.logvar.shape, [batch, 4]);
  assert.equal(freeVars([e.mu.node]).filter((v) => v.role === 'input').length, 60);
  assert.deepEqual(e.params.map((p) => p.name), ['enc_gru_Wi', 'enc_gru_Wh', 'enc_gru_bi', 'enc_gru_bh', 'enc_out_W', 'enc_out_b']);
  assert.deepEqual(e.params.map((p) => p.shape), [[3, 75], [25, 75], [75], [75], [25, 8], [8]]);
});

/** The encoder by hand: h = 0; for k = K…1: h = GRU(h, [x_k, t_k − t_{k−1}]); [μ | log σ²] = h W + b. */
const encodeRef = (params: Readonly<Record<string, F64Tensor>>, times: Float64Array, values: Float64Array, B: number, K: number, H: number): Mat => {
  const p = gruParams(params, 'enc_gru');
  let h: Mat = { rows: B, cols: H, data: new Float64Array(B * H) };
  for (let k = K - 1; k >= 0; k--) {
    const x: Mat = { rows: B, cols: 2, data: Float64Array.from({ length: 2 * B }, (_, i) => values[(Math.floor(i / 2) * K + k) * 2 + (i % 2)] as number) };
    const dt: Mat = { rows: B, cols: 1, data: Float64Array.from({ length: B }, (_, b) => (times[b * K + k] as number) - (k === 0 ? 0 : (times[b * K + k - 1] as number))) };
    h = gruStepRef(p, h, hcat(x, dt));
  }
  return linearRef(h, mat(params['enc_out_W'] as F64Tensor), data(params['enc_out_b']));
};

test('values: μ and log σ² equal a hand-written backward GRU on a batch of spirals (K = 30)', () => {
  const [d] = spirals({ count: 12, observed: 30, testCount: 2 }, seedRng(4));
  const rows = [0, 3, 7, 9];
  const obs = observationsOf(d.train, rows);
  const enc = encoder({ steps: 30, latentDim: 4 });
  const params = initParams(enc.params, 1);
  const env = { ...params, ...encoderEnv(enc, obs) };
  const [mu, logvar] = run([enc.mu.node, enc.logvar.node], env);
  const want = encodeRef(params, obs.times, obs.values, 4, 30, 25);
  const wantMu = Float64Array.from({ length: 16 }, (_, i) => at(want, Math.floor(i / 4), i % 4));
  const wantLv = Float64Array.from({ length: 16 }, (_, i) => at(want, Math.floor(i / 4), 4 + (i % 4)));
  assertClose(data(mu), wantMu, 1e-12, 'mu');
  assertClose(data(logvar), wantLv, 1e-12, 'logvar');
  const k = kernelEvaluator([enc.mu.node, enc.logvar.node])(env);
  assert.ok(E.isRight(k));
  assertClose(data(k.right[0]), data(mu), 1e-13, 'kernel mu');
  // The first gap reaches back to t₀ = 0; changing t₀ changes q(z₀).
  assert.equal(data(env['enc_dt1'])[0], obs.times[0]);
  const [shifted] = run([enc.mu.node], { ...params, ...encoderEnv(enc, obs, -0.5) });
  assert.ok(Math.abs((data(shifted)[0] as number) - (data(mu)[0] as number)) > 1e-6);
});

test('gradients: the VJP of μ, log σ² w.r.t. every parameter and input equals finite differences (K = 3)', () => {
  const enc = encoder({ steps: 3, latentDim: 2, hiddenDim: 3 });
  const r = rng(21, 'encoder');
  const params = Object.fromEntries(enc.params.map((p) => [p.name, r.tensor(p.shape, () => r.uniform(-1, 1))]));
  const inputs = Object.fromEntries([...enc.xs, ...enc.dts].map((v) => [(v.node as NodeOf<'var'>).name, r.tensor([2, v.shape[1]], () => r.uniform(-1, 1))]));
  const wrt = [...enc.params.map((p) => p.expr.node), ...enc.xs.map((v) => v.node), ...enc.dts.map((v) => v.node)] as NodeOf<'var'>[];
  const { mismatches, checked } = checkVjp({ outputs: [enc.mu.node, enc.logvar.node], wrt, env: { ...params, ...inputs }, rng: r });
  assert.deepEqual(mismatches, []);
  assert.ok(checked > 100);
});

test('sampleZ0: μ + exp(½ log σ²)·ε, and its gradient through the encoder matches finite differences', () => {
  const mu = X.input('mu', [batch, 3]), lv = X.input('lv', [batch, 3]), eps = X.noise('eps', [batch, 3]);
  const z = sampleZ0(mu, lv, eps);
  const r = rng(3, 'z0');
  const env = { mu: r.tensor([2, 3]), lv: r.tensor([2, 3]), eps: r.tensor([2, 3]) };
  const [got] = run([z.node], env);
  const want = data(env.mu).map((m, i) => m + Math.exp(0.5 * (data(env.lv)[i] as number)) * (data(env.eps)[i] as number));
  assertClose(data(got), want, 1e-15, 'z0');
  assert.equal((eps.node as NodeOf<'var'>).role, 'noise');
  const enc = encoder({ steps: 2, latentDim: 2, hiddenDim: 3 });
  const eps2 = X.noise('eps2', [batch, 2]);
  const z0 = sampleZ0(enc.mu, enc.logvar, eps2);
  const params = Object.fromEntries(enc.params.map((p) => [p.name, r.tensor(p.shape, () => r.uniform(-1, 1))]));
  const inputs = Object.fromEntries([...enc.xs, ...enc.dts].map((v) => [(v.node as NodeOf<'var'>).name, r.tensor([3, v.shape[1]])]));
  const wrt = enc.params.map((p) => p.expr.node) as NodeOf<'var'>[];
  const res = checkVjp({ outputs: [z0.node], wrt, env: { ...params, ...inputs, eps2: r.tensor([3, 2]) }, rng: r, sizes: new Map([['batch', 3]]) });
  assert.deepEqual(res.mismatches, []);
});

test('encoderEnv rejects observations of another count', () => {
  const [d] = spirals({ count: 4, observed: 5, testCount: 0 }, seedRng(0));
  assert.throws(() => encoderEnv(encoder({ steps: 6, latentDim: 2 }), observationsOf(d.train, [0])), /built for 6 observations/);
  assert.throws(() => encoder({ steps: 0, latentDim: 2 }), RangeError);
});
