/**
 * Discretise-then-optimise ("backprop through the solver") on the Float64 path: the exact
 * gradient of the computed discrete solution. The forward solve steps onto every observation
 * time and keeps the accepted steps (every k-th state with `checkpointEvery: k`); the reverse pass
 * walks the accepted steps backwards, recomputes each step's Runge–Kutta stages from its start
 * state, and reverses them with the symbolic VJP of f (the adjoint system's right-hand side,
 * compiled once). Step sizes are constants of the discrete solution (no gradient through the
 * step-size controller), as in diffrax. Memory grows with the number of steps.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import { augmentedRoots, makeAdjointSystem } from './system.ts';
import { compileLossGradient } from './lossGradient.ts';
import { kernelEvaluator, type F64Evaluator } from '../interp/evaluator.ts';
import { scalarT, type F64Tensor } from '../interp/tensor.ts';
import { compileF64Dynamics } from '../ode/f64Dynamics.ts';
import { f64Space, integrate, type ButcherTableau, type F64Batch } from '../solvers/index.ts';
import type { AdjointGradientFn, GradientError, SolveSettings } from './backsolveF64.ts';

/** Options of the backprop gradient. */
export interface BackpropOptions {
  readonly solver: SolveSettings;
  /** Keep every k-th accepted state and recompute the ones between (default 1: keep all). */
  readonly checkpointEvery?: number;
  readonly evaluator?: F64Evaluator;
}

const model = (message: string): E.Either<GradientError, never> => E.left({ _tag: 'Model', message });

/**
 * Compiles the discretise-then-optimise gradient of `m`'s loss (explicit Runge–Kutta methods).
 * @example
 * const g = compileBackpropGradient(spiralModel(), { solver: { method: dopri5, rtol: 1e-7, atol: 1e-9 } });
 * if (E.isRight(g)) g.right(m.values, z0, ts, target) // right({ loss, dparams, dz0, dts, stats })
 */
