/**
 * Gradients of a loss on an ODE solution at observation times, by a method chosen as a typed
 * value: `adjoint` (backsolve, O(1) memory), `backprop` (exact for the discrete solution) —
 * each on float64 (pluggable evaluator), on tfjs, or with float32 results placed on either —
 * and `tfjs-autodiff` (TensorFlow.js's own tape through the tfjs solver). All return ∂L/∂z₀, ∂L/∂θ, ∂L/∂tᵢ, the loss and statistics.
 */
import * as E from 'fp-ts/lib/Either.js';
import { kernelEvaluator, type F64Evaluator } from '../../interp/evaluator.ts';
import { placementFromEnv, type PlacementRequest } from '../../interp/placement.ts';
import type { F64Tensor } from '../../interp/tensor.ts';
import { integrate } from '../../solvers/index.ts';
import { adjointGradient } from './adjoint.ts';
import { adjointF64 } from './adjointF64.ts';
import { f64Backend, tfjsBackend, type Backend } from './backend.ts';
import { backpropGradient } from './backprop.ts';
import { backpropF64 } from './backpropF64.ts';
import { makeContext, solveOptions, type Context } from './context.ts';
import { checkData, deriveSymbolic, type Symbolic } from './symbolic.ts';
import { tfjsAutodiffGradient } from './tfjsAutodiff.ts';
import type {
  AdjointConfig, BackpropConfig, GradientBackend, GradientConfig, GradientData, GradientError, GradientModel, GradientProblem,
  GradientResult,
} from './types.ts';

export type {
  AdjointConfig, BackpropConfig, F32Path, F64Path, GradientBackend, GradientConfig, GradientData, GradientError, GradientModel,
  GradientProblem, GradientResult, GradientStats, SolverOptions, TfjsAutodiffConfig, TfjsPath,
} from './types.ts';
export { formatGradientError } from './types.ts';
export type { EventGradientResult, EventLoss, EventProblem } from './event.ts';
export { eventGradient } from './event.ts';

/** The default float64 backend, shared: its programs are held weakly by their roots. */
const defaultF64 = f64Backend();
const f64For = (evaluator: F64Evaluator | undefined): Backend<F64Tensor> => (evaluator === undefined ? defaultF64 : f64Backend(evaluator));

/** A gradient compiled for one model and method, applied to data. */
export type PreparedGradient = (data: GradientData) => E.Either<GradientError, GradientResult>;

/** Float64 adjoints with the default kernels, kept per derivation and settings: one-shot `gradient` calls reuse compiled plans. */
const f64Adjoints = new WeakMap<Symbolic, Map<string, ReturnType<typeof adjointF64>>>();
const sharedAdjointF64 = (s: Symbolic, cfg: AdjointConfig, placement: PlacementRequest | undefined): ReturnType<typeof adjointF64> => {
  // Separate backward settings are not shared (methods are compared by identity, not by name).
  if (cfg.backward !== undefined) return adjointF64(s, cfg, placement === undefined ? {} : { placement });
  const key = [cfg.seminorm ?? false, cfg.restartSteps ?? false, placement ?? 'kernel'].join('|');
  const inner = f64Adjoints.get(s) ?? new Map<string, ReturnType<typeof adjointF64>>();
  f64Adjoints.set(s, inner);
  const hit = inner.get(key);
  if (hit !== undefined) return hit;
  const run = adjointF64(s, cfg, placement === undefined ? {} : { placement });
  inner.set(key, run);
  return run;
};

/** Float64 backprop with the default kernels, kept per derivation and checkpoint interval (as the adjoint's). */
const f64Backprops = new WeakMap<Symbolic, Map<number, ReturnType<typeof backpropF64>>>();
const sharedBackpropF64 = (s: Symbolic, checkpointEvery: number): ReturnType<typeof backpropF64> => {
  const inner = f64Backprops.get(s) ?? new Map<number, ReturnType<typeof backpropF64>>();
  f64Backprops.set(s, inner);
  const hit = inner.get(checkpointEvery);
  if (hit !== undefined) return hit;
  const cfg: BackpropConfig = { method: 'backprop', checkpointEvery };
  const run = backpropF64(s, cfg, kernelEvaluator, (d) => onBackend(defaultF64, s, d, cfg));
  inner.set(checkpointEvery, run);
  return run;
};

type SymbolicMethod = (cfg: AdjointConfig | BackpropConfig) => <V>(ctx: Context<V>, d: GradientData) => E.Either<GradientError, GradientResult>;

const runSymbolic: SymbolicMethod = (cfg) => (ctx, d) => {
  switch (cfg.method) {
    case 'adjoint':
      return adjointGradient(ctx, d.ts, d.solver, cfg);
    case 'backprop':
      return backpropGradient(ctx, d.ts, d.solver, cfg);
  }
};

const onBackend = <V>(b: Backend<V>, s: Symbolic, d: GradientData, cfg: AdjointConfig | BackpropConfig): E.Either<GradientError, GradientResult> =>
  b.scope(() => {
    const ctx = makeContext(b, s, d);
    return E.isLeft(ctx) ? ctx : runSymbolic(cfg)(ctx.right, d);
  });

const toF32 = (t: F64Tensor): F64Tensor => ({ shape: t.shape, data: t.data.map(Math.fround) });

/** A result with every value rounded to float32. */
const roundF32 = (r: GradientResult): GradientResult => ({
  ...r,
  loss: Math.fround(r.loss),
  dz0: toF32(r.dz0),
  dparams: Object.fromEntries(Object.entries(r.dparams).map(([k, v]) => [k, toF32(v)])),
  dts: r.dts.map(Math.fround),
  prediction: toF32(r.prediction),
});

