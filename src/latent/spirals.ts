/**
 * The latent-ODE spirals of Chen et al. 2018 (§5.1 and Appendix), re-derived: every trajectory
 * is a point moving along an Archimedean spiral `r = a + b·θ` with the angle growing linearly in
 * time, clockwise or counter-clockwise, observed with Gaussian noise and irregularly subsampled.
 *
 * What the paper says (§5.1, "Time-series latent ODE experiments", as we read it): 1000
 * two-dimensional spirals, each starting at a different point, sampled at 100 equally spaced
 * time steps; half clockwise, half counter-clockwise; Gaussian noise added to the observations;
 * irregular time stamps by sampling n ∈ {30, 50, 100} points of each trajectory at random without
 * replacement; predictive RMSE reported on 100 time points extending beyond those used for
 * training. It gives neither the noise level nor a train/test split. torchdiffeq's
 * examples/latent_ode.py (`generate_spiral2d`) walks a fixed grid of 1000 angles over [0, 6π]
 * (time = angle), takes 100 consecutive grid points from a random start index in [100, 900),
 * picks the orientation by a fair coin, uses noise std 0.3 in its script (0.1 by default), and
 * for the clockwise set uses `r = b·50/θ'` around (−5, 0) with the counter-clockwise set around
 * (+5, 0); it neither subsamples nor splits. That script is not the paper's code: it was
 * contributed after the paper (torchdiffeq pull request #5), whose author notes that the paper
 * gives neither the observation noise nor the true dynamics, so it cannot settle the paper's
 * scale either; our radius range (0.3·θ, θ ≤ 6π) is its counter-clockwise curve's.
 *
 * What this module implements (all sizes are options; defaults in brackets):
 * - Time grid `t_k = k·Δ`, k = 0 … T−1, with T = `observeSteps` [100] + `extrapolateSteps`
 *   [100] and Δ = 6π/999 (torchdiffeq's angular grid step). The first `observeSteps` times are
 *   the paper's 100 equally spaced steps (the interpolation/training region); the rest are the
 *   "100 time points extending beyond" used only to score extrapolation.
 * - Start angle θ₀ ~ U[`thetaMin`, `thetaMax` − (T−1)Δ], `thetaMin` [0.6π ≈ 100 grid steps, as
 *   torchdiffeq avoids the centre] and `thetaMax` [6π]; so the whole window lies on the spiral.
 * - Counter-clockwise: `p(t) = r(θ)(cos θ, sin θ)`, θ = θ₀ + t. Clockwise: its mirror image in
 *   the x axis, `r(θ)(cos θ, −sin θ)` — the same Archimedean spiral traversed the other way
 *   (torchdiffeq's clockwise curve is not Archimedean; we keep one formula). Both centred at the
 *   origin, a [0], b [0.3] as torchdiffeq's script.
 * - Exactly ⌊N/2⌋ clockwise trajectories, N = `count` [1000], at random positions (a shuffled
 *   list of orientations; torchdiffeq flips a coin per trajectory).
 * - Noise: i.i.d. N(0, `noiseStd`²) [0.1] on both coordinates at every one of the T times.
 * - Irregular subsampling: for each trajectory, `observed` [100; the paper's 30 / 50 / 100]
 *   distinct indices of the observation region drawn uniformly without replacement, sorted. The
 *   count is the same for every trajectory of a data set (the paper's experiments are per count,
 *   and the unrolled encoder is one expression per count); the times differ per trajectory.
 * - Split: the last `testCount` [200] trajectories are the test set (orientations, starts and
 *   subsamples are i.i.d. apart from the exact half, so this split is random).
 *
 * Randomness comes from the project's generator with an explicit state, in this order: the
 * orientation shuffle, then per trajectory θ₀, its 2T noise draws and its subsample.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { F64Tensor } from '../interp/tensor.ts';
import { nextNormal, nextUniform, type RngState } from '../random/prng.ts';
import { formatBatchError, sampleBatch, shuffle } from '../train/batches.ts';

/** The paper's numbers of observed points per trajectory (Table 2). */
export const paperObservationCounts = [30, 50, 100] as const;

