/**
 * The paper's RNN baseline (Chen et al. 2018, §5.1: an RNN with 25 hidden units trained to
 * minimise the negative Gaussian log-likelihood, and a second version whose inputs are
 * concatenated with the time to the next observation). Here: the same GRU cell as the encoder,
 * run forwards, with a linear readout that predicts the next observation from the hidden state.
 *
 * Steps, for K observations x_1 … x_K at t_1 < … < t_K and M extrapolation times τ_1 < … < τ_M:
 *
 *   h_k = GRU(h_{k−1}, [x_k, gap_k]),  x̂_{k+1} = readout(h_k)     k = 1 … K−1 (teacher forcing)
 *   h_K = GRU(h_{K−1}, [x_K, τ_1 − t_K]),  ŷ_1 = readout(h_K)       (when M ≥ 1)
 *   h_{K+j} = GRU(h_{K+j−1}, [ŷ_j, τ_{j+1} − τ_j]),  ŷ_{j+1} = readout(h_{K+j})   (own predictions)
 *
 * with gap_k = t_{k+1} − t_k: each input carries the time to the point predicted from it. Without
 * `timeGaps` (the paper's first baseline) the inputs are the observations alone.
 */
import * as X from '../dsl/expr.ts';
import { linear } from '../dsl/layers.ts';
import type { ParamDecl } from '../dsl/params.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { batch, type Batch } from './encoder.ts';
import { gru, zeroState } from './gru.ts';
import type { Observations } from './spirals.ts';

/** Options of the RNN baseline. */
export interface RnnOptions {
  /** Observations per trajectory (at least 1). */
  readonly steps: number;
  /** Predictions beyond the last observation, each fed back as the next input (default 0). */
  readonly extrapolate?: number;
  /** GRU hidden size (paper: 25). */
  readonly hiddenDim?: number;
  /** Observation size (spirals: 2). */
  readonly obsDim?: number;
  /** Concatenate the time to the predicted point to every input (default true). */
  readonly timeGaps?: boolean;
  /** Fixed observation noise std of the likelihood. */
  readonly obsStd: number;
  /** Prefix of parameter and input names (default `rnn`). */
  readonly name?: string;
}

type Rows = X.Expr<readonly [Batch, number]>;

/** The unrolled baseline. */
export interface RnnBaseline {
  readonly name: string;
  readonly steps: number;
  readonly extrapolate: number;
  readonly obsDim: number;
  readonly timeGaps: boolean;
  readonly params: readonly ParamDecl[];
  /** `x_1 … x_K` (inputs `${name}_x${k}`, `[batch, obsDim]`). */
  readonly xs: readonly Rows[];
  /** The gaps (inputs `${name}_gap${k}`, `[batch, 1]`): K − 1 + M of them, or none without `timeGaps`. */
  readonly gaps: readonly X.Expr<readonly [Batch, 1]>[];
  /** One-step predictions of x_2 … x_K. */
  readonly oneStep: readonly Rows[];
  /** Predictions at τ_1 … τ_M, each made from the previous prediction. */
  readonly extrapolated: readonly Rows[];
  /** (1/B) Σ_b Σ_{k=2..K} −log N(x_k; x̂_k, obsStd²): the training loss (0 when K = 1). */
  readonly nll: X.Expr<readonly []>;
}

/**
 * Stacks per-time rows `[B, D]` into a trajectory `[n, B, D]` (time first, as a solver's output).
 * @throws when the list is empty or the shapes differ
 * @example stackTime(rnn.extrapolated) // Expr<[M, batch, 2]>
 */
export const stackTime = (rows: readonly Rows[]): X.Expr<readonly [number, Batch, number]> => {
  const first = rows[0];
  if (first === undefined) throw new Error('fluxion: stackTime needs at least one row');
  const d = first.shape[1];
  return X.withShape(X.concat(rows.map((r) => X.reshape(r, [1, batch, d])), 0), [rows.length, batch, d] as const);
};

/**
 * Builds the RNN baseline for K observations and M extrapolation steps.
 * @throws RangeError when a size is out of range or `obsStd` is not positive
 * @example
 * const rnn = rnnBaseline({ steps: 30, extrapolate: 100, obsStd: 0.1 });
 * rnn.nll.shape // []; stackTime(rnn.extrapolated).shape // [100, 'batch', 2]
 */
