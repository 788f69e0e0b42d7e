/**
 * `integrateF64`: `integrate` for Float64 batches with an in-place vector field. The common case
 * (adaptive explicit method with an embedded estimate, scalar tolerances, shared output times,
 * no events, no kept steps or dense output) runs on the allocation-free loop of `f64Loop.ts`;
 * anything else, and every failure, goes through `integrate` itself, so results and error values
 * are always exactly those of `integrate(f64Space, …)`.
 */
import * as E from 'fp-ts/lib/Either.js';
import { defaultController } from './controller.ts';
import type { SolveError } from './errors.ts';
import { f64Workspace, loopSupports, runF64Loop, type F64Rhs, type LoopConfig } from './f64Loop.ts';
import type { F64Batch } from './f64Space.ts';
import { f64Space } from './f64Space.ts';
import { integrate, validateOptions, type IntegrateOptions } from './integrate.ts';
import { rmsNorm } from './norms.ts';
import type { Solution } from './solution.ts';
import { denseEvaluator } from './solution.ts';
import { planTimes } from './times.ts';

/**
 * The loop's settings for `options`, or `undefined` when they need the generic solver.
 * @example loopConfig({ method: dopri5, ts: [0, 1] }, y0) // { t0: 0, t1: 1, … }
 */
export const loopConfig = (options: IntegrateOptions<F64Batch>, y0: F64Batch): LoopConfig | undefined => {
  const m = options.method;
  if (m.kind !== 'explicit' || !loopSupports(m.tableau) || options.dt !== undefined) return undefined;
  if (options.event !== undefined || options.saveSteps === true || options.dense === true) return undefined;
  if ((options.jumpTs?.length ?? 0) > 0) return undefined;
  const rtol = options.rtol ?? 1e-6, atol = options.atol ?? 1e-9;
  if (typeof rtol !== 'number' || typeof atol !== 'number') return undefined;
  if (E.isLeft(validateOptions(f64Space, y0, options))) return undefined;
  const plan = planTimes(options);
  if (E.isLeft(plan) || plan.right.out.kind === 'rows') return undefined;
  const p = plan.right;
  const ts = p.out.kind === 'shared' ? p.out.ts : undefined;
  return {
    t0: p.t0, t1: p.t1, rtol, atol,
    norm: options.norm ?? rmsNorm,
    controller: options.controller ?? defaultController,
    firstStep: options.firstStep,
    dtMin: options.dtMin ?? 0,
    dtMax: options.dtMax ?? Number.POSITIVE_INFINITY,
    maxSteps: options.maxSteps ?? 100_000,
    ts,
    out: ts === undefined ? undefined : new Float64Array(ts.length * y0.data.length),
    stops: p.stops,
    k1Known: false,
  };
};

/** `f` as the allocating dynamics of `integrate`. */
const allocating = (f: F64Rhs) => (t: number, y: F64Batch): F64Batch => {
  const out = new Float64Array(y.data.length);
  f(t, y.data, out);
  return { data: out, batch: y.batch, dim: y.dim };
};

/**
 * Solves y' = f(t, y) for a Float64 batch with `f` writing into a buffer; the same solution as
 * `integrate(f64Space, …)` bit for bit, with no allocation per step in the common case.
 * @example
 * integrateF64((t, y, o) => { for (let i = 0; i < y.length; i++) o[i] = -y[i]; }, f64FromRows([[1]]), { method: dopri5, ts: [0, 1] })
 */
export const integrateF64 = (f: F64Rhs, y0: F64Batch, options: IntegrateOptions<F64Batch>): E.Either<SolveError, Solution<F64Batch>> => {
  const cfg = loopConfig(options, y0);
  const m = options.method;
  if (cfg === undefined || m.kind !== 'explicit') return integrate(f64Space, allocating(f), y0, options);
  const ws = f64Workspace(m.tableau, y0.data.length);
  runF64Loop(ws, f, y0.data, cfg);
  if (ws.failed !== undefined) return integrate(f64Space, allocating(f), y0, options);
  const n = y0.data.length;
  const ts = cfg.ts ?? [];
  const ys = ts.map((_, k): F64Batch => ({ data: (cfg.out as Float64Array).subarray(k * n, (k + 1) * n), batch: y0.batch, dim: y0.dim }));
  const yFinal: F64Batch = { data: ws.y, batch: y0.batch, dim: y0.dim };
  return E.right({
    t0: cfg.t0, t1: cfg.t1, ts, ys, yFinal,
    stats: { nfe: ws.nfe, njac: 0, nlu: 0, accepted: ws.accepted, rejected: ws.rejected },
    evaluate: denseEvaluator(undefined, cfg.t0, cfg.t1, (c, xs) => f64Space.linComb(c as number[], xs), () => f64Space.clone(y0)),
    dispose: () => undefined,
  });
};
