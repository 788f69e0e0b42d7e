/**
 * A whole training run as users start it from the CLI (`fluxion train`, `npm run demo`): compile
 * the trainer, start fresh or resume from `out/checkpoint.json`, show progress, checkpoint, and
 * write the report (plots, adjoint system, summary). Options are stored in the checkpoint, so a
 * resumed run continues exactly as the uninterrupted one would have.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import type { Trajectory } from '../data/trajectory.ts';
import { methodByName, type Method } from '../solvers/index.ts';
import { formatCheckpointError, loadCheckpoint, type Json } from './checkpoint.ts';
import { gradientFn } from './gradients.ts';
import type { OptimizerConfig } from './optimizers.ts';
import { progress } from './progress.ts';
import { writeReport } from './report.ts';
import { fromCheckpoint, runTraining } from './run.ts';
import type { Schedule } from './schedules.ts';
import { compileTrainer, type TrainerState } from './trainer.ts';
import { formatTrainError } from './trainError.ts';
import { formatBackendError, selectBackend } from '../interp/backend.ts';
import type { IterationLog } from './progress.ts';

/** Everything that defines a run (stored in checkpoints as JSON). */
export interface RunConfig {
  readonly method: string;
  readonly rtol: number;
  readonly atol: number;
  readonly seminorm: boolean;
  /** 'adjoint' (backsolve), 'backprop' (through the solver) or 'tfjs-autodiff'. Default adjoint. */
  readonly grad?: 'adjoint' | 'backprop' | 'tfjs-autodiff';
  /** Where adjoint/backprop run: the float64 generated kernel (default) or TensorFlow.js (float32). */
  readonly backend?: 'kernel' | 'tfjs';
  readonly optimizer: OptimizerConfig;
  readonly schedule: Schedule;
  readonly clip?: { readonly maxNorm: number };
  readonly batchSize: number;
  readonly batchTime: number;
  readonly iterations: number;
  readonly seed: number;
}

/** Options of a session besides the run config. */
export interface SessionOptions {
  readonly out: string;
  readonly resume: boolean;
  readonly checkpointEvery: number;
  readonly logFile?: string;
  readonly quiet?: boolean;
  /** Show a progress bar (default: when stderr is a terminal). */
  readonly tty?: boolean;
}

/** The outcome a user reads. */
export interface SessionResult {
  readonly iterations: number;
  readonly finalLoss?: number;
  readonly mae?: number;
  readonly seconds: number;
  readonly files: readonly string[];
  readonly warnings: readonly string[];
}

const paramSignature = (m: Model): string => m.params.map((p) => `${p.name}[${p.shape.join(',')}]`).join(' ');

/**
 * Runs (or resumes) a training session. Every failure is one line of text.
 * @example await trainSession(model, data, config, { out: 'out', resume: false, checkpointEvery: 100 })
 */
