/**
 * Evaluation as in the paper's Table 2: predict every time of held-out trajectories from their
 * observed points only, then the root-mean-square error against the noise-free curve, separately
 * over the observation region (reconstruction) and over the times after it (extrapolation).
 *
 * - Latent ODE: z₀ = μ (the posterior mean, no sampling), solve over the whole grid, decode.
 * - RNN baseline: feed the observed points, then its own predictions, one per grid time after
 *   the last observation (the paper's fed-back extrapolation). Inside the observation region it
 *   only predicts the next observed point, so its reconstruction is not scored.
 *
 * RMSE = √(mean over trajectories, times and both coordinates of the squared error).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../dsl/expr.ts';
import type { ParamValues } from '../dsl/params.ts';
import { kernelEvaluator } from '../interp/evaluator.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { predict, type SolverSettings } from '../train/predict.ts';
import { formatTrainError } from '../train/trainError.ts';
import { batch } from './encoder.ts';
import { posterior, type LatentOde } from './latentModel.ts';
import { rnnBaseline, rnnEnv, stackTime, type RnnOptions } from './rnn.ts';
import { observationsOf, timeMajor, type SpiralSet } from './spirals.ts';

/**
 * √(mean (a − b)²) over the time range `[from, to)` of two time-major `[T, B, D]` tensors.
 * @example rmse(f64([0, 0, 3, 4], [2, 1, 2]), f64([0, 0, 0, 0], [2, 1, 2]), 1, 2) // √12.5
 * @throws RangeError when the shapes differ or the range is empty or out of bounds
 */
