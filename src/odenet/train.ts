/**
 * Training and scoring of the MNIST classifiers: seeded epoch-wise minibatches, Adam (or any
 * optimizer of src/train/optimizers.ts) with a learning-rate schedule, one log record per
 * iteration, the test error at the end of every epoch. Deterministic in its seed.
 */
import * as E from 'fp-ts/lib/Either.js';
import { initParams, type ParamValues } from '../dsl/params.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { seedRng } from '../random/prng.ts';
import { formatBatchError, initShuffler, nextBatch } from '../train/batches.ts';
import { formatOptimizerError, initOptimizer, step, type OptimizerConfig } from '../train/optimizers.ts';
import type { IterationLog } from '../train/progress.ts';
import { lrAt, type Schedule } from '../train/schedules.ts';
import { batchOf, type Digits } from './mnist.ts';
import type { Classifier } from './models.ts';

/**
 * The fraction of misclassified images (argmax of the logits), evaluated in chunks, and the mean
 * forward evaluations per chunk.
 * @example testError(m, params, split.test) // right({ error: 0.031, nfe: 26 })
 */
export const testError = (m: Classifier, params: ParamValues, d: Digits, chunk = 250): E.Either<string, { readonly error: number; readonly nfe: number }> => {
  let wrong = 0, nfe = 0, chunks = 0;
  for (let start = 0; start < d.n; start += chunk) {
    const rows = Array.from({ length: Math.min(chunk, d.n - start) }, (_, i) => start + i);
    const r = m.logits(params, batchOf(d, rows).images);
    if (E.isLeft(r)) return r;
    nfe += r.right.nfe;
    chunks++;
    const l: F64Tensor = r.right.logits;
    rows.forEach((row, i) => {
      let best = 0;
      for (let c = 1; c < 10; c++) if ((l.data[i * 10 + c] as number) > (l.data[i * 10 + best] as number)) best = c;
      if (best !== d.labels[row]) wrong++;
    });
  }
  return E.right({ error: wrong / d.n, nfe: nfe / Math.max(1, chunks) });
};

/** Options of `trainClassifier`. */
export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  /** Default Adam, lr 3e-3. */
  readonly optimizer?: OptimizerConfig;
  /** Default constant. */
  readonly schedule?: Schedule;
  readonly seed: number;
  /** Called after every iteration. */
  readonly onLog?: (entry: IterationLog) => void;
  /** Called after every epoch with its test error. */
  readonly onEpoch?: (epoch: number, error: number) => void;
}

/** Trained parameters, the iteration log and the test error after each epoch. */
export interface TrainResult {
  readonly params: ParamValues;
  readonly logs: readonly IterationLog[];
  readonly epochErrors: readonly number[];
}

/**
 * Trains a classifier from seeded initial parameters on `train`, scoring on `test` after every epoch.
 * @example trainClassifier(m, split.train, split.test, { epochs: 1, batchSize: 32, seed: 0 }) // right({ params, logs, epochErrors })
 */
export const trainClassifier = (m: Classifier, train: Digits, test: Digits, o: TrainOptions): E.Either<string, TrainResult> => {
  const opt = o.optimizer ?? { kind: 'adam', lr: 3e-3 };
  const base = opt.lr ?? 1e-3;
  const sh0 = initShuffler(seedRng(o.seed, 'minibatches'), train.n, Math.min(o.batchSize, train.n), { dropLast: true });
  if (E.isLeft(sh0)) return E.left(formatBatchError(sh0.left));
  const perEpoch = Math.floor(train.n / Math.min(o.batchSize, train.n));
  const total = perEpoch * o.epochs;
  let sh = sh0.right, params = initParams(m.params, o.seed), state = initOptimizer(opt, params);
  const logs: IterationLog[] = [], epochErrors: number[] = [];
  for (let it = 1; it <= total; it++) {
    const t0 = performance.now();
    const b = nextBatch(sh);
    sh = b.shuffler;
    const r = m.step(params, batchOf(train, b.indices));
    if (E.isLeft(r)) return E.left(`${m.kind}, iteration ${it}: ${r.left}`);
    if (!Number.isFinite(r.right.loss)) return E.left(`${m.kind}, iteration ${it}: the loss is ${r.right.loss}`);
    const lr = lrAt(o.schedule ?? { kind: 'constant' }, base, it - 1);
    const s = step(opt, state, params, r.right.grads, lr);
    if (E.isLeft(s)) return E.left(`${m.kind}, iteration ${it}: ${formatOptimizerError(s.left)}`);
    params = s.right.params;
    state = s.right.state;
    const entry: IterationLog = {
      iteration: it, loss: r.right.loss, nfeForward: r.right.nfeForward, nfeBackward: r.right.nfeBackward,
      timeMs: performance.now() - t0, lr, gradNorm: NaN,
    };
    logs.push(entry);
    o.onLog?.(entry);
    if (it % perEpoch === 0) {
      const e = testError(m, params, test);
      if (E.isLeft(e)) return e;
      epochErrors.push(e.right.error);
      o.onEpoch?.(it / perEpoch, e.right.error);
    }
  }
  return E.right({ params, logs, epochErrors });
};