/** The grid step of torchdiffeq's spirals: 1000 angles over [0, 6π]. */
export const spiralTimeStep = (6 * Math.PI) / 999;

/** Options of `spirals`; see the module comment for the protocol and defaults. */
export interface SpiralOptions {
  readonly count?: number;
  readonly observeSteps?: number;
  readonly extrapolateSteps?: number;
  readonly observed?: number;
  readonly noiseStd?: number;
  readonly a?: number;
  readonly b?: number;
  readonly dt?: number;
  readonly thetaMin?: number;
  readonly thetaMax?: number;
  readonly testCount?: number;
}

/** Options with every default filled in. */
export type SpiralSettings = Required<SpiralOptions>;

/** One set of trajectories (train or test). N trajectories, T times, K observed points each. */
export interface SpiralSet {
  /** `[T]`: `t_k = k·Δ`, shared by every trajectory. */
  readonly times: Float64Array;
  /** The first `observeSteps` times are the observation region; the rest are for extrapolation. */
  readonly observeSteps: number;
  /** `[N, T, 2]`: the noise-free positions. */
  readonly clean: F64Tensor;
  /** `[N, T, 2]`: `clean` plus observation noise. */
  readonly noisy: F64Tensor;
  /** K, the observed points per trajectory. */
  readonly observedCount: number;
  /** `[N, K]`: sorted distinct indices into the observation region. */
  readonly observed: Int32Array;
  /** `[N, T]`: 1 where a time is observed (only inside the observation region), else 0. */
  readonly mask: Uint8Array;
  /** `[N]`: 1 for clockwise. */
  readonly clockwise: Uint8Array;
  /** `[N]`: the start angle θ₀. */
  readonly theta0: Float64Array;
}

/** The generated data: the split sets and the settings that produced them. */
export interface SpiralData {
  readonly train: SpiralSet;
  readonly test: SpiralSet;
  readonly settings: SpiralSettings;
}

const defaults: SpiralSettings = {
  count: 1000, observeSteps: 100, extrapolateSteps: 100, observed: 100, noiseStd: 0.1,
  a: 0, b: 0.3, dt: spiralTimeStep, thetaMin: 0.6 * Math.PI, thetaMax: 6 * Math.PI, testCount: 200,
};

