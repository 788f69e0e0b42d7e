/**
 * The whole latent ODE as one value and the gradient of its negative ELBO, composed from three
 * derivatives the library already has, without a new gradient API:
 *
 *   encoder (symbolic VJP)  →  z₀ = μ + σ ⊙ ε (by hand)  →  ODE + decoder likelihood (adjoint)
 *
 * With loss −ELBO = −logLik(z(t; z₀), dec) + KL(μ, log σ²):
 * - the prepared adjoint gradient returns ∂(−logLik)/∂z₀, ∂/∂θ_ode and ∂/∂θ_dec (the decoder's
 *   parameters are the loss's parameters);
 * - the reparameterisation gives ∂/∂μ = ∂/∂z₀ and ∂/∂log σ² = ∂/∂z₀ ⊙ ε ⊙ ½σ;
 * - the KL adds μ/B and ½(e^{log σ²} − 1)/B (the analytic KL is a batch mean);
 * - one reverse sweep of the encoder expression with those cotangents gives ∂/∂θ_enc.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../dsl/expr.ts';
import { mlp, type Activation } from '../dsl/layers.ts';
import { dynamics, makeLoss, makeModel, type Dynamics, type Loss, type Model } from '../dsl/model.ts';
import { initParams, type ParamDecl, type ParamValues } from '../dsl/params.ts';
import { vjp } from '../adjoint/vjp.ts';
import { formatGradientError, prepareGradient, type AdjointConfig, type PreparedGradient, type SolverOptions } from '../adjoint/gradients/index.ts';
import { kernelEvaluator, type F64Program } from '../interp/evaluator.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { decoder, elbo, elboEnv, elboVariables, type Decoder } from './elbo.ts';
import { batch, encoder, encoderEnv, type Encoder } from './encoder.ts';
import { observationsOf, type SpiralSet } from './spirals.ts';

/** Sizes of the latent ODE (defaults: the paper's, Appendix: 4 latent, 25 GRU, 20 hidden). */
export interface LatentOdeOptions {
  /** Observations per trajectory (the encoder is unrolled for exactly this many). */
  readonly steps: number;
  /** Times of the observation region (the likelihood's grid; spirals: 100). */
  readonly observeSteps: number;
  readonly latentDim?: number;
  readonly encoderHidden?: number;
  /** Hidden units of each hidden layer of the latent dynamics MLP L → H (→ H …) → L. Default 20. */
  readonly odeHidden?: number;
  /** Hidden layers of the latent dynamics MLP (default 1). */
  readonly odeLayers?: number;
  /** Activation of the latent dynamics MLP (default tanh). */
  readonly odeActivation?: Activation;
  readonly decoderHidden?: number;
  /** The likelihood's fixed observation noise std. */
  readonly obsStd: number;
}

/** The built latent ODE: its parts and its compiled programs. */
export interface LatentOde {
  readonly latentDim: number;
  readonly steps: number;
  readonly observeSteps: number;
  readonly obsStd: number;
  readonly encoder: Encoder<number>;
  readonly decoder: Decoder<number, 2>;
  /** dz/dt = MLP(z), autonomous. */
  readonly dynamics: Dynamics;
  /** −logLik of the prediction `zs: [observeSteps, batch, L]`, with the decoder's parameters. */
  readonly likelihood: Loss;
  /** Encoder, dynamics and decoder parameters, each once. */
  readonly params: readonly ParamDecl[];
  /** Evaluates `[μ, log σ²]` from the encoder's inputs and parameters. */
  readonly encode: F64Program;
  /** Evaluates ∂/∂θ_enc (in `params` order of the encoder) from cotangents `ct_mu`, `ct_logvar`. */
  readonly encoderVjp: F64Program;
  /** The dynamics as a model (for forward prediction). */
  readonly model: (values: ParamValues) => E.Either<string, Model>;
}

