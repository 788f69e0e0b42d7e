/**
 * The recognition network q(z₀ | x₁…x_K) of the latent ODE: a GRU run backwards in time over the
 * observed points of each trajectory, then a linear layer to the mean μ and log-variance log σ²
 * of a diagonal Gaussian over z₀ (Chen et al. 2018, §5 and Fig. 6; torchdiffeq's
 * `RecognitionRNN` is a tanh RNN fed the observation only, ours is a GRU fed the observation and
 * a time gap, as issue "The paper's models", part 2, specifies).
 *
 * Within a batch every trajectory has the same number K of observations but its own times, so
 * the unrolled encoder is one expression over per-step inputs (k = 1 … K, in time order):
 *
 *   x_k:  [B, obsDim]  the k-th observation of each row            (input `${name}_x${k}`)
 *   dt_k: [B, 1]       t_k − t_{k−1}, with t₀ the time of z₀          (input `${name}_dt${k}`)
 *
 * Processing runs k = K, K−1, …, 1: h ← GRU(h, [x_k, dt_k]) from h = 0. At each step dt_k is the
 * gap to the observation the encoder sees next (the previous one in time), and the last step's
 * gap reaches back to t₀, so the gaps sum to t_K − t₀ and the encoder knows where z₀ sits even
 * when the first observation comes late. (Read in forward time, dt_k is "the gap from the
 * previous observation"; the paper's RNN baseline feeds "the time difference to the next
 * observation" in its own, forward, processing order — the same convention.)
 */
import * as X from '../dsl/expr.ts';
import { linear } from '../dsl/layers.ts';
import type { ParamDecl } from '../dsl/params.ts';
import { sym, type Shape, type Sym } from '../dsl/shape.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { gru, zeroState } from './gru.ts';
import type { Observations } from './spirals.ts';

/** The batch dimension of every latent model (the same name as the ODE state's batch). */
export const batch = sym('batch');
export type Batch = Sym<'batch'>;

/** Options of the recognition network. */
export interface EncoderOptions<K extends number, L extends number> {
  /** Observations per trajectory. */
  readonly steps: K;
  /** Latent size (paper: 4). */
  readonly latentDim: L;
  /** GRU hidden size (paper: 25). */
  readonly hiddenDim?: number;
  /** Observation size (spirals: 2). */
  readonly obsDim?: number;
  /** Prefix of parameter and input names (default `enc`). */
  readonly name?: string;
}

/** The unrolled recognition network for K observations. */
export interface Encoder<L extends number> {
  readonly name: string;
  readonly steps: number;
  readonly obsDim: number;
  /** The GRU's and the output layer's parameters. */
  readonly params: readonly ParamDecl[];
  /** `x_1 … x_K`, in time order. */
  readonly xs: readonly X.Expr<readonly [Batch, number]>[];
  /** `dt_1 … dt_K`, in time order. */
  readonly dts: readonly X.Expr<readonly [Batch, 1]>[];
  /** The GRU state after the backward pass (after reading x_1). */
  readonly hidden: X.Expr<readonly [Batch, number]>;
  /** Mean of q(z₀). */
  readonly mu: X.Expr<readonly [Batch, L]>;
  /** Log-variance of q(z₀). */
  readonly logvar: X.Expr<readonly [Batch, L]>;
}

/**
 * Builds the backward GRU encoder for `steps` observations per trajectory.
 * @throws RangeError when a size is not a positive integer
 * @example
 * const enc = encoder({ steps: 30, latentDim: 4 });
 * enc.mu.shape // ['batch', 4]; inputs enc_x1…enc_x30 [batch,2], enc_dt1…enc_dt30 [batch,1]
 */
export const encoder = <const K extends number, const L extends number>(o: EncoderOptions<K, L>): Encoder<L> => {
  const name = o.name ?? 'enc', H = o.hiddenDim ?? 25, D = o.obsDim ?? 2, K = o.steps, L = o.latentDim;
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`encoder ${name}: steps must be a positive integer, got ${K}`);
  if (!Number.isInteger(L) || L < 1) throw new RangeError(`encoder ${name}: latentDim must be a positive integer, got ${L}`);
  const cell = gru(`${name}_gru`, D + 1, H);
  const out = linear(`${name}_out`, H, 2 * L);
  const xs = Array.from({ length: K }, (_, k) => X.input(`${name}_x${k + 1}`, [batch, D] as const));
  const dts = Array.from({ length: K }, (_, k) => X.input(`${name}_dt${k + 1}`, [batch, 1] as const));
  let h: X.Expr<readonly [Batch, number]> = zeroState(batch, H);
  for (let k = K - 1; k >= 0; k--) {
    const step = X.withShape(X.concat([xs[k] as X.Expr<readonly [Batch, number]>, dts[k] as X.Expr<readonly [Batch, 1]>], 1), [batch, D + 1] as const);
    h = cell.apply(h, step);
  }
  const o2 = out.apply(h);
  return {
    name, steps: K, obsDim: D,
    params: [...cell.params, ...out.params],
    xs, dts, hidden: h,
    mu: X.slice(o2, [0, 0], [batch, L] as const),
    logvar: X.slice(o2, [0, L], [batch, L] as const),
  };
};

/**
 * The reparameterised draw z₀ = μ + exp(½ log σ²) ⊙ ε, with ε a `noise` variable ~ N(0, I).
 * @example sampleZ0(enc.mu, enc.logvar, X.noise('eps', [batch, 4])) // Expr<[batch, 4]>
 */
export const sampleZ0 = <S extends Shape>(
  mu: X.Expr<S>, logvar: X.Expr<S>, eps: X.Expr<S>,
): X.Expr<S> => X.add(mu, X.mul(X.exp(X.mul(0.5, logvar)), eps));

/**
 * The encoder's inputs for a batch of observations: `x_k` and `dt_k = t_k − t_{k−1}` with
 * `t₀ = t0` (default 0, the first time of the spirals' grid).
 * @example compileF64([enc.mu.node])(encoderEnv(enc, observationsOf(data.train, rows)))
 * @throws RangeError when the observations do not fit the encoder (count or size)
 */
export const encoderEnv = <L extends number>(enc: Encoder<L>, obs: Observations, t0 = 0): Record<string, F64Tensor> => {
  const K = enc.steps, B = obs.rows, D = enc.obsDim;
  if (obs.count !== K) throw new RangeError(`encoder ${enc.name}: built for ${K} observations per trajectory, got ${obs.count}`);
  if (obs.values.length !== B * K * D) throw new RangeError(`encoder ${enc.name}: expected ${B}×${K}×${D} values, got ${obs.values.length}`);
  const env: Record<string, F64Tensor> = {};
  for (let k = 0; k < K; k++) {
    const x = new Float64Array(B * D), dt = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      for (let d = 0; d < D; d++) x[b * D + d] = obs.values[(b * K + k) * D + d] as number;
      const prev = k === 0 ? t0 : (obs.times[b * K + k - 1] as number);
      dt[b] = (obs.times[b * K + k] as number) - prev;
    }
    env[`${enc.name}_x${k + 1}`] = { shape: [B, D], data: x };
    env[`${enc.name}_dt${k + 1}`] = { shape: [B, 1], data: dt };
  }
  return env;
};