export const rnnBaseline = (o: RnnOptions): RnnBaseline => {
  const name = o.name ?? 'rnn', K = o.steps, M = o.extrapolate ?? 0, H = o.hiddenDim ?? 25, D = o.obsDim ?? 2;
  const timeGaps = o.timeGaps ?? true;
  for (const [what, v, lo] of [['steps', K, 1], ['extrapolate', M, 0], ['hiddenDim', H, 1], ['obsDim', D, 1]] as const)
    if (!Number.isInteger(v) || v < lo) throw new RangeError(`rnn ${name}: ${what} must be an integer ≥ ${lo}, got ${v}`);
  if (!(o.obsStd > 0) || !Number.isFinite(o.obsStd)) throw new RangeError(`rnn ${name}: obsStd must be positive and finite, got ${o.obsStd}`);
  const cell = gru(`${name}_gru`, timeGaps ? D + 1 : D, H);
  const readout = linear(`${name}_out`, H, D);
  const xs: Rows[] = Array.from({ length: K }, (_, k) => X.input(`${name}_x${k + 1}`, [batch, D] as const));
  const nGaps = timeGaps ? K - 1 + M : 0;
  const gaps = Array.from({ length: nGaps }, (_, k) => X.input(`${name}_gap${k + 1}`, [batch, 1] as const));
  let h: Rows = zeroState(batch, H);
  let step = 0;
  const advance = (x: Rows): Rows => {
    const g = gaps[step];
    const input = g === undefined ? x : X.withShape(X.concat([x, g], 1), [batch, D + 1] as const);
    step++;
    h = cell.apply(h, input);
    return X.withShape(readout.apply(h), [batch, D] as const);
  };
  const oneStep = xs.slice(0, K - 1).map(advance);
  const extrapolated: Rows[] = [];
  for (let j = 0; j < M; j++) extrapolated.push(advance(j === 0 ? (xs[K - 1] as Rows) : (extrapolated[j - 1] as Rows)));
  const logVar = 2 * Math.log(o.obsStd);
  const nllRows = oneStep.map((p, k) => {
    const sq = X.mul(X.square(X.sub(xs[k + 1] as Rows, p)), 1 / (o.obsStd * o.obsStd));
    return X.sumAxis(X.mul(0.5, X.add(sq, logVar + Math.log(2 * Math.PI))), 1);
  });
  const nll = nllRows.length === 0 ? X.scalar(0) : X.mean(nllRows.reduce((a, b) => X.add(a, b)));
  return { name, steps: K, extrapolate: M, obsDim: D, timeGaps, params: [...cell.params, ...readout.params], xs, gaps, oneStep, extrapolated, nll };
};

/**
 * The baseline's inputs for a batch of observations and the shared extrapolation times `targets`
 * (at least M of them; the first M are used).
 * @example rnnEnv(rnn, observationsOf(data.test, rows), Array.from(data.test.times.subarray(100)))
 * @throws RangeError when the observations or targets do not fit the baseline
 */
export const rnnEnv = (rnn: RnnBaseline, obs: Observations, targets: readonly number[] = []): Record<string, F64Tensor> => {
  const K = rnn.steps, M = rnn.extrapolate, B = obs.rows, D = rnn.obsDim;
  if (obs.count !== K) throw new RangeError(`rnn ${rnn.name}: built for ${K} observations per trajectory, got ${obs.count}`);
  if (obs.values.length !== B * K * D) throw new RangeError(`rnn ${rnn.name}: expected ${B}×${K}×${D} values, got ${obs.values.length}`);
  if (targets.length < M) throw new RangeError(`rnn ${rnn.name}: needs ${M} extrapolation times, got ${targets.length}`);
  const env: Record<string, F64Tensor> = {};
  for (let k = 0; k < K; k++) {
    const x = new Float64Array(B * D);
    for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) x[b * D + d] = obs.values[(b * K + k) * D + d] as number;
    env[`${rnn.name}_x${k + 1}`] = { shape: [B, D], data: x };
  }
  if (!rnn.timeGaps) return env;
  // Time of input i (0-based): t_{i+1} for i < K, then τ_{i−K+1}; gap i is the step to input i + 1.
  const timeAt = (b: number, i: number): number => (i < K ? (obs.times[b * K + i] as number) : (targets[i - K] as number));
  for (let i = 0; i < K - 1 + M; i++) {
    const g = new Float64Array(B);
    for (let b = 0; b < B; b++) g[b] = timeAt(b, i + 1) - timeAt(b, i);
    env[`${rnn.name}_gap${i + 1}`] = { shape: [B, 1], data: g };
  }
  return env;
};
