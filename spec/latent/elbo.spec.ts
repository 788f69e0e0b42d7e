/**
 * The decoder and the ELBO: the value against a direct float64 computation, gradients w.r.t.
 * decoder parameters, μ, log σ² and the latent trajectory against finite differences, the mask,
 * and the pieces fitting together on real spiral batches and as a `Loss` of the model API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { makeLoss } from '../../src/dsl/model.ts';
import type { NodeOf } from '../../src/dsl/node.ts';
import { initParams } from '../../src/dsl/params.ts';
import { kernelEvaluator } from '../../src/interp/evaluator.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { seedRng } from '../../src/random/prng.ts';
import { decoder, elbo, elboEnv, elboVariables } from '../../src/latent/elbo.ts';
import { batch, encoder, encoderEnv, sampleZ0 } from '../../src/latent/encoder.ts';
import { observationsOf, spirals } from '../../src/latent/spirals.ts';
import { checkVjp, rng, run, type Rng } from '../adjoint/fd.ts';
import { assertClose, at, linearRef, mat, type Mat } from './reference.ts';

const data = (t: F64Tensor | undefined): Float64Array => (t as F64Tensor).data;
const T = 5, Bn = 3, L = 3, O = 2, HID = 4, STD = 0.3;

const setup = (r: Rng) => {
  const dec = decoder({ latentDim: L, obsDim: O, hiddenDim: HID });
  const v = elboVariables(T, L, O);
  const mu = X.input('mu', [batch, L]), logvar = X.input('logvar', [batch, L]);
  const e = elbo(dec, { ...v, mu, logvar }, STD);
  const params = Object.fromEntries(dec.params.map((p) => [p.name, r.tensor(p.shape, () => r.uniform(-1, 1))]));
  const mask = r.tensor([T, Bn, 1], () => (r.uniform() < 0.5 ? 1 : 0));
  const env = {
    ...params, zs: r.tensor([T, Bn, L]), xs: r.tensor([T, Bn, O]), mask,
    mu: r.tensor([Bn, L]), logvar: r.tensor([Bn, L], () => r.uniform(-1, 1)),
  };
  return { dec, v, mu, logvar, e, env };
};

/** The ELBO by hand: decoder ReLU MLP per (t, b), masked Gaussian log-density, analytic KL. */
const elboRef = (env: Readonly<Record<string, F64Tensor>>): { ll: number; kl: number } => {
  let ll = 0, kl = 0;
  const W1 = mat(env['dec1_W'] as F64Tensor), W2 = mat(env['dec2_W'] as F64Tensor);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < Bn; b++) {
      if (data(env['mask'])[t * Bn + b] === 0) continue;
      const z: Mat = { rows: 1, cols: L, data: data(env['zs']).slice((t * Bn + b) * L, (t * Bn + b + 1) * L) };
      const h = linearRef(z, W1, data(env['dec1_b']));
      const xhat = linearRef({ ...h, data: h.data.map((v) => Math.max(0, v)) }, W2, data(env['dec2_b']));
      for (let d = 0; d < O; d++) {
        const e = (data(env['xs'])[(t * Bn + b) * O + d] as number) - at(xhat, 0, d);
        ll += -0.5 * ((e * e) / (STD * STD) + Math.log(2 * Math.PI * STD * STD));
      }
    }
  for (let i = 0; i < Bn * L; i++) {
    const m = data(env['mu'])[i] as number, lv = data(env['logvar'])[i] as number;
    kl += 0.5 * (Math.exp(lv) + m * m - 1 - lv);
  }
  return { ll: ll / Bn, kl: kl / Bn };
};

test('value: log-likelihood, KL and ELBO equal a direct float64 computation (reference and kernel)', () => {
  const { e, env } = setup(rng(1, 'elbo'));
  const [ll, kl, el, loss] = run([e.logLik.node, e.kl.node, e.elbo.node, e.loss.node], env);
  const want = elboRef(env);
  assertClose(data(ll), [want.ll], 1e-13, 'logLik');
  assertClose(data(kl), [want.kl], 1e-13, 'kl');
  assertClose(data(el), [want.ll - want.kl], 1e-13, 'elbo');
  assertClose(data(loss), [want.kl - want.ll], 1e-13, 'loss');
  const k = kernelEvaluator([e.elbo.node])(env);
  assert.ok(E.isRight(k));
  assertClose(data(k.right[0]), [want.ll - want.kl], 1e-12, 'kernel');
});