export const rmse = (a: F64Tensor, b: F64Tensor, from = 0, to = a.shape[0] ?? 0): number => {
  if (a.shape.length !== 3 || a.shape.join() !== b.shape.join())
    throw new RangeError(`rmse: needs two [T, B, D] tensors of one shape, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  const T = a.shape[0] as number, row = (a.shape[1] as number) * (a.shape[2] as number);
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > T || from >= to)
    throw new RangeError(`rmse: time range [${from}, ${to}) is empty or not within [0, ${T})`);
  let s = 0;
  for (let i = from * row; i < to * row; i++) {
    const e = (a.data[i] as number) - (b.data[i] as number);
    s += e * e;
  }
  return Math.sqrt(s / ((to - from) * row));
};

/**
 * The RMSE of every trajectory (column b of two time-major `[T, B, D]` tensors) over `[from, to)`:
 * `rmse` is the root of the mean of their squares. A few failed trajectories can dominate the
 * pooled figure; these show how the error is spread.
 * @example trajectoryRmses(f64([0, 0, 3, 4], [1, 2, 2]), f64([0, 0, 0, 0], [1, 2, 2])) // [0, 5/√2]
 * @throws RangeError as `rmse`
 */
export const trajectoryRmses = (a: F64Tensor, b: F64Tensor, from = 0, to = a.shape[0] ?? 0): Float64Array => {
  rmse(a, b, from, to);
  const B = a.shape[1] as number, D = a.shape[2] as number;
  const out = new Float64Array(B);
  for (let k = from; k < to; k++)
    for (let i = 0; i < B * D; i++) {
      const e = (a.data[k * B * D + i] as number) - (b.data[k * B * D + i] as number);
      const j = Math.floor(i / D);
      out[j] = (out[j] as number) + e * e;
    }
  return out.map((s) => Math.sqrt(s / ((to - from) * D)));
};

/** How per-trajectory RMSEs are spread. */
export interface Spread {
  readonly median: number;
  readonly p90: number;
  readonly max: number;
}

/**
 * Median, 90th percentile (nearest rank) and maximum of a non-empty list.
 * @example spread(Float64Array.of(1, 2, 3, 4, 100)) // { median: 3, p90: 100, max: 100 }
 * @throws RangeError when the list is empty
 */
export const spread = (xs: Float64Array): Spread => {
  if (xs.length === 0) throw new RangeError('spread: needs at least one value');
  const s = Float64Array.from(xs).sort();
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number;
  return { median: at(0.5), p90: at(0.9), max: s[s.length - 1] as number };
};

/**
 * The latent ODE's prediction `[T, B, 2]` at every time of the grid for the trajectories `rows`,
 * from the posterior mean of z₀.
 * @example latentPredict(m, params, data.test, [0, 1], { method: dopri5, rtol: 1e-5, atol: 1e-6 }) // right([200, 2, 2])
 */
export const latentPredict = (
  m: LatentOde, params: ParamValues, set: SpiralSet, rows: readonly number[], solver: SolverSettings,
): E.Either<string, F64Tensor> => {
  const post = posterior(m, params, set, rows);
  if (E.isLeft(post)) return post;
  const model = m.model(params);
  if (E.isLeft(model)) return model;
  const traj = predict(model.right, model.right.values, post.right.mu, Array.from(set.times), solver);
  if (E.isLeft(traj)) return E.left(formatTrainError(traj.left));
  const T = set.times.length;
  const zs = X.input('zs_eval', [T, batch, m.latentDim]);
  const out = kernelEvaluator([m.decoder.apply(zs).node])({ ...params, zs_eval: traj.right.trajectory });
  return E.isLeft(out) ? E.left(`decoder: ${out.left}`) : E.right(out.right[0] as F64Tensor);
};

/**
 * The RNN baseline's fed-back predictions `[M, B, 2]` at the M grid times after the observation
 * region, for the trajectories `rows`.
 * @example rnnExtrapolate({ steps: 30, obsStd: 0.1 }, params, data.test, [0, 1]) // right([100, 2, 2])
 */
export const rnnExtrapolate = (
  o: RnnOptions, params: ParamValues, set: SpiralSet, rows: readonly number[],
): E.Either<string, F64Tensor> => {
  const targets = Array.from(set.times.subarray(set.observeSteps));
  const rnn = rnnBaseline({ ...o, extrapolate: targets.length });
  const out = kernelEvaluator([stackTime(rnn.extrapolated).node])({ ...params, ...rnnEnv(rnn, observationsOf(set, rows), targets) });
  return E.isLeft(out) ? E.left(`rnn: ${out.left}`) : E.right(out.right[0] as F64Tensor);
};

/** Test RMSEs of one model (the RNN's reconstruction is not defined: NaN). */
export interface Scores {
  readonly reconstruction: number;
  readonly extrapolation: number;
  /** The extrapolation RMSE of each trajectory, in `rows` order. */
  readonly perTrajectory: Float64Array;
}

/**
 * The latent ODE's RMSEs on the trajectories `rows` against the noise-free curves.
 * @example scoreLatent(m, params, data.test, rows, solver) // right({ reconstruction: 0.21, extrapolation: 0.35, perTrajectory: [B], prediction })
 */
export const scoreLatent = (
  m: LatentOde, params: ParamValues, set: SpiralSet, rows: readonly number[], solver: SolverSettings,
): E.Either<string, Scores & { readonly prediction: F64Tensor }> =>
  E.map((p: F64Tensor) => {
    const truth = timeMajor(set, set.clean, rows, 0, set.times.length);
    return {
      reconstruction: rmse(p, truth, 0, set.observeSteps), extrapolation: rmse(p, truth, set.observeSteps),
      perTrajectory: trajectoryRmses(p, truth, set.observeSteps), prediction: p,
    };
  })(latentPredict(m, params, set, rows, solver));

/**
 * The RNN baseline's extrapolation RMSE on the trajectories `rows` against the noise-free curves.
 * @example scoreRnn({ steps: 30, obsStd: 0.1 }, params, data.test, rows) // right({ reconstruction: NaN, extrapolation: 0.9 })
 */
export const scoreRnn = (
  o: RnnOptions, params: ParamValues, set: SpiralSet, rows: readonly number[],
): E.Either<string, Scores & { readonly prediction: F64Tensor }> =>
  E.map((p: F64Tensor) => {
    const M = set.times.length - set.observeSteps;
    const truth = timeMajor(set, set.clean, rows, set.observeSteps, M);
    return { reconstruction: NaN, extrapolation: rmse(p, truth), perTrajectory: trajectoryRmses(p, truth), prediction: p };
  })(rnnExtrapolate(o, params, set, rows));

/** A constant prediction at every extrapolation time, per trajectory: from its observed points. */
const constantBaselineRmse = (set: SpiralSet, rows: readonly number[], pick: (values: Float64Array, b: number, K: number, d: number) => number): number => {
  const obs = observationsOf(set, rows), K = obs.count, B = rows.length;
  const M = set.times.length - set.observeSteps;
  const truth = timeMajor(set, set.clean, rows, set.observeSteps, M);
  const pred = new Float64Array(M * B * 2);
  for (let b = 0; b < B; b++)
    for (let d = 0; d < 2; d++) {
      const v = pick(obs.values, b, K, d);
      for (let t = 0; t < M; t++) pred[(t * B + b) * 2 + d] = v;
    }
  return rmse({ shape: [M, B, 2], data: pred }, truth);
};

/**
 * The trivial baseline: predict, at every extrapolation time, the mean of the trajectory's own
 * observed points.
 * @example meanBaselineRmse(data.test, [0, 1, 2]) // ≈ 3
 */
export const meanBaselineRmse = (set: SpiralSet, rows: readonly number[]): number =>
  constantBaselineRmse(set, rows, (v, b, K, d) => {
    let s = 0;
    for (let k = 0; k < K; k++) s += v[(b * K + k) * 2 + d] as number;
    return s / K;
  });

/**
 * The persistence baseline: predict, at every extrapolation time, the trajectory's last observed
 * (noisy) point.
 * @example lastValueBaselineRmse(data.test, [0, 1, 2]) // ≈ 3
 */
export const lastValueBaselineRmse = (set: SpiralSet, rows: readonly number[]): number =>
  constantBaselineRmse(set, rows, (v, b, K, d) => v[(b * K + K - 1) * 2 + d] as number);
