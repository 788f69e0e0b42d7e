/**
 * One benchmark case, run in its own process by `bench/run.ts` (so every case starts cold and no
 * case warms the JIT for another): build the model, time the first gradient (model build and
 * kernel generation included), warm up, then time `iters` iterations. Prints one JSON object.
 * Run: node --import tsx bench/cases.ts '{"bench":"spiral","mode":"adjoint","dtype":"float64","regime":"initial","iters":50,"warmup":20}'
 */
import * as E from 'fp-ts/lib/Either.js';
import { prepareGradient, type GradientBackend, type GradientConfig, type GradientResult } from '../src/adjoint/gradients/index.ts';
import type { Model } from '../src/dsl/model.ts';
import type { ParamValues } from '../src/dsl/params.ts';
import { formatBackendError, selectBackend } from '../src/interp/backend.ts';
import { defaultKernelTarget } from '../src/interp/kernel/index.ts';
import type { F64Tensor } from '../src/interp/tensor.ts';
import { spiralModel } from '../src/models/spiral.ts';
import { dopri5 } from '../src/solvers/index.ts';
import { loadScale, loadSpiral, scaleModel } from './problems.ts';

/** What one case runs. */
export interface CaseSpec {
  readonly bench: 'spiral' | 'scale';
  readonly mode: 'adjoint' | 'backprop';
  readonly dtype: 'float64' | 'float32';
  readonly regime?: 'initial' | 'trained';
  readonly batch?: number;
  readonly iters: number;
  readonly warmup: number;
  /**
   * Adjoint: where f and the adjoint system run (float64 default kernel; float32 default auto,
   * the kernel computing in double and rounding the results to float32).
   */
  readonly placement?: 'kernel' | 'auto' | 'tfjs';
  /** Adjoint only: the backward error norm leaves θ̄ and t̄ out (default true). */
  readonly seminorm?: boolean;
  /** Adjoint on float64 only: restart each backward interval's step size (default false). */
  readonly restartSteps?: boolean;
}

/** One iteration's data. */
interface Data {
  readonly z0: F64Tensor;
  readonly ts: readonly number[];
  readonly target: F64Tensor | undefined;
}

interface Problem {
  readonly model: Model;
  readonly params: ParamValues;
  readonly rtol: number;
  readonly atol: number;
  /** The data of iteration i. */
  readonly data: (i: number) => Data;
}

const problem = (spec: CaseSpec): Problem => {
  if (spec.bench === 'spiral') {
    const p = loadSpiral();
    const regime = spec.regime ?? 'initial';
    return {
      model: spiralModel(), params: regime === 'initial' ? p.weights.initial : p.weights.trained, rtol: p.rtol, atol: p.atol,
      data: (i) => {
        const b = p.batches[i % p.batches.length] as (typeof p.batches)[number];
        return { z0: b.z0, ts: p.ts, target: b.target };
      },
    };
  }
  const p = loadScale();
  const z0 = p.y0.get(spec.batch ?? 1);
  if (z0 === undefined) throw new Error(`bench: scale.json has no batch ${spec.batch}`);
  return {
    model: scaleModel(p.hidden, p.weights), params: p.weights, rtol: p.rtol, atol: p.atol,
    data: () => ({ z0, ts: [p.t0, p.t1], target: undefined }),
  };
};

/** A uniform view of one gradient call. */
interface Outcome {
  readonly loss: number;
  readonly nfeForward: number;
  readonly nfeBackward: number;
  readonly placement?: { readonly f: string; readonly adjoint: string };
}
type Iteration = (i: number) => Outcome;

const fromApi = (r: GradientResult): Outcome => ({
  loss: r.loss, nfeForward: r.stats.nfeForward, nfeBackward: r.stats.nfeBackward, ...(r.placement === undefined ? {} : { placement: r.placement }),
});

/** Builds the gradient of the case (model build and compilation happen on the first call). */
const gradientOf = (spec: CaseSpec, p: Problem): Iteration => {
  const loss = p.model.loss;
  if (loss === undefined) throw new Error('bench: the model has no loss');
  const solver = { method: dopri5, rtol: p.rtol, atol: p.atol };
  // Always the public API: the figures are what users get.
  const on: GradientBackend = spec.dtype === 'float32'
    ? { backend: 'float32', placement: spec.placement ?? 'auto' }
    : spec.mode === 'adjoint' ? { backend: 'float64', placement: spec.placement ?? 'kernel' } : { backend: 'float64' };
  const cfg: GradientConfig = spec.mode === 'adjoint'
    ? { method: 'adjoint', on, seminorm: spec.seminorm ?? true, ...(spec.restartSteps === undefined ? {} : { restartSteps: spec.restartSteps }) }
    : { method: 'backprop', on };
  const g = prepareGradient({ dynamics: p.model.dynamics, loss }, cfg);
  if (E.isLeft(g)) throw new Error(`bench: ${JSON.stringify(g.left)}`);
  const inputName = loss.inputs[0]?.name;
  return (i) => {
    const d = p.data(i);
    const lossInputs = inputName === undefined || d.target === undefined ? {} : { [inputName]: d.target };
    const r = g.right({ params: p.params, z0: d.z0, ts: d.ts, lossInputs, solver });
    if (E.isLeft(r)) throw new Error(`bench: ${JSON.stringify(r.left)}`);
    return fromApi(r.right);
  };
};

