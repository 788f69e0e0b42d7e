/**
 * Densities and samples of a continuous normalizing flow, batched.
 *
 * Convention (FFJORD's): data `x` at `t0` (default 0), base `N(0, I)` at `t1` (default 1), and the
 * packed state `[z, Δlogp]` with `dΔlogp/dt = −tr(∂f/∂z)`.
 *
 * - Density: integrate `[x, 0]` FORWARDS from `t0` to `t1`, giving `z(t1)` and
 *   `Δlogp(t1) = −∫ tr dt`; then `log p(x) = log N(z(t1); 0, I) − Δlogp(t1)`.
 * - Sampling: draw `z(t1) ~ N(0, I)` and integrate `[z(t1), 0]` BACKWARDS from `t1` to `t0`,
 *   giving the sample `x = z(t0)` and `Δlogp(t0) = +∫ tr dt`, so its log density comes free:
 *   `log p(x) = log N(z(t1); 0, I) + Δlogp(t0)`.
 *
 * With Hutchinson's estimator a probe is drawn once per solve from `rng` (and the state after it
 * returned): the log densities are then unbiased estimates of the log-determinant term.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { ParamValues } from '../dsl/params.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { draw, nextNormal, type RngState } from '../random/prng.ts';
import { formatSolveError, type SolveError } from '../solvers/errors.ts';
import { f64Space, type F64Batch } from '../solvers/f64Space.ts';
import { integrate, type IntegrateOptions } from '../solvers/integrate.ts';
import type { SolveStats } from '../solvers/solution.ts';
import { cnfField, drawNoise, type CompiledCnf } from './field.ts';

/** Why a density or a sample could not be computed. */
export type FlowError =
  | { readonly _tag: 'InvalidInput'; readonly reason: string }
  | { readonly _tag: 'SolveFailed'; readonly direction: 'density' | 'sampling'; readonly error: SolveError };

/**
 * A one-line message for a flow error.
 * @example formatFlowError({ _tag: 'InvalidInput', reason: 'x has shape [3]' }) // 'flow: x has shape [3]'
 */
export const formatFlowError = (e: FlowError): string => {
  switch (e._tag) {
    case 'InvalidInput': return `flow: ${e.reason}`;
    case 'SolveFailed': return `flow (${e.direction}): ${formatSolveError(e.error)}`;
  }
};

/** Solver options of a flow solve: everything but the times (set by `t0`, `t1`) and events. */
export type FlowSolverOptions = Omit<IntegrateOptions<F64Batch>, 't0' | 't1' | 'ts' | 'stepTs' | 'jumpTs' | 'event' | 'dense' | 'saveSteps'>;

/** Options of `logDensity`, `fromBase` and `sample`. Per-dimension tolerances need `D + 1` entries. */
export interface FlowOptions {
  readonly solver: FlowSolverOptions;
  /** Data time (default 0). */
  readonly t0?: number;
  /** Base time (default 1). */
  readonly t1?: number;
  /** Generator state for Hutchinson probes; required when the flow uses them. */
  readonly rng?: RngState;
}

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * `log N(row; 0, I)` for each row of `[N, D]` data.
 * @example standardNormalLogPdf({ shape: [1, 2], data: Float64Array.of(0, 0) }) // [−log 2π]
 */
export const standardNormalLogPdf = (z: F64Tensor): Float64Array => {
  const [n = 0, d = 1] = z.shape;
  const out = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    let sq = 0;
    for (let j = 0; j < d; j++) sq += (z.data[b * d + j] as number) ** 2;
    out[b] = -0.5 * (sq + d * LOG_2PI);
  }
  return out;
};

/** The end of a flow solve: the `z` columns, the `Δlogp` column, and bookkeeping. */
interface Solved {
  readonly z: F64Tensor;
  readonly deltaLogp: Float64Array;
  readonly rng: RngState | undefined;
  readonly stats: SolveStats;
}

const invalid = (reason: string): E.Either<FlowError, never> => E.left({ _tag: 'InvalidInput', reason });

