/**
 * What every gradient method does the same way on a given backend: upload the data, evaluate f
 * and the loss (value, ∂L/∂prediction, ∂L/∂θ of the loss's parameters), and assemble the result.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { F64Tensor } from '../../interp/tensor.ts';
import type { Backend } from './backend.ts';
import type { Symbolic } from './symbolic.ts';
import type { GradientData, GradientError, GradientResult, GradientStats, SolverOptions } from './types.ts';

/** The loss of a prediction and its gradients. */
export interface LossEval<V> {
  readonly loss: number;
  /** ∂L/∂z(tᵢ), one per observation time. */
  readonly g: readonly V[];
  /** ∂L/∂θ through the loss directly, one per loss parameter. */
  readonly dLossParams: readonly V[];
  readonly prediction: V;
}

/** A problem's data on a backend, with f and the loss ready to evaluate. */
export interface Context<V> {
  readonly b: Backend<V>;
  readonly s: Symbolic;
  /** Parameters and the other inputs, uploaded. */
  readonly env: Readonly<Record<string, V>>;
  readonly z0: V;
  /** `f(t, z)`, a new tensor. */
  readonly f: (t: number, z: V) => V;
  readonly loss: (ys: readonly V[]) => E.Either<GradientError, LossEval<V>>;
}

const evalFailed = (what: string, message: string): GradientError => ({ _tag: 'EvaluationFailed', what, message });

/**
 * Uploads the data and checks that f evaluates at (t₀, z₀), so later evaluations inside the
 * solver cannot fail on binding (a failure there is a bug and throws).
 * @example const ctx = makeContext(f64Backend(), sym, data); // right({ f, loss, … })
 */
export const makeContext = <V>(b: Backend<V>, s: Symbolic, d: GradientData): E.Either<GradientError, Context<V>> => {
  const env: Record<string, V> = {};
  for (const [k, v] of Object.entries({ ...d.params, ...(d.dynamicsInputs ?? {}), ...(d.lossInputs ?? {}) })) env[k] = b.upload(v);
  const fProg = b.compile(s.fRoots);
  const z0 = b.upload(d.z0);
  const call = (t: number, z: V) => {
    const tv = b.scalar(t);
    const r = fProg({ ...env, [s.z.name]: z, [s.t.name]: tv });
    b.free([tv]);
    return r;
  };
  const first = call(d.ts[0] as number, z0);
  if (E.isLeft(first)) return E.left(evalFailed('the dynamics', first.left));
  b.free(first.right);
  const f = (t: number, z: V): V => {
    const r = call(t, z);
    if (E.isLeft(r)) throw new Error(`bug: evaluating the dynamics failed after a successful check: ${r.left}`);
    return r.right[0] as V;
  };
  const lossProg = b.compile(s.lossRoots);
  const loss = (ys: readonly V[]): E.Either<GradientError, LossEval<V>> => {
    const prediction = b.stack(ys);
    const r = lossProg({ ...env, [s.pred.name]: prediction });
    if (E.isLeft(r)) return E.left(evalFailed('the loss', r.left));
    const [value, dPred, ...dLossParams] = r.right as [V, V, ...V[]];
    const L = b.download(value).data[0] as number;
    return E.right({ loss: L, g: b.unstack(dPred), dLossParams, prediction });
  };
  return E.right({ b, s, env, z0, f, loss });
};

/**
 * The solver options of one direction, ready to spread into `integrate`'s options.
 * @example integrate(space, f, y0, { ...solveOptions(o), ts })
 */
export const solveOptions = (o: SolverOptions) => ({
  method: o.method,
  ...(o.rtol === undefined ? {} : { rtol: o.rtol }),
  ...(o.atol === undefined ? {} : { atol: o.atol }),
  ...(o.maxSteps === undefined ? {} : { maxSteps: o.maxSteps }),
});

/**
 * Downloads and assembles the result: parameter gradients through the dynamics (`dynGrads`, in
 * the dynamics' parameter order) plus those through the loss, summed where a name is shared.
 * @example assemble(ctx, { loss, dz0, dynGrads, dLossParams, dts, prediction, stats })
 */
export const assemble = <V>(ctx: Context<V>, r: {
  readonly loss: number;
  readonly dz0: V;
  readonly dynGrads: readonly V[];
  readonly dLossParams: readonly V[];
  readonly dts: Float64Array;
  readonly prediction: V;
  readonly stats: GradientStats;
}): GradientResult => {
  const dparams: Record<string, F64Tensor> = {};
  const add = (name: string, t: F64Tensor): void => {
    const prev = dparams[name];
    dparams[name] = prev === undefined ? t : { shape: t.shape, data: prev.data.map((v, i) => v + (t.data[i] as number)) };
  };
  ctx.s.dynParams.forEach((p, i) => add(p.name, ctx.b.download(r.dynGrads[i] as V)));
  ctx.s.lossParams.forEach((p, i) => add(p.name, ctx.b.download(r.dLossParams[i] as V)));
  return { loss: r.loss, dz0: ctx.b.download(r.dz0), dparams, dts: r.dts, prediction: ctx.b.download(r.prediction), stats: r.stats };
};
