/**
 * The adjoint method (Chen et al. 2018, Algorithm 1, "backsolve") on the Float64 path, for a
 * loss on the solution at observation times t₀ < t₁ < … (or decreasing). Forward: one solve, no
 * stored trajectory. Backward: the augmented system [z, a, θ̄, t̄] — derived symbolically by
 * `makeAdjointSystem` and compiled into one generated kernel — is integrated back one
 * observation interval at a time, adding ∂L/∂z(tᵢ) to a at each observed time (as torchdiffeq's
 * `odeint_adjoint`). With `seminorm`, the θ̄ and t̄ channels do not enter the step-size error
 * norm (Kidger, Chen & Lyons 2021), which cuts backward evaluations.
 *
 * The hot path allocates nothing per step: the kernels are compiled once per batch size and run
 * on preallocated buffers, the augmented right-hand side writes its parts straight into the
 * solver's packed stage buffer through cached views, and both solves run on the Float64 loop
 * (`src/solvers/f64Loop.ts`). At each observation time the augmented derivative at the new
 * state is computed once and serves twice: its z part gives ∂L/∂tᵢ = ⟨∂L/∂z(tᵢ), f(tᵢ, z(tᵢ))⟩,
 * and it is the first stage of the interval's solve. Each interval starts from the step size the
 * controller proposed at the end of the previous one (`restartSteps: true` picks it afresh with
 * the initial-step heuristic instead, as torchdiffeq does).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import type { Node, VarNode } from '../dsl/node.ts';
import type { ParamValues } from '../dsl/params.ts';
import { formatShape, isSym } from '../dsl/shape.ts';
import { grad } from './vjp.ts';
import { augmentedRoots, makeAdjointSystem } from './system.ts';
import { bindVars, formatBindError } from '../interp/bind.ts';
import { bufferProgram, kernelEvaluator, type BufferProgram, type F64Evaluator } from '../interp/evaluator.ts';
import { choosePlacement, workload, type Placement, type PlacementRequest } from '../interp/placement.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { tfjsBufferProgram } from '../interp/tfjsBuffers.ts';
import { freeVars } from '../interp/traverse.ts';
import { f64Workspace, loopSupports, runF64Loop, type F64Rhs, type F64Workspace, type LoopConfig, type LoopNorm } from '../solvers/f64Loop.ts';
import { integrateF64, loopConfig } from '../solvers/integrateF64.ts';
import { customNorm, defaultController, rmsNorm, type ErrorNorm, type F64Batch, type Method, type SolveError } from '../solvers/index.ts';

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
  /** Start every backward interval with the initial-step heuristic (default false: continue with the last proposal). */
  readonly restartSteps?: boolean;
  /** A float64 evaluator for every program (default: the generated kernels, placed automatically). */
  readonly evaluator?: F64Evaluator;
  /**
   * Where f and the adjoint system are evaluated when no `evaluator` is given: `kernel` (float64),
   * `tfjs` (float32 on the active tfjs backend; the solver stays float64) or `auto` (the cost
   * model of `placement.ts`, per program and batch size). Default: `FLUXION_BACKEND`, else auto.
   */
  readonly backend?: PlacementRequest;
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
  /** Where f and the adjoint system were evaluated. */
  readonly placement: { readonly f: Placement; readonly adjoint: Placement };
}

/** Why a gradient could not be computed. */
export type GradientError =
  | { readonly _tag: 'Model'; readonly message: string }
  | { readonly _tag: 'SolveFailed'; readonly phase: 'forward' | 'backward'; readonly error: SolveError };

/**
 * A compiled gradient of one model's loss, reusable across parameter values and batches. `target`
 * is the loss's data input (ignored when the loss has none).
 */
export type AdjointGradientFn = (params: ParamValues, z0: F64Tensor, ts: readonly number[], target: F64Tensor) => E.Either<GradientError, LossGradient>;