/**
 * Float32 results. The adjoint runs the float64 adjoint with the placement request (on the
 * kernel it computes in double; on tfjs it evaluates in float32 under a float64 solver);
 * backprop, which has no cost model, runs on the kernel unless tfjs is requested. Either way
 * every value is rounded to float32 at the end.
 */
const float32Gradient = (s: Symbolic, cfg: AdjointConfig | BackpropConfig, request: PlacementRequest): PreparedGradient => {
  const run: PreparedGradient = cfg.method === 'adjoint'
    ? sharedAdjointF64(s, cfg, request)
    : request !== 'tfjs'
    ? sharedBackpropF64(s, cfg.checkpointEvery ?? 1)
    : (d) => {
      const b = tfjsBackend();
      try {
        return onBackend(b, s, d, cfg);
      } finally {
        b.dispose();
      }
    };
  return (d) => {
    const ok = checkData(s, d);
    return E.isLeft(ok) ? ok : E.map(roundF32)(run(d));
  };
};

/**
 * Derives everything symbolic once (adjoint system, loss gradients) and returns the gradient as
 * a function of the data, for repeated use (training).
 * @example
 * const g = prepareGradient({ dynamics: m.dynamics, loss: m.loss }, { method: 'adjoint', seminorm: true });
 * if (E.isRight(g)) g.right({ params: m.values, z0, ts, lossInputs: { ytrue }, solver: { method: dopri5, rtol: 1e-7, atol: 1e-9 } })
 */
export const prepareGradient = (model: GradientModel, cfg: GradientConfig): E.Either<GradientError, PreparedGradient> => {
  const sym = deriveSymbolic(model);
  if (E.isLeft(sym)) return sym;
  const s = sym.right;
  switch (cfg.method) {
    case 'tfjs-autodiff':
      return E.right((d) => {
        const ok = checkData(s, d);
        return E.isLeft(ok) ? ok : tfjsAutodiffGradient(s, d);
      });
    case 'adjoint':
    case 'backprop': {
      const on: GradientBackend = cfg.on ?? { backend: 'float64' };
      if (on.backend === 'float32') return E.right(float32Gradient(s, cfg, on.placement ?? placementFromEnv()));
      const f64 = on.backend === 'float64' ? f64For(on.evaluator) : undefined;
      if (cfg.method === 'adjoint' && on.backend === 'float64') {
        // One float64 adjoint: the allocation-free path (plans cached per problem size).
        const run = on.evaluator === undefined
          ? sharedAdjointF64(s, cfg, on.placement)
          : adjointF64(s, cfg, { evaluator: on.evaluator });
        return E.right((d) => {
          const ok = checkData(s, d);
          return E.isLeft(ok) ? ok : run(d);
        });
      }
      if (cfg.method === 'backprop' && f64 !== undefined) {
        // Float64 backprop: the allocation-free path; the generic one for methods the loop does not run.
        const run = on.backend === 'float64' && on.evaluator !== undefined
          ? backpropF64(s, cfg, on.evaluator, (d) => onBackend(f64, s, d, cfg))
          : sharedBackpropF64(s, cfg.checkpointEvery ?? 1);
        return E.right((d) => {
          const ok = checkData(s, d);
          return E.isLeft(ok) ? ok : run(d);
        });
      }
      return E.right((d) => {
        const ok = checkData(s, d);
        if (E.isLeft(ok)) return ok;
        if (f64 !== undefined) return onBackend(f64, s, d, cfg);
        const b = tfjsBackend();
        try {
          return onBackend(b, s, d, cfg);
        } finally {
          b.dispose();
        }
      });
    }
  }
};

/**
 * The gradient of a problem's loss by the chosen method.
 * @example
 * const r = gradient(
 *   { dynamics: m.dynamics, loss: m.loss, params: m.values, z0, ts: [0, 0.5, 1], lossInputs: { ytrue }, solver: { method: dopri5, rtol: 1e-8, atol: 1e-10 } },
 *   { method: 'backprop', checkpointEvery: 4 },
 * ); // right({ loss, dz0, dparams, dts, prediction, stats })
 */
export const gradient = (problem: GradientProblem, cfg: GradientConfig): E.Either<GradientError, GradientResult> =>
  E.chain((g: PreparedGradient) => g(problem))(prepareGradient(problem, cfg));

/**
 * The loss alone (one forward solve, float64), e.g. for finite differences or validation.
 * @example lossValue({ ...problem, solver: { method: dopri5, rtol: 1e-10, atol: 1e-12 } }) // right(0.0123)
 */
export const lossValue = (problem: GradientProblem, on: { readonly evaluator?: F64Evaluator } = {}): E.Either<GradientError, number> => {
  const sym = deriveSymbolic(problem);
  if (E.isLeft(sym)) return sym;
  const ok = checkData(sym.right, problem);
  if (E.isLeft(ok)) return ok;
  const b = f64For(on.evaluator);
  const ctx = makeContext(b, sym.right, problem);
  if (E.isLeft(ctx)) return ctx;
  const ys = forwardStates(ctx.right, problem);
  return E.chain((y: readonly F64Tensor[]) => E.map((l: { readonly loss: number }) => l.loss)(ctx.right.loss(y)))(ys);
};

const forwardStates = (ctx: Context<F64Tensor>, d: GradientData): E.Either<GradientError, readonly F64Tensor[]> => {
  if (d.ts.length === 1) return E.right([ctx.z0]);
  const r = integrate(ctx.b.space, ctx.f, ctx.z0, { ...solveOptions(d.solver), ts: d.ts });
  return E.isLeft(r) ? E.left({ _tag: 'SolveFailed', phase: 'forward', error: r.left }) : E.right(r.right.ys);
};