const check = (s: SpiralSettings): void => {
  const int = (what: string, v: number, lo: number, hi = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isSafeInteger(v) || v < lo || v > hi) throw new RangeError(`spirals: ${what} must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  int('count', s.count, 1);
  int('observeSteps', s.observeSteps, 1);
  int('extrapolateSteps', s.extrapolateSteps, 0);
  int('observed', s.observed, 1, s.observeSteps);
  int('testCount', s.testCount, 0, s.count);
  for (const [what, v] of [['noiseStd', s.noiseStd], ['a', s.a], ['b', s.b], ['dt', s.dt], ['thetaMin', s.thetaMin], ['thetaMax', s.thetaMax]] as const)
    if (!Number.isFinite(v)) throw new RangeError(`spirals: ${what} must be finite, got ${v}`);
  if (!(s.noiseStd >= 0) || !(s.dt > 0)) throw new RangeError('spirals: noiseStd must be ≥ 0 and dt > 0');
  const span = (s.observeSteps + s.extrapolateSteps - 1) * s.dt;
  if (s.thetaMax - span < s.thetaMin)
    throw new RangeError(`spirals: a window of ${span.toFixed(3)} rad does not fit in [thetaMin, thetaMax] = [${s.thetaMin}, ${s.thetaMax}]`);
};

/**
 * The noise-free position at time `t` of the spiral starting at angle `theta0`.
 * @example spiralPoint({ a: 0, b: 0.3 }, Math.PI, 0, false) // [-0.942…, 0]
 */
export const spiralPoint = (
  shape: { readonly a: number; readonly b: number }, theta0: number, t: number, clockwise: boolean,
): readonly [number, number] => {
  const theta = theta0 + t;
  const r = shape.a + shape.b * theta;
  return [r * Math.cos(theta), (clockwise ? -1 : 1) * r * Math.sin(theta)];
};

/** A set made of the given trajectories (rows) of the full arrays. */
const subset = (all: SpiralSet, rows: readonly number[]): SpiralSet => {
  const T = all.times.length, K = all.observedCount, n = rows.length;
  const clean = new Float64Array(n * T * 2), noisy = new Float64Array(n * T * 2);
  const observed = new Int32Array(n * K), mask = new Uint8Array(n * T);
  const clockwise = new Uint8Array(n), theta0 = new Float64Array(n);
  rows.forEach((r, i) => {
    clean.set(all.clean.data.subarray(r * T * 2, (r + 1) * T * 2), i * T * 2);
    noisy.set(all.noisy.data.subarray(r * T * 2, (r + 1) * T * 2), i * T * 2);
    observed.set(all.observed.subarray(r * K, (r + 1) * K), i * K);
    mask.set(all.mask.subarray(r * T, (r + 1) * T), i * T);
    clockwise[i] = all.clockwise[r] as number;
    theta0[i] = all.theta0[r] as number;
  });
  return {
    times: all.times, observeSteps: all.observeSteps, observedCount: K,
    clean: { shape: [n, T, 2], data: clean }, noisy: { shape: [n, T, 2], data: noisy },
    observed, mask, clockwise, theta0,
  };
};

/**
 * Generates the spirals and splits them; the same state gives the same data bit for bit.
 * @example
 * const [data, rng1] = spirals({ observed: 30 }, seedRng(0));
 * data.train.noisy.shape // [800, 200, 2]; data.train.observed: 800 × 30 sorted indices < 100
 * @throws RangeError when an option is out of range (see the messages)
 */
export const spirals = (opts: SpiralOptions, rng: RngState): readonly [SpiralData, RngState] => {
  const s: SpiralSettings = { ...defaults, ...opts };
  check(s);
  const N = s.count, To = s.observeSteps, T = To + s.extrapolateSteps, K = s.observed;
  const times = Float64Array.from({ length: T }, (_, k) => k * s.dt);
  const [order, s1] = shuffle(rng, N);
  let st = s1;
  const take = (next: (x: RngState) => readonly [number, RngState]): number => {
    const [v, n1] = next(st);
    st = n1;
    return v;
  };
  const clockwise = new Uint8Array(N);
  order.forEach((rank, i) => { clockwise[i] = rank < Math.floor(N / 2) ? 1 : 0; });
  const clean = new Float64Array(N * T * 2), noisy = new Float64Array(N * T * 2);
  const observed = new Int32Array(N * K), mask = new Uint8Array(N * T), theta0 = new Float64Array(N);
  const hi = s.thetaMax - (T - 1) * s.dt;
  for (let i = 0; i < N; i++) {
    const th = s.thetaMin + (hi - s.thetaMin) * take(nextUniform);
    theta0[i] = th;
    for (let k = 0; k < T; k++) {
      const [x, y] = spiralPoint(s, th, times[k] as number, clockwise[i] === 1);
      const o = (i * T + k) * 2;
      clean[o] = x;
      clean[o + 1] = y;
      noisy[o] = x + s.noiseStd * take(nextNormal);
      noisy[o + 1] = y + s.noiseStd * take(nextNormal);
    }
    const drawn = sampleBatch(st, To, K, { replace: false });
    if (E.isLeft(drawn)) throw new Error(`bug: subsampling failed: ${formatBatchError(drawn.left)}`);
    st = drawn.right.rng;
    const idx = [...drawn.right.indices].sort((p, q) => p - q);
    idx.forEach((k, j) => {
      observed[i * K + j] = k;
      mask[i * T + k] = 1;
    });
  }
  const all: SpiralSet = {
    times, observeSteps: To, observedCount: K,
    clean: { shape: [N, T, 2], data: clean }, noisy: { shape: [N, T, 2], data: noisy },
    observed, mask, clockwise, theta0,
  };
  const nTrain = N - s.testCount;
  const rows = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
  const train = subset(all, rows(0, nTrain));
  const test = subset(all, rows(nTrain, N));
  return [{ train, test, settings: s }, st];
};

/** The observed points of a batch of trajectories, in time order. B rows, K points each. */
export interface Observations {
  readonly rows: number;
  readonly count: number;
  /** `[B, K]`: the observation times. */
  readonly times: Float64Array;
  /** `[B, K, 2]`: the noisy observed positions. */
  readonly values: Float64Array;
}

const checkRows = (set: SpiralSet, rows: readonly number[]): void => {
  const n = set.theta0.length;
  for (const r of rows) if (!Number.isInteger(r) || r < 0 || r >= n) throw new RangeError(`spirals: row ${r} is not in [0, ${n})`);
};

/**
 * The observed points (times and noisy values) of the trajectories `rows` of a set.
 * @example observationsOf(data.train, [0, 1]).times // 2 × K times, row-major
 * @throws RangeError when a row is out of range
 */
export const observationsOf = (set: SpiralSet, rows: readonly number[]): Observations => {
  checkRows(set, rows);
  const K = set.observedCount, T = set.times.length, B = rows.length;
  const times = new Float64Array(B * K), values = new Float64Array(B * K * 2);
  rows.forEach((r, b) => {
    for (let j = 0; j < K; j++) {
      const k = set.observed[r * K + j] as number;
      times[b * K + j] = set.times[k] as number;
      values[(b * K + j) * 2] = set.noisy.data[(r * T + k) * 2] as number;
      values[(b * K + j) * 2 + 1] = set.noisy.data[(r * T + k) * 2 + 1] as number;
    }
  });
  return { rows: B, count: K, times, values };
};

/**
 * Time-major values `[count, B, 2]` of `clean` or `noisy` for the trajectories `rows`, times
 * `from … from + count − 1` (default: the observation region), the layout of a solver's output.
 * @example timeMajor(data.train, data.train.noisy, [3, 4]).shape // [100, 2, 2]
 * @throws RangeError when a row or the time range is out of range
 */
export const timeMajor = (
  set: SpiralSet, values: F64Tensor, rows: readonly number[], from = 0, count = set.observeSteps,
): F64Tensor => {
  checkRows(set, rows);
  const T = set.times.length, B = rows.length;
  if (!Number.isInteger(from) || !Number.isInteger(count) || from < 0 || count < 0 || from + count > T)
    throw new RangeError(`spirals: times [${from}, ${from + count}) are not within [0, ${T})`);
  const out = new Float64Array(count * B * 2);
  for (let k = 0; k < count; k++)
    rows.forEach((r, b) => {
      out[(k * B + b) * 2] = values.data[(r * T + from + k) * 2] as number;
      out[(k * B + b) * 2 + 1] = values.data[(r * T + from + k) * 2 + 1] as number;
    });
  return { shape: [count, B, 2], data: out };
};

/**
 * The observation mask of the trajectories `rows` over the observation region, time-major
 * `[observeSteps, B, 1]`, 1 where observed: the ELBO's `mask` input.
 * @example observedMask(data.train, [0]).data.reduce((a, b) => a + b) // K
 * @throws RangeError when a row is out of range
 */
export const observedMask = (set: SpiralSet, rows: readonly number[]): F64Tensor => {
  checkRows(set, rows);
  const T = set.times.length, To = set.observeSteps, B = rows.length;
  const out = new Float64Array(To * B);
  for (let k = 0; k < To; k++) rows.forEach((r, b) => { out[k * B + b] = set.mask[r * T + k] as number; });
  return { shape: [To, B, 1], data: out };
};