/** Integrates `[points, 0]` from `from` to `to` with a probe drawn once (Hutchinson). */
const solveFlow = (
  c: CompiledCnf, values: ParamValues, points: F64Tensor, from: number, to: number, opts: FlowOptions, direction: 'density' | 'sampling',
): E.Either<FlowError, Solved> => {
  const d = c.cnf.dim;
  const [n] = points.shape;
  if (points.shape.length !== 2 || n === undefined || n < 1 || points.shape[1] !== d || points.data.length !== n * d)
    return invalid(`points have shape [${points.shape.join(',')}] (${points.data.length} values), expected [N ≥ 1, ${d}]`);
  const probe = c.cnf.probe;
  let rng = opts.rng;
  let noise: F64Tensor | undefined;
  if (probe !== undefined) {
    if (rng === undefined) return invalid('Hutchinson\'s estimator needs a generator state `rng` to draw its probe');
    [noise, rng] = drawNoise(probe.kind, n, d, rng);
  }
  const field = cnfField(c, values, noise);
  if (E.isLeft(field)) return invalid(field.left);
  const y0 = new Float64Array(n * (d + 1));
  for (let b = 0; b < n; b++) y0.set(points.data.subarray(b * d, (b + 1) * d), b * (d + 1));
  const sol = integrate(f64Space, field.right, { data: y0, batch: n, dim: d + 1 }, { ...opts.solver, t0: from, t1: to });
  if (E.isLeft(sol)) return E.left({ _tag: 'SolveFailed', direction, error: sol.left });
  const y1 = sol.right.yFinal.data;
  const z = new Float64Array(n * d);
  const deltaLogp = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    z.set(y1.subarray(b * (d + 1), b * (d + 1) + d), b * d);
    deltaLogp[b] = y1[b * (d + 1) + d] as number;
  }
  return E.right({ z: { shape: [n, d], data: z }, deltaLogp, rng, stats: sol.right.stats });
};

/** Log densities of data rows under a flow. */
export interface DensityResult {
  /** `log p(x)` per row (an unbiased estimate with Hutchinson's estimator). */
  readonly logp: Float64Array;
  /** `z(t1)`, the data pushed to the base. */
  readonly z: F64Tensor;
  /** `log N(z(t1); 0, I)` per row. */
  readonly logpBase: Float64Array;
  /** `Δlogp(t1) = −∫ tr(∂f/∂z) dt` per row. */
  readonly deltaLogp: Float64Array;
  /** Present when a generator state was given: the state after the probe (unchanged without one). */
  readonly rng?: RngState;
  readonly stats: SolveStats;
}

/**
 * `log p(x)` for each row of `x: [N, D]`: integrates forwards from `t0` (data) to `t1` (base).
 * @example
 * logDensity(compileCnf(flow), values, x, { solver: { method: dopri5, rtol: 1e-6, atol: 1e-8 } })
 * // right({ logp: Float64Array(N), z, … })
 */
export const logDensity = (c: CompiledCnf, values: ParamValues, x: F64Tensor, opts: FlowOptions): E.Either<FlowError, DensityResult> => {
  const s = solveFlow(c, values, x, opts.t0 ?? 0, opts.t1 ?? 1, opts, 'density');
  if (E.isLeft(s)) return s;
  const { z, deltaLogp, rng, stats } = s.right;
  const logpBase = standardNormalLogPdf(z);
  const logp = logpBase.map((l, b) => l - (deltaLogp[b] as number));
  const r = { logp, z, logpBase, deltaLogp, stats };
  return E.right(rng === undefined ? r : { ...r, rng });
};

/** Samples of a flow with their log densities. */
export interface SampleResult {
  /** `x = z(t0)`, one row per base point. */
  readonly x: F64Tensor;
  /** `log p(x)` per row (an unbiased estimate with Hutchinson's estimator). */
  readonly logp: Float64Array;
  /** The base points `z(t1)`. */
  readonly z: F64Tensor;
  /** Present when a generator state was given: the state after the draws. */
  readonly rng?: RngState;
  readonly stats: SolveStats;
}

/**
 * Maps given base points `z(t1): [N, D]` to data by integrating backwards from `t1` to `t0`.
 * @example fromBase(compiled, values, z1, { solver: { method: dopri5 } }) // right({ x, logp, … })
 */
export const fromBase = (c: CompiledCnf, values: ParamValues, z1: F64Tensor, opts: FlowOptions): E.Either<FlowError, SampleResult> => {
  const s = solveFlow(c, values, z1, opts.t1 ?? 1, opts.t0 ?? 0, opts, 'sampling');
  if (E.isLeft(s)) return s;
  const { z: x, deltaLogp, rng, stats } = s.right;
  const logp = standardNormalLogPdf(z1).map((l, b) => l + (deltaLogp[b] as number));
  const r = { x, logp, z: z1, stats };
  return E.right(rng === undefined ? r : { ...r, rng });
};

/**
 * `n` samples: base draws `z(t1) ~ N(0, I)` from `opts.rng`, then `fromBase`.
 * @example sample(compiled, values, 1000, { solver: { method: dopri5 }, rng: seedRng(0) }) // right({ x: [1000, D], … })
 */
export const sample = (
  c: CompiledCnf, values: ParamValues, n: number, opts: FlowOptions & { readonly rng: RngState },
): E.Either<FlowError, SampleResult & { readonly rng: RngState }> => {
  if (!Number.isInteger(n) || n < 1) return invalid(`the number of samples must be a positive integer, got ${n}`);
  const [data, rng] = draw(nextNormal, opts.rng, n * c.cnf.dim);
  const r = fromBase(c, values, { shape: [n, c.cnf.dim], data }, { ...opts, rng });
  return E.map((s: SampleResult) => ({ ...s, rng: s.rng ?? rng }))(r);
};
