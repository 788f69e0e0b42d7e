/**
 * `compileTrainer`: a model, trajectory data and options give a trainer value. Training state is
 * an immutable value (iteration, parameters, optimizer state, generator state); `step` maps one
 * state to the next, so a checkpoint is just the state, and the same seed gives bit-identical runs
 * on the Float64 path. The gradient itself comes from a `GradientFn` (adjoint, backprop, …).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import type { ParamValues } from '../dsl/params.ts';
import type { Trajectory } from '../data/trajectory.ts';
import { seedRng, type RngState } from '../random/prng.ts';
import { sampleBatch } from './batches.ts';
import { clipGradNorm, clipGradValue, globalNorm } from './clip.ts';
import { baseLr, formatOptimizerError, initOptimizer, step as optStep, type OptimizerConfig, type OptState } from './optimizers.ts';
import { lrAt, type Schedule } from './schedules.ts';
import type { IterationLog } from './progress.ts';
import { fullTrajectory, windowsAt, type WindowBatch } from './windows.ts';
import { lossOn, predict, type SolverSettings } from './predict.ts';
import { gradientFn } from './gradients.ts';
import { runTraining, toCheckpoint, type RunOptions, type RunResult } from './run.ts';
import { formatCheckpointError, saveCheckpoint, type Json } from './checkpoint.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { formatTrainError, type TrainError } from './trainError.ts';

/** What one gradient evaluation returns. */
export interface GradientOutput {
  readonly loss: number;
  readonly grads: ParamValues;
  readonly nfeForward: number;
  readonly nfeBackward: number;
}

/** The gradient of the batch loss at `params`; `Left` keeps the failing solve. */
export type GradientFn = (params: ParamValues, batch: WindowBatch) => E.Either<TrainError, GradientOutput>;

/** Batch-independent training options. */
export interface TrainOptions {
  /** The solver for forward solves (the adjoint uses it backwards too unless the gradient says otherwise). */
  readonly solver: SolverSettings;
  readonly optimizer: OptimizerConfig;
  readonly schedule?: Schedule;
  /** Clip the gradient by global 2-norm, or each component by value. */
  readonly clip?: { readonly maxNorm: number } | { readonly maxValue: number };
  readonly batchSize: number;
  /** Points per window (torchdiffeq's `batch_time`). */
  readonly batchTime: number;
  readonly iterations: number;
  readonly seed: number;
}

/** Everything that changes from one iteration to the next. */
export interface TrainerState {
  readonly iteration: number;
  readonly params: ParamValues;
  readonly opt: OptState;
  readonly rng: RngState;
}

/** The model's performance on the whole trajectory. */
export interface Evaluation {
  /** The model's loss on the whole trajectory (one window from the first point). */
  readonly loss: number;
  /** Mean absolute error of the prediction. */
  readonly mae: number;
  readonly prediction: F64Tensor;
}

/** A trainer: pure functions over `TrainerState`. */
export interface Trainer {
  readonly options: TrainOptions;
  readonly init: () => TrainerState;
  /** One optimizer step on a freshly drawn batch. */
  readonly step: (s: TrainerState) => E.Either<TrainError, { readonly state: TrainerState; readonly log: IterationLog }>;
  /** Steps until `options.iterations`, with checkpoints and progress (see `runTraining`). */
  readonly run: (s: TrainerState, o?: Partial<RunOptions>) => Promise<RunResult>;
  /** Loss and mean absolute error of a prediction of the whole trajectory from its first point. */
  readonly evaluate: (s: TrainerState) => E.Either<TrainError, Evaluation>;
  /** Writes the state as a checkpoint, atomically. */
  readonly save: (s: TrainerState, path: string, config?: Json) => Promise<E.Either<string, void>>;
}

/**
 * Builds a trainer. Checks the options against the data (window length, batch size). The
 * gradient defaults to the adjoint method with the options' solver.
 * @example
 * const tr = compileTrainer(model, traj, { solver: { method: dopri5, rtol: 1e-7, atol: 1e-9 }, optimizer: { kind: 'adam', lr: 3e-3 }, batchSize: 20, batchTime: 10, iterations: 2000, seed: 0 });
 * if (E.isRight(tr)) { const s = tr.right.init(); const r = await tr.right.run(s); tr.right.evaluate(r.state) }
 */