export const compileBackpropGradient = (m: Model, o: BackpropOptions): E.Either<GradientError, AdjointGradientFn> => {
  if (o.solver.method.kind !== 'explicit') return model(`backprop needs an explicit Runge–Kutta method; ${o.solver.method.name} is not (use the adjoint for rodas4)`);
  const tab: ButcherTableau = o.solver.method.tableau;
  const k = o.checkpointEvery ?? 1;
  if (!Number.isInteger(k) || k < 1) return model(`checkpointEvery must be an integer ≥ 1, got ${k}`);
  const evaluator = o.evaluator ?? kernelEvaluator;
  const lossGrad = compileLossGradient(m, evaluator);
  if (E.isLeft(lossGrad)) return model(lossGrad.left);
  const sys = makeAdjointSystem(m.dynamics);
  if (E.isLeft(sys)) return model(sys.left);
  const s = sys.right;
  // The adjoint RHS with a = k̄ gives −k̄ᵀ∂f/∂z, −k̄ᵀ∂f/∂θ, −k̄ᵀ∂f/∂t: the stage VJPs, negated.
  const vjpProg = evaluator(augmentedRoots(s).slice(1));
  const nP = s.paramAdjoints.length;
  const S = tab.stages;

  const fn: AdjointGradientFn = (params, z0, ts, target) => {
    const dyn = compileF64Dynamics(m.dynamics, params, { evaluator });
    if (E.isLeft(dyn)) return model(dyn.left);
    const f = dyn.right.f;
    const B = z0.shape[0] as number;
    const n = z0.data.length;
    const D = n / Math.max(1, B);
    const rowShape = z0.shape.slice(1);
    const fwd = integrate(f64Space, f, { data: z0.data, batch: B, dim: D }, {
      method: o.solver.method, ts, stepTs: ts, saveSteps: true, rtol: o.solver.rtol, atol: o.solver.atol,
      ...(o.solver.maxSteps === undefined ? {} : { maxSteps: o.solver.maxSteps }),
    });
    if (E.isLeft(fwd)) return E.left({ _tag: 'SolveFailed', phase: 'forward', error: fwd.left } as const);
    const steps = fwd.right.steps;
    if (steps === undefined) throw new Error('bug: saveSteps kept no steps');
    const stepT = steps.ts;
    let nfeBack = 0;
    // Recompute one step's stages from its start state (exactly as the reverse pass needs them).
    const stages = (t0: number, h: number, y0: Float64Array): { Y: Float64Array[]; K: Float64Array[]; y1: Float64Array } => {
      const Y: Float64Array[] = [], K: Float64Array[] = [];
      for (let i = 0; i < S; i++) {
        const Yi = Float64Array.from(y0);
        const row = tab.a[i] ?? [];
        for (let j = 0; j < row.length; j++) {
          const c = h * (row[j] as number);
          if (c === 0) continue;
          const Kj = K[j] as Float64Array;
          for (let q = 0; q < n; q++) Yi[q] = (Yi[q] as number) + c * (Kj[q] as number);
        }
        Y.push(Yi);
        K.push(Float64Array.from(f(t0 + (tab.c[i] as number) * h, { data: Yi, batch: B, dim: D }).data));
        nfeBack++;
      }
      const y1 = Float64Array.from(y0);
      for (let i = 0; i < S; i++) {
        const c = h * (tab.b[i] as number);
        if (c === 0) continue;
        const Ki = K[i] as Float64Array;
        for (let q = 0; q < n; q++) y1[q] = (y1[q] as number) + c * (Ki[q] as number);
      }
      return { Y, K, y1 };
    };
    // Kept states: every k-th accepted step (and the first); the rest are recomputed.
    const kept = new Map<number, Float64Array>();
    steps.ys.forEach((y, idx) => { if (idx % k === 0) kept.set(idx, Float64Array.from(y.data)); });
    const stateAt = (idx: number): Float64Array => {
      const base = idx - (idx % k);
      let y = kept.get(base) as Float64Array;
      for (let j = base; j < idx; j++) y = stages(stepT[j] as number, (stepT[j + 1] as number) - (stepT[j] as number), y).y1;
      return y;
    };
    // Observation i sits at the accepted step whose time equals ts[i].
    const T = ts.length;
    const obsStep: number[] = [];
    let cursor = 0;
    for (let i = 0; i < T; i++) {
      while (cursor < stepT.length && stepT[cursor] !== ts[i]) cursor++;
      if (cursor === stepT.length) throw new Error(`bug: no accepted step at observation time ${ts[i]}`);
      obsStep.push(cursor);
    }
    const predData = new Float64Array(T * n);
    obsStep.forEach((si, i) => predData.set((steps.ys[si] as F64Batch).data, i * n));
    const prediction: F64Tensor = { shape: [T, ...z0.shape], data: predData };
    const lg = lossGrad.right(params, prediction, target);
    if (E.isLeft(lg)) return model(lg.left);
    const gPred = lg.right.dPrediction;

    const ybar = new Float64Array(n);
    const pbar = s.paramAdjoints.map((p) => new Float64Array(p.decl.shape.reduce((x, y) => x * y, 1)));
    let tbarStages = 0;
    const dts = new Float64Array(T);
    let obs = T - 1;
    for (let idx = stepT.length - 1; idx >= 0; idx--) {
      // Cotangents of observations at this step's end state.
      while (obs >= 0 && obsStep[obs] === idx) {
        const gi = gPred.subarray(obs * n, (obs + 1) * n);
        for (let q = 0; q < n; q++) ybar[q] = (ybar[q] as number) + (gi[q] as number);
        if (obs > 0) {
          const fi = f(ts[obs] as number, { data: predData.subarray(obs * n, (obs + 1) * n), batch: B, dim: D }).data;
          nfeBack++;
          let dot = 0;
          for (let q = 0; q < n; q++) dot += (fi[q] as number) * (gi[q] as number);
          dts[obs] = dot;
        }
        obs--;
      }
      if (idx === 0) break;
      // Reverse step idx-1 → idx.
      const t0 = stepT[idx - 1] as number, h = (stepT[idx] as number) - t0;
      const { Y } = stages(t0, h, stateAt(idx - 1));
      const kbar = Array.from({ length: S }, (_, i) => {
        const c = h * (tab.b[i] as number);
        return c === 0 ? undefined : ybar.map((v) => c * v);
      });
      const ynew = Float64Array.from(ybar);
      for (let i = S - 1; i >= 0; i--) {
        const kb = kbar[i];
        if (kb === undefined) continue;
        const r = vjpProg({ ...params, [s.z.name]: { shape: [B, ...rowShape], data: Y[i] as Float64Array }, [s.a.name]: { shape: [B, ...rowShape], data: kb }, [s.t.name]: scalarT(t0 + (tab.c[i] as number) * h) });
        if (E.isLeft(r)) throw new Error(`bug: stage VJP failed: ${r.left}`);
        nfeBack++;
        const Ybar = (r.right[0] as F64Tensor).data;
        for (let p = 0; p < nP; p++) {
          const acc = pbar[p] as Float64Array, d = (r.right[1 + p] as F64Tensor).data;
          for (let q = 0; q < acc.length; q++) acc[q] = (acc[q] as number) - (d[q] as number);
        }
        tbarStages -= (r.right[1 + nP] as F64Tensor).data[0] as number;
        // Ȳᵢ = −(vjp output); it flows to y_n and to earlier stages through aᵢⱼ.
        const row = tab.a[i] ?? [];
        for (let q = 0; q < n; q++) ynew[q] = (ynew[q] as number) - (Ybar[q] as number);
        for (let j = 0; j < row.length; j++) {
          const c = h * (row[j] as number);
          if (c === 0) continue;
          let kj = kbar[j];
          if (kj === undefined) { kj = new Float64Array(n); kbar[j] = kj; }
          for (let q = 0; q < n; q++) kj[q] = (kj[q] as number) - c * (Ybar[q] as number);
        }
      }
      ybar.set(ynew);
    }
    dts[0] = tbarStages - dts.reduce((acc, v, i) => (i === 0 ? acc : acc + v), 0);
    const dparams: Record<string, F64Tensor> = {};
    s.paramAdjoints.forEach((p, i) => { dparams[p.decl.name] = { shape: p.decl.shape, data: pbar[i] as Float64Array }; });
    return E.right({
      loss: lg.right.loss, dz0: { shape: z0.shape, data: ybar }, dparams, dts, prediction,
      stats: { nfeForward: fwd.right.stats.nfe, nfeBackward: nfeBack, stepsForward: fwd.right.stats.accepted + fwd.right.stats.rejected, stepsBackward: stepT.length - 1 },
    });
  };
  return E.right(fn);
};