/**
 * Builds the latent ODE for `steps` observations per trajectory.
 * @example const m = latentOde({ steps: 30, observeSteps: 100, obsStd: 0.1 }); m.params.length // 4 + 2 + 4 + 4
 * @throws RangeError when a size is out of range (from the building blocks)
 */
export const latentOde = (o: LatentOdeOptions): LatentOde => {
  const L = o.latentDim ?? 4;
  const enc = encoder({ steps: o.steps, latentDim: L, hiddenDim: o.encoderHidden ?? 25 });
  const hidden = Array.from({ length: o.odeLayers ?? 1 }, () => o.odeHidden ?? 20);
  const net = mlp('ode', [L, ...hidden, L], o.odeActivation ?? 'tanh');
  const z = X.state('z', [batch, L] as const);
  const dyn = dynamics({ state: z, time: X.time('t'), params: net.params, f: net.apply(z) });
  const dec = decoder({ latentDim: L, obsDim: 2, hiddenDim: o.decoderHidden ?? 20 });
  const v = elboVariables(o.observeSteps, L, 2);
  // logLik does not depend on μ, log σ²; these placeholders only complete the ELBO's inputs.
  const e = elbo(dec, { ...v, mu: X.input('unused_mu', [batch, L]), logvar: X.input('unused_logvar', [batch, L]) }, o.obsStd);
  const lik = makeLoss({ prediction: v.zs, params: dec.params, value: X.neg(e.logLik) });
  if (E.isLeft(lik)) throw new Error(`bug: latent likelihood: ${lik.left}`);
  const ctMu = X.input('ct_mu', [batch, L]), ctLv = X.input('ct_logvar', [batch, L]);
  const encGrads = vjp([enc.mu.node, enc.logvar.node], [ctMu.node, ctLv.node], enc.params.map((p) => p.expr.node));
  const params = [...enc.params, ...net.params, ...dec.params];
  return {
    latentDim: L, steps: o.steps, observeSteps: o.observeSteps, obsStd: o.obsStd,
    encoder: enc, decoder: dec, dynamics: dyn, likelihood: lik.right, params,
    encode: kernelEvaluator([enc.mu.node, enc.logvar.node]),
    encoderVjp: kernelEvaluator(encGrads),
    model: (values) => makeModel({ name: 'latent ODE', dynamics: dyn, values: pick(values, net.params) }),
  };
};

const pick = (values: ParamValues, decls: readonly ParamDecl[]): ParamValues =>
  Object.fromEntries(decls.map((p) => [p.name, values[p.name] as F64Tensor]));

/**
 * Initial parameters of every part, from `seed`.
 * @example const params = initLatentParams(m, 0) // { enc_gru_Wi: …, ode1_W: …, dec1_W: …, … }
 */
export const initLatentParams = (m: LatentOde, seed: number): ParamValues => initParams(m.params, seed);

/**
 * The prepared adjoint gradient of the likelihood part (float64, generated kernels), derived once.
 * `adjoint` sets the adjoint's own options (e.g. a cheaper backward solver); default: the forward
 * solver's settings backwards too.
 * @example const g = prepareLatentGradient(m, { method: 'adjoint', backward: { method: bosh3, rtol: 1e-3, atol: 1e-4 } });
 */
export const prepareLatentGradient = (m: LatentOde, adjoint: AdjointConfig = { method: 'adjoint' }): E.Either<string, PreparedGradient> =>
  E.mapLeft(formatGradientError)(prepareGradient({ dynamics: m.dynamics, loss: m.likelihood }, adjoint));

/** One evaluation of the negative ELBO and its gradient. */
export interface LatentStep {
  /** −ELBO = −logLik + KL, per trajectory (batch mean). */
  readonly loss: number;
  readonly logLik: number;
  readonly kl: number;
  /** ∂(−ELBO)/∂θ for every parameter. */
  readonly grads: ParamValues;
  readonly nfeForward: number;
  readonly nfeBackward: number;
}

