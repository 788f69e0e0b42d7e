/**
 * The adjoint method (Chen et al. 2018, Algorithm 1, "backsolve") on the Float64 path, for a
 * loss on the solution at observation times t₀ < t₁ < … (or decreasing). Forward: one solve, no
 * stored trajectory. Backward: the augmented system [z, a, θ̄, t̄] — derived symbolically by
 * `makeAdjointSystem` and compiled into one generated kernel — is integrated back one
 * observation interval at a time, adding ∂L/∂z(tᵢ) to a at each observed time (as torchdiffeq's
 * `odeint_adjoint`). With `seminorm`, the θ̄ and t̄ channels do not enter the step-size error
 * norm (Kidger, Chen & Lyons 2021), which cuts backward evaluations.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import type { ParamValues } from '../dsl/params.ts';
import { grad } from './vjp.ts';
import { augmentedRoots, makeAdjointSystem } from './system.ts';
import { kernelEvaluator, type F64Evaluator } from '../interp/evaluator.ts';
import { scalarT, type F64Tensor } from '../interp/tensor.ts';
import { compileF64Dynamics } from '../ode/f64Dynamics.ts';
import { customNorm, f64Space, integrate, type ErrorNorm, type F64Batch, type Method, type SolveError } from '../solvers/index.ts';

/** Solver settings of one direction. */
export interface SolveSettings {
  readonly method: Method;
  readonly rtol: number;
  readonly atol: number;
  readonly maxSteps?: number;
}

/** Options of the adjoint gradient. */
export interface AdjointOptions {
  readonly forward: SolveSettings;
  /** Backward solve settings (default: the forward ones). */
  readonly backward?: SolveSettings;
  /** Leave θ̄ and t̄ out of the backward error norm (default true). */
  readonly seminorm?: boolean;
  readonly evaluator?: F64Evaluator;
}

/** A loss gradient with its work statistics. */
export interface LossGradient {
  readonly loss: number;
  readonly dz0: F64Tensor;
  readonly dparams: ParamValues;
  /** ∂L/∂tᵢ for every observation time (t₀ included). */
  readonly dts: Float64Array;
  readonly prediction: F64Tensor;
  readonly stats: { readonly nfeForward: number; readonly nfeBackward: number; readonly stepsForward: number; readonly stepsBackward: number };
}

/** Why a gradient could not be computed. */
export type GradientError =
  | { readonly _tag: 'Model'; readonly message: string }
  | { readonly _tag: 'SolveFailed'; readonly phase: 'forward' | 'backward'; readonly error: SolveError };

/** A compiled gradient of one model's loss, reusable across parameter values and batches. */
export type AdjointGradientFn = (params: ParamValues, z0: F64Tensor, ts: readonly number[], target: F64Tensor) => E.Either<GradientError, LossGradient>;

const model = (message: string): E.Either<GradientError, never> => E.left({ _tag: 'Model', message });

/**
 * Compiles the adjoint gradient of `m`'s loss: the adjoint system and the loss gradient are
 * derived and compiled once; each call does one forward and one backward pass.
 * @example
 * const g = compileAdjointGradient(spiralModel(), { forward: { method: dopri5, rtol: 1e-7, atol: 1e-9 } });
 * if (E.isRight(g)) g.right(m.values, z0, ts, target) // right({ loss, dparams, dz0, dts, stats })
 */