const model = (message: string): E.Either<GradientError, never> => E.left({ _tag: 'Model', message });
const solveFailed = (phase: 'forward' | 'backward', error: SolveError): E.Either<GradientError, never> => E.left({ _tag: 'SolveFailed', phase, error });

/** A buffer program with its input buffers; state, time and parameter slots are filled per call. */
interface Bound {
  readonly prog: BufferProgram;
  readonly ins: Float64Array[];
  readonly vars: readonly VarNode[];
  readonly slot: (v: VarNode | undefined) => number;
}

const bound = (prog: BufferProgram, vars: readonly VarNode[]): Bound => ({
  prog, vars, ins: prog.inputSizes.map((n) => new Float64Array(n)),
  slot: (v) => (v === undefined ? -1 : vars.indexOf(v)),
});

/** Everything compiled and allocated for one problem size (batch, observation count, target). */
interface Plan {
  readonly n: number;
  readonly f: Bound;
  readonly aug: Bound;
  readonly loss: Bound;
  readonly tBuf: Float64Array;
  readonly lossOut: readonly [Float64Array, Float64Array];
  readonly augState: Float64Array;
  readonly k1: Float64Array;
  readonly fwd: F64Workspace | undefined;
  readonly bwd: F64Workspace | undefined;
  readonly fRhs: F64Rhs;
  readonly augRhs: F64Rhs;
  readonly placement: { readonly f: Placement; readonly adjoint: Placement };
  /** The forward loop settings for the last `ts` seen. */
  fwdConfig: { readonly ts: readonly number[] | undefined; readonly cfg: LoopConfig | undefined };
}

/**
 * Views of a packed buffer (z, a inputs; every output part), cached per buffer: no allocation per
 * call for the solver's fixed buffers; held weakly, so the fallback's fresh arrays do not pile up.
 */
const viewCache = (cuts: readonly number[]) => {
  const cache = new WeakMap<Float64Array, Float64Array[]>();
  return (buf: Float64Array): Float64Array[] => {
    let v = cache.get(buf);
    if (v === undefined) {
      v = cuts.slice(1).map((end, i) => buf.subarray(cuts[i] as number, end));
      cache.set(buf, v);
    }
    return v;
  };
};

