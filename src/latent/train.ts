/**
 * Training of the latent ODE (reparameterised negative ELBO, gradient by `latentStep`) and of
 * the RNN baseline (its NLL, gradient by `rnnStep`) with one loop: seeded epoch-wise minibatches,
 * Adam (src/train/optimizers.ts) with a learning-rate schedule and optional gradient-norm
 * clipping, one log record per iteration. The loop is a function of its options and seed: the
 * same seed gives the same parameters bit for bit.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { ParamValues } from '../dsl/params.ts';
import type { AdjointConfig, SolverOptions } from '../adjoint/gradients/index.ts';
import { draw, nextNormal, seedRng, type RngState } from '../random/prng.ts';
import { formatBatchError, initShuffler, nextBatch } from '../train/batches.ts';
import { clipGradNorm, globalNorm } from '../train/clip.ts';
import { baseLr, formatOptimizerError, initOptimizer, step, type OptimizerConfig } from '../train/optimizers.ts';
import type { IterationLog } from '../train/progress.ts';
import { formatScheduleError, lrAt, validateSchedule, type Schedule } from '../train/schedules.ts';
import { latentStep, prepareLatentGradient, type LatentOde } from './latentModel.ts';
import { rnnStep, type RnnTrainable } from './rnnModel.ts';
import type { SpiralSet } from './spirals.ts';

/** Options of the training loop. */
export interface FitOptions {
  readonly iterations: number;
  readonly batchSize: number;
  /** Default Adam, lr 1e-2. */
  readonly optimizer?: OptimizerConfig;
  /** Default constant. */
  readonly schedule?: Schedule;
  /** Clip the global gradient norm to this (default: no clipping). */
  readonly clip?: number;
  readonly seed: number;
  /** Called after every iteration. */
  readonly onLog?: (entry: IterationLog) => void;
}

/** What one gradient evaluation returns to the loop. */
interface StepOut {
  readonly loss: number;
  readonly grads: ParamValues;
  readonly nfeForward: number;
  readonly nfeBackward: number;
}

/** Trained parameters and the log; `error` says why training stopped early (params: the last good ones). */
export interface FitResult {
  readonly params: ParamValues;
  readonly logs: readonly IterationLog[];
  readonly error?: string;
}

type StepFn = (params: ParamValues, rows: readonly number[], rng: RngState) => E.Either<string, readonly [StepOut, RngState]>;

const fit = (params0: ParamValues, n: number, o: FitOptions, stepFn: StepFn): FitResult => {
  const opt = o.optimizer ?? { kind: 'adam', lr: 1e-2 };
  const base = baseLr(opt);
  if (!Number.isSafeInteger(o.iterations) || o.iterations < 0) return { params: params0, logs: [], error: `iterations must be an integer ≥ 0, got ${o.iterations}` };
  const schedule = validateSchedule(o.schedule ?? { kind: 'constant' });
  if (E.isLeft(schedule)) return { params: params0, logs: [], error: formatScheduleError(schedule.left) };
  const sh0 = initShuffler(seedRng(o.seed, 'minibatches'), n, Math.min(o.batchSize, n), { dropLast: true });
  if (E.isLeft(sh0)) return { params: params0, logs: [], error: formatBatchError(sh0.left) };
  let sh = sh0.right, rng = seedRng(o.seed, 'reparameterisation'), params = params0, state = initOptimizer(opt, params0);
  const logs: IterationLog[] = [];
  for (let it = 1; it <= o.iterations; it++) {
    const t0 = performance.now();
    const b = nextBatch(sh);
    sh = b.shuffler;
    const r = stepFn(params, b.indices, rng);
    if (E.isLeft(r)) return { params, logs, error: `iteration ${it}: ${r.left}` };
    const [out, rng1] = r.right;
    rng = rng1;
    if (!Number.isFinite(out.loss)) return { params, logs, error: `iteration ${it}: the loss is ${out.loss}` };
    const clipped = o.clip === undefined ? { grads: out.grads, norm: globalNorm(out.grads) } : clipGradNorm(out.grads, o.clip);
    const lr = lrAt(schedule.right, base, it - 1);
    const s = step(opt, state, params, clipped.grads, lr);
    if (E.isLeft(s)) return { params, logs, error: `iteration ${it}: ${formatOptimizerError(s.left)}` };
    params = s.right.params;
    state = s.right.state;
    const entry = { iteration: it, loss: out.loss, nfeForward: out.nfeForward, nfeBackward: out.nfeBackward, timeMs: performance.now() - t0, lr, gradNorm: clipped.norm };
    logs.push(entry);
    o.onLog?.(entry);
  }
  return { params, logs };
};

/**
 * Trains the latent ODE on a set: per iteration a minibatch, one draw ε ~ N(0, I) per
 * trajectory, the negative ELBO's gradient, an optimizer step. Logged loss: −ELBO per trajectory.
 * @example
 * const m = latentOde({ steps: 30, observeSteps: 100, obsStd: 0.1 });
 * const r = trainLatent(m, initLatentParams(m, 0), data.train, { iterations: 200, batchSize: 50, seed: 0 }, { method: dopri5, rtol: 1e-4, atol: 1e-5 });
 */
export const trainLatent = (
  m: LatentOde, params: ParamValues, set: SpiralSet, o: FitOptions, solver: SolverOptions, adjoint?: AdjointConfig,
): FitResult => {
  const g = prepareLatentGradient(m, adjoint);
  if (E.isLeft(g)) return { params, logs: [], error: g.left };
  return fit(params, set.theta0.length, o, (p, rows, rng) => {
    const [eps, rng1] = draw(nextNormal, rng, rows.length * m.latentDim);
    return E.map((s: StepOut) => [s, rng1] as const)(latentStep(m, g.right, p, { set, rows, eps, solver }));
  });
};

/**
 * Trains the RNN baseline on a set (teacher-forced one-step NLL). Logged loss: NLL per trajectory.
 * @example const r = trainRnn(rnnTrainable({ steps: 30, obsStd: 0.1 }), params, data.train, { iterations: 200, batchSize: 50, seed: 0 })
 */
export const trainRnn = (r: RnnTrainable, params: ParamValues, set: SpiralSet, o: FitOptions): FitResult =>
  fit(params, set.theta0.length, o, (p, rows, rng) =>
    E.map((s: { readonly loss: number; readonly grads: ParamValues }) => [{ ...s, nfeForward: 0, nfeBackward: 0 }, rng] as const)(rnnStep(r, p, set, rows)));