test('gradients w.r.t. decoder parameters, μ, log σ² and zs equal central finite differences', () => {
  const r = rng(2, 'elbo-grad');
  const { dec, v, mu, logvar, e, env } = setup(r);
  // The decoder's ReLU kinks: a random pre-activation lands within h = 1e-6 of 0 with negligible probability.
  const wrt = [...dec.params.map((p) => p.expr.node), mu.node, logvar.node, v.zs.node] as NodeOf<'var'>[];
  const { mismatches, checked } = checkVjp({ outputs: [e.elbo.node], wrt, env, rng: r, sizes: new Map([['batch', Bn]]), binders: [v.mask.node] });
  assert.deepEqual(mismatches, []);
  assert.equal(checked, L * HID + HID + HID * O + O + 2 * Bn * L + T * Bn * L);
});

test('the mask: unobserved entries do not change the value; the decoder on trajectories equals it on rows', () => {
  const r = rng(3, 'elbo-mask');
  const { dec, v, e, env } = setup(r);
  const xs2 = Float64Array.from(data(env.xs));
  data(env.mask).forEach((m, i) => { if (m === 0) { xs2[i * O] = 1e3; xs2[i * O + 1] = -7; } });
  const [a] = run([e.elbo.node], env);
  const [b] = run([e.elbo.node], { ...env, xs: { shape: [T, Bn, O], data: xs2 } });
  assert.equal(data(a)[0], data(b)[0]);
  const [decoded] = run([e.decoded.node], env);
  const zRows = X.input('zrow', [batch, L]);
  const [rows] = run([dec.rows.apply(zRows).node], { ...env, zrow: { shape: [T * Bn, L], data: data(env.zs) } });
  assertClose(data(decoded), data(rows), 1e-14, 'decoded');
  assert.deepEqual(e.decoded.shape, [T, batch, O]);
  assert.deepEqual(decoder({ latentDim: 4, obsDim: 2, hiddenDim: 0 }).params.map((p) => p.shape), [[4, 2], [2]]);
  assert.throws(() => elbo(dec, { ...v, mu: X.input('mu', [batch, L]), logvar: X.input('logvar', [batch, L]) }, 0), RangeError);
});

test('on spirals: encoder → z₀ → ELBO inputs fit together, and the ELBO is a valid model Loss', () => {
  const [d] = spirals({ count: 10, observed: 30, testCount: 2 }, seedRng(8));
  const rows = [0, 1, 2, 5];
  const enc = encoder({ steps: 30, latentDim: 4 });
  const eps = X.noise('eps', [batch, 4]);
  const z0 = sampleZ0(enc.mu, enc.logvar, eps);
  const dec = decoder({ latentDim: 4, obsDim: 2 });
  const v = elboVariables(100, 4, 2);
  const e = elbo(dec, { ...v, mu: enc.mu, logvar: enc.logvar }, 0.1);
  const r = rng(4, 'spiral-elbo');
  const params = initParams([...enc.params, ...dec.params], 0);
  // Stand-in for the solver: z(t) = z₀ at every time.
  const env0 = { ...params, ...encoderEnv(enc, observationsOf(d.train, rows)), eps: r.tensor([4, 4]) };
  const [z0v] = run([z0.node], env0);
  const zs = { shape: [100, 4, 4], data: new Float64Array(1600).map((_, i) => data(z0v)[i % 16] as number) };
  const env = { ...env0, ...elboEnv(d.train, rows), zs };
  const [el, kl] = run([e.elbo.node, e.kl.node], env);
  assert.ok(Number.isFinite(data(el)[0]));
  assert.ok((data(kl)[0] as number) >= 0);
  // As the loss of an ODE gradient driver: prediction zs, decoder parameters, inputs xs, mask, μ, log σ² (or the encoder's).
  const mu = X.input('mu', [batch, 4]), logvar = X.input('logvar', [batch, 4]);
  const odeLoss = makeLoss({ prediction: v.zs, params: dec.params, value: X.neg(elbo(dec, { ...v, mu, logvar }, 0.1).logLik) });
  assert.ok(E.isRight(odeLoss));
  assert.deepEqual(odeLoss.right.inputs.map((i) => i.name).sort(), ['mask', 'xs']);
});
