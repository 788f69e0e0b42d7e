/**
 * Maximum-likelihood training of a continuous normalizing flow.
 *
 * Convention (the one of `density.ts`): data `x` at `t0`, base `N(0, I)` at `t1`. The packed state
 * starts at `[x, 0]` at `t0` and is integrated to `t1`, so with `ts = [t0, t1]` the prediction is
 * `[y(t0), y(t1)]: [2, B, D + 1]` and the loss is
 *
 *   L = −mean_b log p(x_b) = mean_b [ ½‖z_b(t1)‖² + (D/2) log 2π + Δlogp_b(t1) ],
 *
 * one scalar expression over the prediction, differentiated by the gradient API (`prepareGradient`,
 * adjoint on float64 by default). Each iteration draws a fresh minibatch and, for Hutchinson's
 * estimator, a fresh probe — fixed for the whole solve, forwards and backwards, as an input of the
 * dynamics — both from one seeded generator, so a run is reproducible from its seed.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../dsl/expr.ts';
import { makeLoss, type Loss } from '../dsl/model.ts';
import type { ParamValues } from '../dsl/params.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { prepareGradient, formatGradientError, type GradientConfig, type GradientError, type SolverOptions } from '../adjoint/gradients/index.ts';
import { seedRng, type RngState } from '../random/prng.ts';
import type { SolveError } from '../solvers/errors.ts';
import { clipGradNorm, globalNorm } from '../train/clip.ts';
import { formatOptimizerError, initOptimizer, step, type AdamConfig, type OptimizerError } from '../train/optimizers.ts';
import { lrAt, type Schedule } from '../train/schedules.ts';
import type { Cnf } from './cnf.ts';
import { drawNoise } from './field.ts';

/** A minibatch source: `n` data rows `[n, D]` and the generator state after them. */
export type DataSource = (n: number, rng: RngState) => readonly [F64Tensor, RngState];

/** Options of `trainCnf`. */
export interface TrainCnfOptions {
  /** Initial parameter values of the flow's dynamics. */
  readonly init: ParamValues;
  /** Minibatches are drawn from here, a fresh one per iteration. */
  readonly data: DataSource;
  readonly iterations: number;
  readonly batchSize: number;
  /** Seeds the minibatch and probe draws. */
  readonly seed: number;
  /** Forward (and, unless the method sets its own, backward) solver settings. */
  readonly solver: SolverOptions;
  /** Default: the adjoint on float64 (generated kernels). */
  readonly method?: GradientConfig;
  /** Default: Adam with lr 1e-3. */
  readonly optimizer?: AdamConfig;
  /** Learning-rate schedule over iterations (default constant). */
  readonly schedule?: Schedule;
  /** Clip the global gradient norm to this value (default: no clipping). */
  readonly clipNorm?: number;
  /** Data time (default 0). */
  readonly t0?: number;
  /** Base time (default 1). */
  readonly t1?: number;
  /** Called after every iteration (progress reporting). */
  readonly onIteration?: (log: CnfIterationLog) => void;
}

/** One training iteration. */
export interface CnfIterationLog {
  readonly iteration: number;
  /** The minibatch's negative log-likelihood in nats (before this iteration's step). */
  readonly loss: number;
  readonly nfeForward: number;
  readonly nfeBackward: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  readonly lr: number;
  readonly timeMs: number;
}

/** What training returns. */
export interface TrainCnfResult {
  readonly params: ParamValues;
  readonly history: readonly CnfIterationLog[];
  readonly nfe: { readonly forward: number; readonly backward: number; readonly meanForward: number; readonly meanBackward: number };
  /** The generator state after the last draw (to continue a run). */
  readonly rng: RngState;
}

/** Why training stopped early or could not start. */
export type TrainCnfError =
  | { readonly _tag: 'InvalidOptions'; readonly reason: string }
  | { readonly _tag: 'GradientFailed'; readonly iteration: number; readonly error: GradientError }
  | { readonly _tag: 'NonFiniteLoss'; readonly iteration: number; readonly loss: number; readonly gradNorm: number }
  | { readonly _tag: 'OptimizerFailed'; readonly iteration: number; readonly error: OptimizerError };

