/**
 * The training loop around a `Trainer`: steps until the iteration budget, reports progress,
 * writes checkpoints atomically every N iterations and at the end. When a step fails (a solve,
 * a NaN loss) the loop stops, writes the last good state, and returns the error with it.
 */
import * as E from 'fp-ts/lib/Either.js';
import { saveCheckpoint, formatCheckpointError, type Checkpoint, type Json, type Metrics } from './checkpoint.ts';
import type { IterationLog } from './progress.ts';
import type { Trainer, TrainerState } from './trainer.ts';
import type { TrainError } from './trainError.ts';

/** Options of `runTraining`. */
export interface RunOptions {
  /** Where checkpoints go (written atomically); none when absent. */
  readonly checkpointPath?: string;
  /** Checkpoint every N iterations (default 100). */
  readonly checkpointEvery?: number;
  /** Called after every iteration. */
  readonly onLog?: (log: IterationLog) => void;
  /** Stored in each checkpoint (options, spec, …). */
  readonly config: Json;
  /** Stop early when this returns true (e.g. after SIGINT); the state is checkpointed. */
  readonly shouldStop?: () => boolean;
  /** Logs of earlier segments of a resumed run, kept in the checkpoint's metrics. */
  readonly previousLogs?: readonly IterationLog[];
}

/** How a run ended. */
export interface RunResult {
  readonly state: TrainerState;
  readonly logs: readonly IterationLog[];
  readonly error?: TrainError | { readonly _tag: 'Checkpoint'; readonly message: string };
  readonly stopped: boolean;
}

/** The checkpoint of a state. @example toCheckpoint(state, config, metrics) */
export const toCheckpoint = (s: TrainerState, config: Json, metrics?: Metrics): Checkpoint => ({
  version: 1, iteration: s.iteration, params: s.params, optimizer: s.opt, rng: s.rng, config,
  ...(metrics === undefined ? {} : { metrics }),
});

/** The state stored in a checkpoint. @example fromCheckpoint(ckpt) */
export const fromCheckpoint = (c: Checkpoint): TrainerState => ({ iteration: c.iteration, params: c.params, opt: c.optimizer, rng: c.rng });

const metricsOf = (logs: readonly IterationLog[]): Metrics => ({
  loss: logs.map((l) => l.loss),
  nfeForward: logs.map((l) => l.nfeForward),
  nfeBackward: logs.map((l) => l.nfeBackward),
});

/**
 * Trains from `s0` until `trainer.options.iterations`.
 * @example const r = await runTraining(trainer, trainer.init(), { config: {}, checkpointPath: 'out/checkpoint.json' })
 */
export const runTraining = async (trainer: Pick<Trainer, 'options' | 'step'>, s0: TrainerState, o: RunOptions): Promise<RunResult> => {
  const every = o.checkpointEvery ?? 100;
  const logs: IterationLog[] = [];
  let state = s0;
  const save = async (s: TrainerState): Promise<string | undefined> => {
    if (o.checkpointPath === undefined) return undefined;
    const r = await saveCheckpoint(o.checkpointPath, toCheckpoint(s, o.config, metricsOf([...(o.previousLogs ?? []), ...logs])));
    return E.isLeft(r) ? formatCheckpointError(r.left) : undefined;
  };
  while (state.iteration < trainer.options.iterations) {
    if (o.shouldStop?.() === true) {
      const err = await save(state);
      return err === undefined ? { state, logs, stopped: true } : { state, logs, stopped: true, error: { _tag: 'Checkpoint', message: err } };
    }
    const r = trainer.step(state);
    if (E.isLeft(r)) {
      await save(state);
      return { state, logs, error: r.left, stopped: true };
    }
    state = r.right.state;
    logs.push(r.right.log);
    o.onLog?.(r.right.log);
    if (state.iteration % every === 0 || state.iteration === trainer.options.iterations) {
      const err = await save(state);
      if (err !== undefined) return { state, logs, stopped: true, error: { _tag: 'Checkpoint', message: err } };
    }
    // Let signal handlers and I/O run between iterations.
    if (state.iteration % 10 === 0) await new Promise<void>((res) => setImmediate(res));
  }
  return { state, logs, stopped: false };
};