const round = (x: number, digits = 4): number => Number(x.toPrecision(digits));

/** ns per Math.tanh over a Float64Array: a yardstick of how fast the (shared) machine runs right now. */
const tanhNs = (): number => {
  const xs = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 2), out = new Float64Array(1000);
  const pass = (): void => {
    for (let j = 0; j < 1000; j++) out[j] = Math.tanh(xs[j] as number);
  };
  for (let r = 0; r < 2000; r++) pass();
  const t0 = performance.now();
  for (let r = 0; r < 5000; r++) pass();
  return ((performance.now() - t0) / 5000) * 1000;
};
const warmupMs = 1500, timedMs = 1000, maxIters = 5000;

/**
 * Runs a case in this process.
 * @example await runCase({ bench: 'scale', mode: 'adjoint', dtype: 'float64', batch: 16, iters: 15, warmup: 10 })
 */
export const runCase = async (spec: CaseSpec): Promise<Record<string, unknown>> => {
  let backend = 'kernel', tfjsName = 'none';
  if (spec.dtype === 'float32' || (spec.placement ?? 'kernel') !== 'kernel') {
    const b = await selectBackend();
    if (E.isLeft(b)) throw new Error(`bench: ${formatBackendError(b.left)}`);
    tfjsName = `tfjs-${b.right.name}`;
    if (spec.dtype === 'float32') backend = (spec.placement ?? 'auto') === 'tfjs' ? tfjsName : 'kernel';
  }
  const start = performance.now();
  const p = problem(spec);
  const iter = gradientOf(spec, p);
  const first = iter(0);
  const firstMs = performance.now() - start;
  // Warm-up: at least `warmup` iterations and about a second, so the JIT has settled.
  const warmEnd = performance.now() + warmupMs;
  for (let i = 1; i <= spec.warmup || (performance.now() < warmEnd && i < maxIters); i++) iter(i);
  const times: number[] = [];
  const losses: number[] = [];
  const nfes: number[] = [];
  // Timed: at least `iters` iterations, more for fast cases (up to about a second).
  const timedEnd = performance.now() + timedMs;
  for (let i = 0; i < spec.iters || (performance.now() < timedEnd && i < maxIters); i++) {
    const t0 = performance.now();
    const r = iter(i);
    times.push(performance.now() - t0);
    losses.push(r.loss);
    nfes.push(r.nfeForward + r.nfeBackward);
  }
  const calibration = tanhNs();
  const sorted = times.slice().sort((a, b) => a - b);
  const where = first.placement;
  const placed = where === undefined ? undefined : { f: where.f === 'tfjs' ? tfjsName : 'kernel', adjoint: where.adjoint === 'tfjs' ? tfjsName : 'kernel' };
  const mixed = placed !== undefined && (placed.f !== 'kernel' || placed.adjoint !== 'kernel');
  if (placed !== undefined) backend = placed.f === placed.adjoint ? placed.f : `f: ${placed.f}, adjoint: ${placed.adjoint}`;
  const median = sorted.length % 2 === 1
    ? (sorted[(sorted.length - 1) / 2] as number)
    : ((sorted[sorted.length / 2 - 1] as number) + (sorted[sorted.length / 2] as number)) / 2;
  return {
    mode: spec.mode, dtype: mixed && spec.dtype === 'float64' ? 'float64 solver, float32 field' : spec.dtype, backend,
    kernel_target: E.getOrElse(() => 'invalid FLUXION_KERNEL')(defaultKernelTarget()),
    ...(spec.placement === undefined ? {} : { placement: spec.placement }),
    ...(spec.bench === 'spiral' ? { regime: spec.regime ?? 'initial' } : { batch: spec.batch ?? 1 }),
    impl: 'prepareGradient',
    ...(spec.mode === 'adjoint' ? { seminorm: spec.seminorm ?? true, restart_steps: spec.restartSteps ?? false } : {}),
    iter_median_ms: round(median), iter_min_ms: round(sorted[0] as number),
    nfe_forward: first.nfeForward, nfe_backward: first.nfeBackward,
    loss: first.loss,
    ...(spec.bench === 'spiral' ? { loss_mean_first_50_batches: losses.slice(0, 50).reduce((a, b) => a + b, 0) / Math.min(50, losses.length) } : {}),
    nfe_mean: round(nfes.reduce((a, b) => a + b, 0) / nfes.length),
    first_iteration_ms: round(firstMs),
    iterations: times.length,
    calibration_tanh_ns: round(calibration, 3),
  };
};

const isMain = process.argv[1] !== undefined && new URL(import.meta.url).pathname === process.argv[1];
if (isMain) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as CaseSpec;
  runCase(spec).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