/** The inputs of one gradient evaluation. */
export interface LatentBatch {
  readonly set: SpiralSet;
  readonly rows: readonly number[];
  /** `[B, L]` standard normal draws of the reparameterisation. */
  readonly eps: Float64Array;
  readonly solver: SolverOptions;
}

const program = (p: F64Program, env: Record<string, F64Tensor>, what: string): E.Either<string, readonly F64Tensor[]> =>
  E.mapLeft((m: string) => `${what}: ${m}`)(p(env));

/**
 * μ and log σ² of q(z₀) for the trajectories `rows` of a set.
 * @example posterior(m, params, data.test, [0, 1]) // right({ mu: [2, 4], logvar: [2, 4] })
 */
export const posterior = (
  m: LatentOde, params: ParamValues, set: SpiralSet, rows: readonly number[],
): E.Either<string, { readonly mu: F64Tensor; readonly logvar: F64Tensor; readonly env: Record<string, F64Tensor> }> => {
  const env = { ...params, ...encoderEnv(m.encoder, observationsOf(set, rows)) };
  return E.map(([mu, logvar]: readonly F64Tensor[]) => ({ mu: mu as F64Tensor, logvar: logvar as F64Tensor, env }))(program(m.encode, env, 'encoder'));
};

/**
 * The negative ELBO of a minibatch (one reparameterised draw) and its gradient w.r.t. every
 * parameter, by the composition described in the module comment.
 * @example latentStep(m, g, params, { set: data.train, rows: [0, 1], eps, solver: { method: dopri5, rtol: 1e-5, atol: 1e-6 } })
 */
export const latentStep = (
  m: LatentOde, g: PreparedGradient, params: ParamValues, b: LatentBatch,
): E.Either<string, LatentStep> => {
  const post = posterior(m, params, b.set, b.rows);
  if (E.isLeft(post)) return post;
  const { mu, logvar, env } = post.right;
  const B = b.rows.length, L = m.latentDim, n = B * L;
  if (b.eps.length !== n) return E.left(`latentStep: eps has ${b.eps.length} values, expected ${B}×${L}`);
  const sigma = logvar.data.map((v) => Math.exp(0.5 * v));
  const z0 = mu.data.map((v, i) => v + (sigma[i] as number) * (b.eps[i] as number));
  const ts = Array.from(b.set.times.subarray(0, m.observeSteps));
  const r = g({ params, z0: { shape: [B, L], data: z0 }, ts, lossInputs: elboEnv(b.set, b.rows), solver: b.solver });
  if (E.isLeft(r)) return E.left(formatGradientError(r.left));
  const dz0 = r.right.dz0.data;
  const ctMu = new Float64Array(n), ctLv = new Float64Array(n);
  let kl = 0;
  for (let i = 0; i < n; i++) {
    const mv = mu.data[i] as number, lv = logvar.data[i] as number, dz = dz0[i] as number;
    kl += 0.5 * (Math.exp(lv) + mv * mv - 1 - lv);
    ctMu[i] = dz + mv / B;
    ctLv[i] = dz * (b.eps[i] as number) * 0.5 * (sigma[i] as number) + (0.5 * (Math.exp(lv) - 1)) / B;
  }
  const eg = program(m.encoderVjp, { ...env, ct_mu: { shape: [B, L], data: ctMu }, ct_logvar: { shape: [B, L], data: ctLv } }, 'encoder VJP');
  if (E.isLeft(eg)) return eg;
  const grads: Record<string, F64Tensor> = { ...r.right.dparams };
  m.encoder.params.forEach((p, i) => { grads[p.name] = eg.right[i] as F64Tensor; });
  const logLik = -r.right.loss;
  return E.right({
    loss: kl / B - logLik, logLik, kl: kl / B, grads,
    nfeForward: r.right.stats.nfeForward, nfeBackward: r.right.stats.nfeBackward,
  });
};
