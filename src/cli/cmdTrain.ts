/**
 * `fluxion train SPEC.json --data DATA.json --out DIR [...]` and `fluxion demo`: train a model on
 * trajectory data with the adjoint method, checkpointing to DIR, then write plots and a summary.
 */

import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import { decodeTrajectory, type Trajectory } from '../data/trajectory.ts';
import { methodByName } from '../solvers/index.ts';
import { trainSession, type RunConfig } from '../train/session.ts';
import type { OptimizerConfig } from '../train/optimizers.ts';
import type { Command } from './command.ts';
import { fail, parse, parseNumber, type CliError, type CliResult, parseWithSpec } from './io.ts';
import { loadModelSpec, readJson } from './specFile.ts';

const options = {
  data: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  method: { type: 'string' },
  rtol: { type: 'string' },
  atol: { type: 'string' },
  grad: { type: 'string' },
  seminorm: { type: 'string' },
  backend: { type: 'string' },
  iters: { type: 'string' },
  seed: { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  'batch-size': { type: 'string' },
  'batch-time': { type: 'string' },
  clip: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  log: { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

type Values = { readonly [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'boolean' ? boolean : string };

const optimizers: Readonly<Record<string, (lr: number) => OptimizerConfig>> = {
  adam: (lr) => ({ kind: 'adam', lr }),
  adamw: (lr) => ({ kind: 'adamw', lr }),
  rmsprop: (lr) => ({ kind: 'rmsprop', lr }),
  sgd: (lr) => ({ kind: 'sgd', lr, momentum: 0.9 }),
};

/** Defaults: the spiral demo's settings (torchdiffeq's ode_demo windows, Adam with cosine decay). */
export const defaultRun: RunConfig = {
  method: 'dopri5', rtol: 1e-7, atol: 1e-9, seminorm: true,
  optimizer: { kind: 'adam', lr: 3e-3 }, schedule: { kind: 'cosine', total: 3000, minLr: 1e-5 },
  batchSize: 20, batchTime: 10, iterations: 3000, seed: 0,
};

const intOpt = (flag: string, v: string | undefined, dflt: number, min: number): E.Either<CliError, number> => {
  if (v === undefined) return E.right(dflt);
  const n = parseNumber(flag, v);
  if (E.isLeft(n)) return n;
  return Number.isInteger(n.right) && n.right >= min ? E.right(n.right) : E.left(fail(`${flag}: must be an integer ≥ ${min}, got ${v}`, true));
};

/** Reads the run config from flags over `base`. */
const runConfig = (v: Values, base: RunConfig): E.Either<CliError, RunConfig> => {
  if (v.grad !== undefined && v.grad !== 'adjoint' && v.grad !== 'backprop' && v.grad !== 'tfjs-autodiff')
    return E.left(fail(`--grad ${v.grad}: use adjoint (backsolve, constant memory), backprop (through the solver) or tfjs-autodiff`, true));
  if (v.backend !== undefined && v.backend !== 'kernel' && v.backend !== 'tfjs')
    return E.left(fail(`--backend ${v.backend}: kernel (generated float64 CPU code, default) or tfjs (float32 on the TensorFlow.js backend FLUXION_BACKEND or automatic selection picks)`, true));
  if (v.method !== undefined && E.isLeft(methodByName(v.method))) return E.left(fail(`--method: ${v.method} is not a method (try dopri5, tsit5, bosh3, dopri8, rk4)`, true));
  const opt = v.optimizer ?? base.optimizer.kind;
  const mk = optimizers[opt];
  if (mk === undefined) return E.left(fail(`--optimizer: ${opt} is not one of ${Object.keys(optimizers).join(', ')}`, true));
  const nums = E.sequenceArray([
    v.rtol === undefined ? E.right(base.rtol) : parseNumber('--rtol', v.rtol),
    v.atol === undefined ? E.right(base.atol) : parseNumber('--atol', v.atol),
    v.lr === undefined ? E.right(base.optimizer.lr ?? 1e-3) : parseNumber('--lr', v.lr),
    intOpt('--iters', v.iters, base.iterations, 0),
    intOpt('--seed', v.seed, base.seed, 0),
    intOpt('--batch-size', v['batch-size'], base.batchSize, 1),
    intOpt('--batch-time', v['batch-time'], base.batchTime, 2),
  ]);
  if (E.isLeft(nums)) return nums;
  const [rtol, atol, lr, iterations, seed, batchSize, batchTime] = nums.right as [number, number, number, number, number, number, number];
  let clip: RunConfig['clip'];
  if (v.clip !== undefined) {
    const c = parseNumber('--clip', v.clip);
    if (E.isLeft(c)) return c;
    clip = { maxNorm: c.right };
  }
  if (v.seminorm !== undefined && v.seminorm !== 'on' && v.seminorm !== 'off') return E.left(fail('--seminorm: on or off', true));
  return E.right({
    method: v.method ?? base.method, rtol, atol, grad: v.grad === 'backprop' || v.grad === 'tfjs-autodiff' ? v.grad : 'adjoint',
    backend: v.backend === 'tfjs' ? 'tfjs' : 'kernel', seminorm: v.seminorm === undefined ? base.seminorm : v.seminorm === 'on',
    optimizer: mk(lr), schedule: { kind: 'cosine', total: iterations, minLr: Math.min(1e-5, lr) }, ...(clip === undefined ? {} : { clip }),
    batchSize, batchTime, iterations, seed,
  });
};

const loadData = async (path: string): Promise<E.Either<CliError, Trajectory>> => {
  const json = await readJson(path);
  if (E.isLeft(json)) return json;
  return E.mapLeft((m: string) => fail(`${path}: ${m}`))(decodeTrajectory(json.right));
};

/** Runs a session and formats its result for the terminal. */
const session = async (model: Model, data: Trajectory, cfg: RunConfig, v: Values, out: string): Promise<CliResult> => {
  const every = intOpt('--checkpoint-every', v['checkpoint-every'], 100, 1);
  if (E.isLeft(every)) return every;
  const r = await trainSession(model, data, cfg, {
    out, resume: v.resume === true, checkpointEvery: every.right,
    ...(v.log === undefined ? {} : { logFile: v.log }), ...(v.quiet === true ? { quiet: true } : {}),
  });
  if (E.isLeft(r)) return E.left(fail(r.left));
  const s = r.right;
  return E.right([
    ...s.warnings.map((w) => `warning: ${w}`),
    `trained ${s.iterations} iterations in ${s.seconds.toFixed(1)} s; final batch loss ${s.finalLoss?.toPrecision(4) ?? '-'}`,
    `mean absolute error on the full trajectory: ${s.mae?.toPrecision(4) ?? 'n/a'}`,
    `wrote ${s.files.join(', ')}`,
  ].join('\n'));
};

/** `fluxion train`. @example await train.run(['examples/specs/spiral.json', '--data', 'examples/data/spiral.json', '--out', 'out']) */
export const train: Command = {
  run: async (args) => {
    const p = parseWithSpec(args, options);
    if (E.isLeft(p)) return p;
    const { file, values: v } = p.right;
    if (v.data === undefined) return E.left(fail('--data DATA.json is required', true));
    if (v.out === undefined) return E.left(fail('--out DIR is required', true));
    const cfg = runConfig(v, defaultRun);
    if (E.isLeft(cfg)) return cfg;
    const spec = await loadModelSpec(file);
    if (E.isLeft(spec)) return spec;
    const data = await loadData(v.data);
    if (E.isLeft(data)) return data;
    return session(spec.right.model, data.right, cfg.right, v, v.out);
  },
};

/** `fluxion demo`: the spiral on the shipped spec and data, to `out/`. */
export const demo: Command = {
  run: async (args) => {
    const p = parse(args, { options, allowPositionals: false });
    if (E.isLeft(p)) return p;
    const v = p.right.values;
    const root = new URL('../../', import.meta.url);
    const specPath = new URL('examples/specs/spiral.json', root).pathname;
    const dataPath = new URL('examples/data/spiral.json', root).pathname;
    const cfg = runConfig(v, defaultRun);
    if (E.isLeft(cfg)) return cfg;
    const spec = await loadModelSpec(specPath);
    if (E.isLeft(spec)) return spec;
    const data = await loadData(dataPath);
    if (E.isLeft(data)) return data;
    return session(spec.right.model, data.right, cfg.right, v, v.out ?? 'out');
  },
};