/**
 * A one-line message for a training failure (solver failures keep the time `t` where they failed).
 * @example formatTrainCnfError({ _tag: 'InvalidOptions', reason: 'batchSize must be ≥ 1' }) // 'cnf training: batchSize must be ≥ 1'
 */
export const formatTrainCnfError = (e: TrainCnfError): string => {
  switch (e._tag) {
    case 'InvalidOptions': return `cnf training: ${e.reason}`;
    case 'GradientFailed': return `cnf training, iteration ${e.iteration}: ${formatGradientError(e.error)}`;
    case 'NonFiniteLoss': return `cnf training, iteration ${e.iteration}: non-finite loss ${e.loss} (gradient norm ${e.gradNorm}); lower the learning rate or clip gradients`;
    case 'OptimizerFailed': return `cnf training, iteration ${e.iteration}: ${formatOptimizerError(e.error)}`;
  }
};

/**
 * The solver failure inside a training error, if any (its `t` says where the solve failed).
 * @example const se = solveErrorOf(r.left); if (se !== undefined) console.error(formatSolveError(se))
 */
export const solveErrorOf = (e: TrainCnfError): SolveError | undefined =>
  e._tag === 'GradientFailed' && e.error._tag === 'SolveFailed' ? e.error.error : undefined;

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * The negative mean log-likelihood as a loss over the prediction `[2, B, D + 1]` of a flow solved
 * from data (`ts = [t0, t1]`): `mean_b [½‖z_b(t1)‖² + (D/2) log 2π + Δlogp_b(t1)]`.
 * @example const loss = cnfNllLoss(flow) // loss.prediction: [2, batch, 3]
 */
export const cnfNllLoss = (flow: Cnf): E.Either<string, Loss> => {
  const [m] = flow.augmented.state.shape;
  if (m === undefined) return E.left('cnf loss: the packed state has no batch axis');
  const d = flow.dim;
  const yhat = X.variable(`${flow.packed.name}_pred`, 'input', [2, m, d + 1] as const);
  const last = X.reshape(X.slice(yhat, [1, 0, 0], [1, m, d + 1] as const), [m, d + 1] as const);
  const z = X.slice(last, [0, 0], [m, d] as const);
  const dl = X.reshape(X.slice(last, [0, d], [m, 1] as const), [m] as const);
  const perRow = X.add(X.add(X.mul(X.scalar(0.5), X.sumAxis(X.square(z), 1)), X.scalar(0.5 * d * LOG_2PI)), dl);
  return E.mapLeft((e: string) => `cnf loss: ${e}`)(makeLoss({ prediction: yhat, value: X.mean(perRow) }));
};

/** `[x, 0]` rows: the packed initial state of a density solve. */
const packData = (x: F64Tensor, d: number): F64Tensor => {
  const n = x.shape[0] ?? 0;
  const y = new Float64Array(n * (d + 1));
  for (let b = 0; b < n; b++) y.set(x.data.subarray(b * d, (b + 1) * d), b * (d + 1));
  return { shape: [n, d + 1], data: y };
};

const checkOptions = (flow: Cnf, o: TrainCnfOptions): string | undefined => {
  if (!Number.isSafeInteger(o.iterations) || o.iterations < 0) return `iterations must be an integer ≥ 0, got ${o.iterations}`;
  if (!Number.isSafeInteger(o.batchSize) || o.batchSize < 1) return `batchSize must be an integer ≥ 1, got ${o.batchSize}`;
  if (o.clipNorm !== undefined && !(o.clipNorm > 0)) return `clipNorm must be > 0, got ${o.clipNorm}`;
  if ((o.t0 ?? 0) === (o.t1 ?? 1)) return 't0 and t1 must differ';
  for (const p of flow.augmented.params) if (o.init[p.name] === undefined) return `init has no value for parameter ${p.name}`;
  return undefined;
};