export const trainSession = async (model: Model, data: Trajectory, config: RunConfig, o: SessionOptions): Promise<E.Either<string, SessionResult>> => {
  const started = performance.now();
  await mkdir(o.out, { recursive: true });
  const ckptPath = join(o.out, 'checkpoint.json');
  let cfg = config;
  let initial: TrainerState | undefined;
  let previous: IterationLog[] = [];
  if (o.resume) {
    const c = await loadCheckpoint(ckptPath);
    if (E.isLeft(c)) return E.left(`--resume: ${formatCheckpointError(c.left)}`);
    const stored = c.right.config as unknown as { run?: RunConfig; params?: string };
    if (stored.run === undefined || stored.params !== paramSignature(model))
      return E.left(`--resume: ${ckptPath} was written for another model (parameters ${stored.params ?? '?'}, this model has ${paramSignature(model)})`);
    // The stored run config wins, so the continuation is exact; only the budget may grow.
    cfg = { ...stored.run, iterations: Math.max(stored.run.iterations, config.iterations) };
    initial = fromCheckpoint(c.right);
    const m = c.right.metrics;
    const arr = (k: string): readonly number[] => { const v = m?.[k]; return Array.isArray(v) ? v : []; };
    previous = arr('loss').map((loss, i) => ({ iteration: i + 1, loss, nfeForward: arr('nfeForward')[i] ?? 0, nfeBackward: arr('nfeBackward')[i] ?? 0, timeMs: 0, lr: 0, gradNorm: 0 }));
  }
  const method = methodByName(cfg.method);
  if (E.isLeft(method)) return E.left(`method ${cfg.method} is not a solver method`);
  const solver = { method: method.right as Method, rtol: cfg.rtol, atol: cfg.atol };
  const on = cfg.backend === 'tfjs' ? { backend: 'tfjs' } as const : { backend: 'float64' } as const;
  const gradConfig = cfg.grad === 'backprop' ? { method: 'backprop', on } as const
    : cfg.grad === 'tfjs-autodiff' ? { method: 'tfjs-autodiff' } as const
    : { method: 'adjoint', seminorm: cfg.seminorm, on } as const;
  let backendName = 'float64 kernel';
  if (cfg.backend === 'tfjs' || cfg.grad === 'tfjs-autodiff') {
    const b = await selectBackend();
    if (E.isLeft(b)) return E.left(formatBackendError(b.left));
    backendName = `tfjs ${b.right.name} (float32)`;
  }
  const g = gradientFn(model, { config: gradConfig, solver });
  if (E.isLeft(g)) return E.left(formatTrainError(g.left));
  const trainer = compileTrainer(model, data, {
    solver, optimizer: cfg.optimizer, schedule: cfg.schedule, ...(cfg.clip === undefined ? {} : { clip: cfg.clip }),
    batchSize: cfg.batchSize, batchTime: cfg.batchTime, iterations: cfg.iterations, seed: cfg.seed,
  }, g.right);
  if (E.isLeft(trainer)) return E.left(formatTrainError(trainer.left));
  const s0 = initial ?? trainer.right.init();
  const bar = progress({ total: cfg.iterations, start: s0.iteration, ...(o.tty === undefined ? {} : { tty: o.tty }), ...(o.logFile === undefined ? {} : { logFile: o.logFile }), ...(o.quiet === undefined ? {} : { quiet: o.quiet }) });
  let interrupted = false;
  const onSigint = (): void => { interrupted = true; };
  process.once('SIGINT', onSigint);
  const stored: Json = { run: cfg as unknown as Json, params: paramSignature(model), model: model.name };
  const r = await runTraining(trainer.right, s0, { config: stored, checkpointPath: ckptPath, checkpointEvery: o.checkpointEvery, onLog: bar.log, shouldStop: () => interrupted, previousLogs: previous });
  process.removeListener('SIGINT', onSigint);
  bar.close();
  const logs = [...previous, ...r.logs];
  const report = await writeReport(o.out, model, r.state.params, data, logs, solver, {
    iterations: r.state.iteration, gradient: cfg.grad ?? 'adjoint', backend: backendName, method: cfg.method, rtol: cfg.rtol, atol: cfg.atol, optimizer: cfg.optimizer, batchSize: cfg.batchSize, batchTime: cfg.batchTime,
    finalLoss: logs.at(-1)?.loss ?? null, nfeForward: logs.at(-1)?.nfeForward ?? null, nfeBackward: logs.at(-1)?.nfeBackward ?? null,
  });
  if (r.error !== undefined) {
    const msg = r.error._tag === 'Checkpoint' ? `checkpoint: ${r.error.message}` : formatTrainError(r.error);
    return E.left(`${msg} (last good state, iteration ${r.state.iteration}, kept in ${ckptPath})`);
  }
  const last = logs.at(-1);
  return E.right({
    iterations: r.state.iteration,
    ...(last === undefined ? {} : { finalLoss: last.loss }),
    ...(report.mae === undefined ? {} : { mae: report.mae }),
    seconds: (performance.now() - started) / 1000,
    files: report.files,
    warnings: interrupted ? [...report.warnings, `interrupted at iteration ${r.state.iteration}; resume with --resume`] : report.warnings,
  });
};