export const compileAdjointGradient = (m: Model, o: AdjointOptions): E.Either<GradientError, AdjointGradientFn> => {
  const loss = m.loss;
  if (loss === undefined) return model(`model ${m.name} has no loss`);
  const pred = loss.prediction.node;
  if (pred.kind !== 'var') return model('loss: the prediction must be a variable');
  const [targetVar, ...more] = loss.inputs;
  if (targetVar === undefined || more.length > 0)
    return model(`loss: expected exactly one data input besides the prediction, found ${loss.inputs.map((v) => v.name).join(', ') || 'none'}`);
  const sys = makeAdjointSystem(m.dynamics);
  if (E.isLeft(sys)) return model(sys.left);
  const s = sys.right;
  const evaluator = o.evaluator ?? kernelEvaluator;
  const rhs = evaluator(augmentedRoots(s));
  const [dLdPred] = grad(loss.value.node, [pred]);
  if (dLdPred === undefined) return model('loss: no gradient');
  const lossProg = evaluator([loss.value.node, dLdPred]);
  const zVar = s.z, aVar = s.a, tVar = s.t;
  const paramSizes = s.paramAdjoints.map((p) => p.decl.shape.reduce((x, y) => x * y, 1));
  const P = paramSizes.reduce((x, y) => x + y, 0);
  const backward = o.backward ?? o.forward;
  const seminorm = o.seminorm ?? true;

  const fn: AdjointGradientFn = (params, z0, ts, target) => {
    const dyn = compileF64Dynamics(m.dynamics, params, { evaluator });
    if (E.isLeft(dyn)) return model(dyn.left);
    const B = z0.shape[0] as number;
    const D = z0.data.length / Math.max(1, B);
    const n = B * D;
    const rowShape = z0.shape.slice(1);
    // Forward: states at every observation time only.
    const fwd = integrate(f64Space, dyn.right.f, { data: z0.data, batch: B, dim: D }, {
      method: o.forward.method, ts, rtol: o.forward.rtol, atol: o.forward.atol,
      ...(o.forward.maxSteps === undefined ? {} : { maxSteps: o.forward.maxSteps }),
    });
    if (E.isLeft(fwd)) return E.left({ _tag: 'SolveFailed', phase: 'forward', error: fwd.left } as const);
    const T = ts.length;
    const predData = new Float64Array(T * n);
    fwd.right.ys.forEach((y, k) => predData.set(y.data, k * n));
    const prediction: F64Tensor = { shape: [T, ...z0.shape], data: predData };
    const lv = lossProg({ ...params, [pred.name]: prediction, [targetVar.name]: target });
    if (E.isLeft(lv)) return model(`loss: ${lv.left}`);
    const lossValue = (lv.right[0] as F64Tensor).data[0] as number;
    const gPred = (lv.right[1] as F64Tensor).data;

    // Packed augmented state (one row): [z (n), a (n), θ̄ (P), t̄ (1)].
    const dim = 2 * n + P + 1;
    const aug = new Float64Array(dim);
    const zView = (buf: Float64Array): F64Tensor => ({ shape: [B, ...rowShape], data: buf.subarray(0, n) });
    const aView = (buf: Float64Array): F64Tensor => ({ shape: [B, ...rowShape], data: buf.subarray(n, 2 * n) });
    let nfeBack = 0;
    const augF = (t: number, y: F64Batch): F64Batch => {
      const r = rhs({ ...params, [zVar.name]: zView(y.data), [aVar.name]: aView(y.data), [tVar.name]: scalarT(t) });
      if (E.isLeft(r)) throw new Error(`bug: evaluating the adjoint system failed: ${r.left}`);
      const out = new Float64Array(dim);
      let off = 0;
      for (const part of r.right) {
        out.set(part.data, off);
        off += part.data.length;
      }
      return { data: out, batch: 1, dim };
    };
    const norm: ErrorNorm | undefined = seminorm
      ? customNorm('seminorm (z, a only)', (sc) => {
        let acc = 0;
        for (let i = 0; i < 2 * n; i++) acc += (sc[i] as number) ** 2;
        return Math.sqrt(acc / Math.max(1, 2 * n));
      })
      : undefined;
    const dts = new Float64Array(T);
    aug.set(predData.subarray((T - 1) * n, T * n), 0);
    let stepsBack = 0;
    for (let i = T - 1; i >= 1; i--) {
      const gi = gPred.subarray(i * n, (i + 1) * n);
      for (let j = 0; j < n; j++) aug[n + j] = (aug[n + j] as number) + (gi[j] as number);
      // ∂L/∂tᵢ = ⟨∂L/∂z(tᵢ), f(tᵢ, z(tᵢ))⟩; t₀ gets the accumulated t̄ channel.
      const fi = dyn.right.f(ts[i] as number, { data: predData.subarray(i * n, (i + 1) * n), batch: B, dim: D }).data;
      nfeBack++;
      let dot = 0;
      for (let j = 0; j < n; j++) dot += (fi[j] as number) * (gi[j] as number);
      dts[i] = dot;
      aug[dim - 1] = (aug[dim - 1] as number) - dot;
      const r = integrate(f64Space, augF, { data: aug.slice(), batch: 1, dim }, {
        method: backward.method, t0: ts[i] as number, t1: ts[i - 1] as number, rtol: backward.rtol, atol: backward.atol,
        ...(norm === undefined ? {} : { norm }),
        ...(backward.maxSteps === undefined ? {} : { maxSteps: backward.maxSteps }),
      });
      if (E.isLeft(r)) return E.left({ _tag: 'SolveFailed', phase: 'backward', error: r.left } as const);
      nfeBack += r.right.stats.nfe;
      stepsBack += r.right.stats.accepted + r.right.stats.rejected;
      aug.set(r.right.yFinal.data);
      // Restart z from the forward solution (as torchdiffeq): backward error does not accumulate in z.
      aug.set(predData.subarray((i - 1) * n, i * n), 0);
    }
    const g0 = gPred.subarray(0, n);
    for (let j = 0; j < n; j++) aug[n + j] = (aug[n + j] as number) + (g0[j] as number);
    dts[0] = aug[dim - 1] as number;
    const dparams: Record<string, F64Tensor> = {};
    let off = 2 * n;
    s.paramAdjoints.forEach((p, k) => {
      const size = paramSizes[k] as number;
      dparams[p.decl.name] = { shape: p.decl.shape, data: aug.slice(off, off + size) };
      off += size;
    });
    return E.right({
      loss: lossValue,
      dz0: { shape: z0.shape, data: aug.slice(n, 2 * n) },
      dparams,
      dts,
      prediction,
      stats: { nfeForward: fwd.right.stats.nfe, nfeBackward: nfeBack, stepsForward: fwd.right.stats.accepted + fwd.right.stats.rejected, stepsBackward: stepsBack },
    });
  };
  return E.right(fn);
};