/**
 * Trains a flow by maximum likelihood: per iteration a seeded minibatch (and probe), the gradient
 * of the minibatch NLL, optional clipping, one Adam step.
 * @example
 * const r = trainCnf(flow, { init: initParams(flow.base.params, 0), data: (n, rng) => toy2d('moons', n, rng),
 *   iterations: 300, batchSize: 256, seed: 0, solver: { method: dopri5, rtol: 1e-5, atol: 1e-5 }, optimizer: { kind: 'adam', lr: 1e-2 } });
 * // right({ params, history, nfe, rng })
 */
export const trainCnf = (flow: Cnf, o: TrainCnfOptions): E.Either<TrainCnfError, TrainCnfResult> => {
  const bad = checkOptions(flow, o);
  if (bad !== undefined) return E.left({ _tag: 'InvalidOptions', reason: bad });
  const loss = cnfNllLoss(flow);
  if (E.isLeft(loss)) return E.left({ _tag: 'InvalidOptions', reason: loss.left });
  const grad = prepareGradient({ dynamics: flow.augmented, loss: loss.right }, o.method ?? { method: 'adjoint' });
  if (E.isLeft(grad)) return E.left({ _tag: 'GradientFailed', iteration: 0, error: grad.left });
  const opt: AdamConfig = o.optimizer ?? { kind: 'adam', lr: 1e-3 };
  const schedule: Schedule = o.schedule ?? { kind: 'constant' };
  const names = new Set(flow.augmented.params.map((p) => p.name));
  let params: ParamValues = Object.fromEntries(Object.entries(o.init).filter(([k]) => names.has(k)));
  let state = initOptimizer(opt, params);
  let rng = seedRng(o.seed, 'cnf-train');
  const ts = [o.t0 ?? 0, o.t1 ?? 1];
  const d = flow.dim;
  const history: CnfIterationLog[] = [];
  let fwd = 0, bwd = 0;
  for (let it = 1; it <= o.iterations; it++) {
    const started = performance.now();
    const [x, r1] = o.data(o.batchSize, rng);
    rng = r1;
    if (x.shape.length !== 2 || x.shape[0] !== o.batchSize || x.shape[1] !== d || x.data.length !== o.batchSize * d)
      return E.left({ _tag: 'InvalidOptions', reason: `iteration ${it}: the data source gave shape [${x.shape.join(',')}], expected [${o.batchSize}, ${d}]` });
    let inputs: Readonly<Record<string, F64Tensor>> = {};
    if (flow.probe !== undefined) {
      const [v, r2] = drawNoise(flow.probe.kind, o.batchSize, d, rng);
      rng = r2;
      inputs = { [flow.probe.variable.name]: v };
    }
    const g = grad.right({ params, z0: packData(x, d), ts, dynamicsInputs: inputs, solver: o.solver });
    if (E.isLeft(g)) return E.left({ _tag: 'GradientFailed', iteration: it, error: g.left });
    const { loss: l, dparams, stats } = g.right;
    const grads: ParamValues = Object.fromEntries(Object.entries(dparams).filter(([k]) => names.has(k)));
    const clipped = o.clipNorm === undefined ? { grads, norm: globalNorm(grads) } : clipGradNorm(grads, o.clipNorm);
    if (!Number.isFinite(l) || !Number.isFinite(clipped.norm)) return E.left({ _tag: 'NonFiniteLoss', iteration: it, loss: l, gradNorm: clipped.norm });
    const lr = lrAt(schedule, opt.lr ?? 1e-3, it - 1);
    const s = step(opt, state, params, clipped.grads, lr);
    if (E.isLeft(s)) return E.left({ _tag: 'OptimizerFailed', iteration: it, error: s.left });
    params = s.right.params;
    state = s.right.state;
    fwd += stats.nfeForward;
    bwd += stats.nfeBackward;
    const entry: CnfIterationLog = {
      iteration: it, loss: l, nfeForward: stats.nfeForward, nfeBackward: stats.nfeBackward, gradNorm: clipped.norm, lr,
      timeMs: performance.now() - started,
    };
    history.push(entry);
    o.onIteration?.(entry);
  }
  const n = Math.max(1, o.iterations);
  return E.right({ params, history, nfe: { forward: fwd, backward: bwd, meanForward: fwd / n, meanBackward: bwd / n }, rng });
};