/**
 * Compiles the adjoint gradient of `m`'s loss: the adjoint system and the loss gradient are
 * derived once, and compiled once per problem size; each call does one forward and one backward pass.
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
  if (more.length > 0)
    return model(`loss: expected at most one data input besides the prediction, found ${loss.inputs.map((v) => v.name).join(', ')}`);
  const sys = makeAdjointSystem(m.dynamics);
  if (E.isLeft(sys)) return model(sys.left);
  const s = sys.right;
  const z = s.z, a = s.a, t = s.t;
  if (z.shape.length < 1 || z.shape.slice(1).some(isSym))
    return model(`dynamics: the state must be [batch, numeric dims…], got ${formatShape(z.shape)}`);
  const evaluator = o.evaluator ?? kernelEvaluator;
  const fRoots = [m.dynamics.f.node];
  const augRoots = augmentedRoots(s);
  const [dLdPred] = grad(loss.value.node, [pred]);
  if (dLdPred === undefined) return model('loss: no gradient');
  const lossRoots = [loss.value.node, dLdPred];
  const fVars = freeVars(fRoots), augVars = freeVars(augRoots), lossVars = freeVars(lossRoots);
  const special = new Set<VarNode>([z, a, t, pred, ...(targetVar === undefined ? [] : [targetVar])]);
  const paramVars = [...new Set([...fVars, ...augVars, ...lossVars].filter((v) => !special.has(v)))];
  const paramSizes = s.paramAdjoints.map((p) => p.decl.shape.reduce((x, y) => x * y, 1));
  const P = paramSizes.reduce((x, y) => x + y, 0);
  const backward = o.backward ?? o.forward;
  const seminorm = o.seminorm ?? true;
  const restart = o.restartSteps ?? false;
  const plans = new Map<string, E.Either<GradientError, Plan>>();

  const makePlan = (params: ParamValues, z0: F64Tensor, T: number, target: F64Tensor | undefined): E.Either<GradientError, Plan> => {
    const n = z0.data.length;
    const tT: F64Tensor = { shape: [], data: new Float64Array(1) };
    const env: Record<string, F64Tensor> = { ...params, [z.name]: z0, [a.name]: z0, [t.name]: tT, [pred.name]: { shape: [T, ...z0.shape], data: new Float64Array(0) } };
    if (targetVar !== undefined && target !== undefined) env[targetVar.name] = target;
    const sizes = bindVars([...augVars, ...fVars], env, (x) => x.shape);
    if (E.isLeft(sizes)) return model(formatBindError(sizes.left));
    const lossSizes = bindVars(lossVars, env, (x) => x.shape);
    if (E.isLeft(lossSizes)) return model(`loss: ${formatBindError(lossSizes.left)}`);
    // Placement per program: a custom evaluator runs everything; else the kernel or tfjs.
    const placed = (roots: readonly Node[], vars: readonly VarNode[]): { readonly p: E.Either<string, BufferProgram>; readonly at: Placement } => {
      if (o.evaluator !== undefined) return { p: bufferProgram(evaluator, roots, vars, sizes.right), at: 'kernel' };
      const load = workload(roots, vars, sizes.right);
      const at = E.isLeft(load) ? 'kernel' : choosePlacement(load.right, o.backend === undefined ? {} : { request: o.backend }).backend;
      return { p: at === 'tfjs' ? tfjsBufferProgram(roots, vars, sizes.right) : bufferProgram(kernelEvaluator, roots, vars, sizes.right), at };
    };
    const fPlaced = placed(fRoots, fVars), aPlaced = placed(augRoots, augVars);
    const fp = fPlaced.p, ap = aPlaced.p;
    const lp = bufferProgram(evaluator, lossRoots, lossVars, lossSizes.right);
    if (E.isLeft(fp)) return model(`dynamics: ${fp.left}`);
    if (E.isLeft(ap)) return model(`adjoint system: ${ap.left}`);
    if (E.isLeft(lp)) return model(`loss: ${lp.left}`);
    const f = bound(fp.right, fVars), aug = bound(ap.right, augVars), lo = bound(lp.right, lossVars);
    const tBuf = new Float64Array(1);
    for (const b of [f, aug]) if (b.slot(t) >= 0) b.ins[b.slot(t)] = tBuf;
    const dim = 2 * n + P + 1;
    const fz = f.slot(z), az = aug.slot(z), aa = aug.slot(a);
    const fOuts: Float64Array[] = [new Float64Array(n)];
    const fRhs: F64Rhs = (tv, y, out) => {
      tBuf[0] = tv;
      if (fz >= 0) f.ins[fz] = y;
      fOuts[0] = out;
      f.prog.run(f.ins, fOuts);
    };
    const inViews = viewCache([0, n, 2 * n]);
    const outViews = viewCache([0, n, 2 * n, ...paramSizes.map((_, k) => 2 * n + paramSizes.slice(0, k + 1).reduce((x, y) => x + y, 0)), dim]);
    const augRhs: F64Rhs = (tv, y, out) => {
      tBuf[0] = tv;
      const v = inViews(y);
      if (az >= 0) aug.ins[az] = v[0] as Float64Array;
      if (aa >= 0) aug.ins[aa] = v[1] as Float64Array;
      aug.prog.run(aug.ins, outViews(out));
    };
    const method = (x: Method) => (x.kind === 'explicit' && loopSupports(x.tableau) ? x.tableau : undefined);
    const ft = method(o.forward.method), bt = method(backward.method);
    return E.right({
      n, f, aug, loss: lo, tBuf, fRhs, augRhs,
      lossOut: [new Float64Array(1), new Float64Array(T * n)],
      augState: new Float64Array(dim), k1: new Float64Array(dim),
      fwdConfig: { ts: undefined, cfg: undefined },
      placement: { f: fPlaced.at, adjoint: aPlaced.at },
      fwd: ft === undefined ? undefined : f64Workspace(ft, n),
      bwd: bt === undefined ? undefined : f64Workspace(bt, dim),
    });
  };

  const fn: AdjointGradientFn = (params, z0, ts, target) => {
    for (const v of paramVars) {
      const p = params[v.name];
      if (p === undefined) return model(`missing input ${v.name} of shape ${formatShape(v.shape)}`);
      if (p.shape.length !== v.shape.length || p.shape.some((d, i) => d !== v.shape[i]) || p.data.length !== p.shape.reduce((x, y) => x * y, 1))
        return model(`input ${v.name} has shape [${p.shape.join(',')}], expected ${formatShape(v.shape)}`);
    }
    const T = ts.length;
    const tgt = targetVar === undefined ? undefined : target;
    const key = `${z0.shape.join(',')}|${T}|${tgt?.shape.join(',') ?? ''}`;
    let planE = plans.get(key);
    if (planE === undefined) {
      planE = makePlan(params, z0, T, tgt);
      plans.set(key, planE);
    }
    if (E.isLeft(planE)) return planE;
    const plan = planE.right;
    const { n } = plan;
    if (z0.data.length !== n) return model(`z0 has ${z0.data.length} values for shape [${z0.shape.join(',')}]`);
    if (tgt !== undefined && tgt.data.length !== tgt.shape.reduce((x, y) => x * y, 1)) return model(`the target has ${tgt.data.length} values for shape [${tgt.shape.join(',')}]`);
    for (const b of [plan.f, plan.aug, plan.loss]) {
      for (let i = 0; i < b.vars.length; i++) {
        const v = b.vars[i] as VarNode;
        const p = params[v.name];
        if (p !== undefined && !special.has(v)) b.ins[i] = p.data;
      }
    }
    const B = z0.shape[0] as number;
    const D = n / Math.max(1, B);
    const batchOf = (data: Float64Array): F64Batch => ({ data, batch: B, dim: D });

    // Forward: states at every observation time only.
    const predData = new Float64Array(T * n);
    const fwdOpts = {
      method: o.forward.method, ts, rtol: o.forward.rtol, atol: o.forward.atol,
      ...(o.forward.maxSteps === undefined ? {} : { maxSteps: o.forward.maxSteps }),
    };
    // The forward settings depend on ts only: validated once per distinct ts.
    let base: LoopConfig | undefined;
    if (plan.fwd !== undefined) {
      const c = plan.fwdConfig;
      if (c.ts !== undefined && c.ts.length === T && c.ts.every((v, k) => v === ts[k])) base = c.cfg;
      else {
        base = loopConfig(fwdOpts, batchOf(z0.data));
        plan.fwdConfig = { ts: ts.slice(), cfg: base };
      }
    }
    let nfeForward: number, stepsForward: number;
    if (plan.fwd !== undefined && base !== undefined) runF64Loop(plan.fwd, plan.fRhs, z0.data, { ...base, out: predData });
    if (plan.fwd !== undefined && base !== undefined && plan.fwd.failed === undefined) {
      nfeForward = plan.fwd.nfe;
      stepsForward = plan.fwd.accepted + plan.fwd.rejected;
    } else {
      const r = integrateF64(plan.fRhs, batchOf(z0.data), fwdOpts);
      if (E.isLeft(r)) return solveFailed('forward', r.left);
      r.right.ys.forEach((y, k) => predData.set(y.data, k * n));
      nfeForward = r.right.stats.nfe;
      stepsForward = r.right.stats.accepted + r.right.stats.rejected;
    }
    const prediction: F64Tensor = { shape: [T, ...z0.shape], data: predData };
    const lp = plan.loss;
    const predSlot = lp.slot(pred), targetSlot = lp.slot(targetVar);
    if (predSlot >= 0) lp.ins[predSlot] = predData;
    if (targetSlot >= 0 && tgt !== undefined) lp.ins[targetSlot] = tgt.data;
    lp.prog.run(lp.ins, plan.lossOut);
    const lossValue = plan.lossOut[0][0] as number;
    const gPred = plan.lossOut[1];

    // Packed augmented state (one row): [z (n), a (n), θ̄ (P), t̄ (1)].
    const dim = 2 * n + P + 1;
    const aug = plan.augState;
    aug.fill(0);
    const norm: LoopNorm = seminorm ? { kind: 'rmsPrefix', count: 2 * n } : rmsNorm;
    const genericNorm: ErrorNorm = seminorm
      ? customNorm('seminorm (z, a only)', (sc) => {
        let acc = 0;
        for (let i = 0; i < 2 * n; i++) {
          const v = sc[i] as number;
          acc = acc + v * v;
        }
        return Math.sqrt(acc / Math.max(1, 2 * n));
      })
      : rmsNorm;
    const bwdBase: Omit<LoopConfig, 't0' | 't1' | 'firstStep'> = {
      rtol: backward.rtol, atol: backward.atol, norm, controller: defaultController,
      dtMin: 0, dtMax: Number.POSITIVE_INFINITY, maxSteps: backward.maxSteps ?? 100_000,
      ts: undefined, out: undefined, stops: [], k1Known: true,
      // The system reads z and a only; θ̄ and t̄ just accumulate.
      readLength: 2 * n,
    };
    const dts = new Float64Array(T);
    aug.set(predData.subarray((T - 1) * n, T * n), 0);
    let nfeBack = 0, stepsBack = 0;
    let hCarry: number | undefined;
    const ws = plan.bwd;
    for (let i = T - 1; i >= 1; i--) {
      const gi = gPred.subarray(i * n, (i + 1) * n);
      for (let j = 0; j < n; j++) aug[n + j] = (aug[n + j] as number) + (gi[j] as number);
      // One evaluation of the augmented system at (tᵢ, state): its z part is f(tᵢ, z(tᵢ)) for
      // ∂L/∂tᵢ, and the whole is the first stage of the interval (θ̄ and t̄ do not enter it).
      const k1 = ws === undefined ? plan.k1 : (ws.ks[0] as Float64Array);
      plan.augRhs(ts[i] as number, aug, k1);
      nfeBack++;
      let dot = 0;
      for (let j = 0; j < n; j++) dot += (k1[j] as number) * (gi[j] as number);
      dts[i] = dot;
      aug[dim - 1] = (aug[dim - 1] as number) - dot;
      const t0 = ts[i] as number, t1 = ts[i - 1] as number;
      const firstStep = restart ? undefined : hCarry;
      if (ws !== undefined) runF64Loop(ws, plan.augRhs, aug, { ...bwdBase, t0, t1, firstStep });
      if (ws !== undefined && ws.failed === undefined) {
        nfeBack += ws.nfe;
        stepsBack += ws.accepted + ws.rejected;
        hCarry = ws.hNext;
        aug.set(ws.y);
      } else {
        const r = integrateF64(plan.augRhs, { data: aug.slice(), batch: 1, dim }, {
          method: backward.method, t0, t1, rtol: backward.rtol, atol: backward.atol, norm: genericNorm,
          ...(firstStep === undefined ? {} : { firstStep }),
          ...(backward.maxSteps === undefined ? {} : { maxSteps: backward.maxSteps }),
        });
        if (E.isLeft(r)) return solveFailed('backward', r.left);
        nfeBack += r.right.stats.nfe;
        stepsBack += r.right.stats.accepted + r.right.stats.rejected;
        aug.set(r.right.yFinal.data);
      }
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
      stats: { nfeForward, nfeBackward: nfeBack, stepsForward, stepsBackward: stepsBack },
      placement: plan.placement,
    });
  };
  return E.right(fn);
};