export const compileTrainer = (model: Model, data: Trajectory, options: TrainOptions, gradientOverride?: GradientFn): E.Either<TrainError, Trainer> => {
  const gradientE = gradientOverride === undefined ? gradientFn(model, { config: { method: 'adjoint', seminorm: true }, solver: options.solver }) : E.right(gradientOverride);
  if (E.isLeft(gradientE)) return gradientE;
  const gradient = gradientE.right;
  const n = data.t.length;
  if (!Number.isInteger(options.batchTime) || options.batchTime < 2 || options.batchTime > n)
    return E.left({ _tag: 'InvalidOptions', option: 'batchTime', reason: `must be an integer in [2, ${n}] (the data has ${n} points), got ${options.batchTime}` });
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > n - options.batchTime + 1)
    return E.left({ _tag: 'InvalidOptions', option: 'batchSize', reason: `must be an integer in [1, ${n - options.batchTime + 1}], got ${options.batchSize}` });
  if (!Number.isInteger(options.iterations) || options.iterations < 0)
    return E.left({ _tag: 'InvalidOptions', option: 'iterations', reason: `must be an integer ≥ 0, got ${options.iterations}` });
  const lr0 = baseLr(options.optimizer);
  const init = (): TrainerState => ({
    iteration: 0,
    params: model.values,
    opt: initOptimizer(options.optimizer, model.values),
    rng: seedRng(options.seed, 'batches'),
  });
  const step = (s: TrainerState): E.Either<TrainError, { state: TrainerState; log: IterationLog }> => {
    const iteration = s.iteration + 1;
    const started = performance.now();
    // torchdiffeq: np.random.choice(data_size - batch_time, batch_size, replace=False)
    const drawn = sampleBatch(s.rng, n - options.batchTime, options.batchSize, { replace: false });
    if (E.isLeft(drawn)) return E.left({ _tag: 'InvalidOptions', option: 'batchSize', reason: drawn.left.reason });
    const batch = windowsAt(data, drawn.right.indices, options.batchTime);
    const g = gradient(s.params, batch);
    if (E.isLeft(g)) return E.left(withIteration(g.left, iteration));
    const { loss, nfeForward, nfeBackward } = g.right;
    if (!Number.isFinite(loss)) return E.left({ _tag: 'NonFiniteLoss', iteration, loss });
    const norm = globalNorm(g.right.grads);
    if (!Number.isFinite(norm)) return E.left({ _tag: 'NonFiniteGradient', iteration, norm });
    const clip = options.clip;
    const grads = clip === undefined ? g.right.grads : 'maxNorm' in clip ? clipGradNorm(g.right.grads, clip.maxNorm).grads : clipGradValue(g.right.grads, clip.maxValue).grads;
    const lr = lrAt(options.schedule ?? { kind: 'constant' }, lr0, s.iteration);
    const next = optStep(options.optimizer, s.opt, s.params, grads, lr);
    if (E.isLeft(next)) return E.left({ _tag: 'Optimizer', iteration, message: formatOptimizerError(next.left) });
    const state: TrainerState = { iteration, params: next.right.params, opt: next.right.state, rng: drawn.right.rng };
    return E.right({ state, log: { iteration, loss, nfeForward, nfeBackward, timeMs: performance.now() - started, lr, gradNorm: norm } });
  };
  const trainer: Trainer = {
    options, init, step,
    run: (s, o = {}) => runTraining(trainer, s, { config: o.config ?? null, ...o }),
    evaluate: (s) => {
      const full = fullTrajectory(data);
      const p = predict(model, s.params, full.z0, full.ts, options.solver);
      if (E.isLeft(p)) return p;
      const l = lossOn(model, s.params, p.right.trajectory, full.target);
      if (E.isLeft(l)) return l;
      let acc = 0;
      p.right.trajectory.data.forEach((v, i) => { acc += Math.abs(v - (full.target.data[i] as number)); });
      return E.right({ loss: l.right, mae: acc / full.target.data.length, prediction: p.right.trajectory });
    },
    save: async (s, path, config = null) => {
      const r = await saveCheckpoint(path, toCheckpoint(s, config));
      return E.isLeft(r) ? E.left(formatCheckpointError(r.left)) : E.right(undefined);
    },
  };
  return E.right(trainer);
};

const withIteration = (e: TrainError, iteration: number): TrainError =>
  e._tag === 'SolveFailed' ? { ...e, iteration } : e;

export { formatTrainError, type TrainError };
