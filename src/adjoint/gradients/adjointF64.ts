/**
 * The adjoint method on float64 (the `adjoint` method of the gradient API with `on.backend`
 * float64): the algorithm of `adjoint.ts` (same observation handling, same ∂L/∂tᵢ through the
 * t̄ channel, same mixed norm or seminorm), run without allocation per step. The f, adjoint
 * system and loss programs are compiled once per problem size into buffer programs (the generated
 * kernels by default) reading preallocated buffers; the augmented right-hand side writes its
 * parts straight into the solver's packed stage buffer through cached views; both solves run on
 * the Float64 loop (`src/solvers/f64Loop.ts`), falling back to `integrateF64` (hence `integrate`)
 * for methods the loop does not run and for the error value of a failed solve.
 *
 * At each observation time the augmented derivative at the new state is computed once and serves
 * twice: its z part gives ∂L/∂tᵢ = ⟨∂L/∂z(tᵢ), f(tᵢ, z(tᵢ))⟩, and it is the first stage of the
 * interval's solve. Each interval starts from the step size the controller proposed at the end of
 * the previous one (`restartSteps: true` picks it afresh with the initial-step heuristic, as
 * torchdiffeq does).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Node, NodeOf } from '../../dsl/node.ts';
import type { ParamValues } from '../../dsl/params.ts';
import { bindVars, formatBindError } from '../../interp/bind.ts';
import { bufferProgram, kernelEvaluator, type F64Evaluator } from '../../interp/evaluator.ts';
import { choosePlacement, workload, type Placement, type PlacementRequest } from '../../interp/placement.ts';
import { sizeOf, type F64Tensor } from '../../interp/tensor.ts';
import { tfjsBufferProgram } from '../../interp/tfjsBuffers.ts';
import { freeVars } from '../../interp/traverse.ts';
import { f64Workspace, loopSupports, runF64Loop, type F64Rhs, type F64Workspace, type LoopConfig, type LoopNorm } from '../../solvers/f64Loop.ts';
import { integrateF64, loopConfig } from '../../solvers/integrateF64.ts';
import { customNorm, defaultController, type ButcherTableau, type ErrorNorm, type F64Batch, type Method } from '../../solvers/index.ts';
import { bound, cachedPlan, fillInputs, problemKey, type Bound } from './f64Plan.ts';
import type { Symbolic } from './symbolic.ts';
import { invalidProblem, solveFailed, type AdjointConfig, type GradientData, type GradientError, type GradientResult } from './types.ts';

type VarNode = NodeOf<'var'>;

/** Where the float64 adjoint evaluates: an evaluator for every program, or a placement per program. */
export interface F64AdjointTarget {
  /** A custom evaluator runs every program (placement is then ignored). */
  readonly evaluator?: F64Evaluator;
  /** Kernel, tfjs (float32 evaluation, float64 solver) or auto; default kernel. */
  readonly placement?: PlacementRequest;
}

/** Everything compiled and allocated for one problem size. */
interface Plan {
  readonly n: number;
  readonly f: Bound;
  readonly aug: Bound;
  readonly loss: Bound;
  readonly lossOut: readonly Float64Array[];
  readonly augState: Float64Array;
  readonly k1: Float64Array;
  /** Loop workspaces per tableau, forward (state size n) and backward (the augmented size). */
  readonly fwdSpaces: WeakMap<ButcherTableau, F64Workspace>;
  readonly bwdSpaces: WeakMap<ButcherTableau, F64Workspace>;
  readonly fRhs: F64Rhs;
  readonly augRhs: F64Rhs;
  readonly placement: { readonly f: Placement; readonly adjoint: Placement };
  /** Forward loop settings for the last `ts` and solver seen (validated once per distinct pair). */
  fwdConfig: { readonly ts: readonly number[]; readonly method: Method; readonly key: string; readonly cfg: LoopConfig | undefined } | undefined;
}

/** Views of a packed buffer, cached per buffer (held weakly, so fallback arrays do not pile up). */
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

/** The loop's workspace for a method's tableau and size `n` (made once per tableau, held weakly), or none. */
const workspaceOf = (spaces: WeakMap<ButcherTableau, F64Workspace>, m: Method, n: number): F64Workspace | undefined => {
  if (m.kind !== 'explicit' || !loopSupports(m.tableau)) return undefined;
  const hit = spaces.get(m.tableau);
  if (hit !== undefined) return hit;
  const ws = f64Workspace(m.tableau, n);
  spaces.set(m.tableau, ws);
  return ws;
};

/**
 * The float64 adjoint gradient of a derived model, as a function of the data: plans (compiled
 * programs and buffers) are made once per problem size and reused.
 * @example
 * const g = adjointF64(sym, { method: 'adjoint', seminorm: true }, {});
 * g({ params, z0, ts: [0, 0.5, 1], lossInputs: { ytrue }, solver: { method: dopri5, rtol: 1e-7, atol: 1e-9 } }) // right({ loss, dz0, dparams, dts, … })
 */
export const adjointF64 = (s: Symbolic, cfg: AdjointConfig, target: F64AdjointTarget): ((d: GradientData) => E.Either<GradientError, GradientResult>) => {
  const sys = s.system;
  const z = s.z, a = sys.a, t = s.t, pred = s.pred;
  const evaluator = target.evaluator ?? kernelEvaluator;
  const fVars = freeVars(s.fRoots), augVars = freeVars(s.augRoots), lossVars = freeVars(s.lossRoots);
  const special = new Set<VarNode>([z, a, t, pred]);
  const paramSizes = sys.paramAdjoints.map((p) => sizeOf(p.decl.shape));
  const P = paramSizes.reduce((x, y) => x + y, 0);
  const seminorm = cfg.seminorm ?? false;
  const restart = cfg.restartSteps ?? false;
  const plans = new Map<string, E.Either<GradientError, Plan>>();

  const makePlan = (d: GradientData): E.Either<GradientError, Plan> => {
    const z0 = d.z0, T = d.ts.length;
    const n = z0.data.length;
    const env: Record<string, F64Tensor> = {
      ...d.params, ...(d.dynamicsInputs ?? {}), ...(d.lossInputs ?? {}),
      [z.name]: z0, [a.name]: z0, [t.name]: { shape: [], data: new Float64Array(1) },
      [pred.name]: { shape: [T, ...z0.shape], data: new Float64Array(0) },
    };
    const sizes = bindVars([...augVars, ...fVars], env, (x) => x.shape);
    if (E.isLeft(sizes)) return E.left(invalidProblem(`the dynamics: ${formatBindError(sizes.left)}`));
    const lossSizes = bindVars(lossVars, env, (x) => x.shape);
    if (E.isLeft(lossSizes)) return E.left(invalidProblem(`the loss: ${formatBindError(lossSizes.left)}`));
    const placed = (roots: readonly Node[], vars: readonly VarNode[]) => {
      if (target.evaluator !== undefined || target.placement === undefined || target.placement === 'kernel')
        return { p: bufferProgram(evaluator, roots, vars, sizes.right), at: 'kernel' as Placement };
      const load = workload(roots, vars, sizes.right);
      const at: Placement = target.placement === 'tfjs' ? 'tfjs' : E.isLeft(load) ? 'kernel' : choosePlacement(load.right, {}).backend;
      return { p: at === 'tfjs' ? tfjsBufferProgram(roots, vars, sizes.right) : bufferProgram(kernelEvaluator, roots, vars, sizes.right), at };
    };
    const fPlaced = placed(s.fRoots, fVars), aPlaced = placed(s.augRoots, augVars);
    const fp = fPlaced.p, ap = aPlaced.p;
    const lp = bufferProgram(evaluator, s.lossRoots, lossVars, lossSizes.right);
    if (E.isLeft(fp)) return E.left({ _tag: 'EvaluationFailed', what: 'the dynamics', message: fp.left });
    if (E.isLeft(ap)) return E.left({ _tag: 'EvaluationFailed', what: 'the adjoint system', message: ap.left });
    if (E.isLeft(lp)) return E.left({ _tag: 'EvaluationFailed', what: 'the loss', message: lp.left });
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
    return E.right({
      n, f, aug, loss: lo, fRhs, augRhs,
      lossOut: lp.right.outputSizes.map((k) => new Float64Array(k)),
      augState: new Float64Array(dim), k1: new Float64Array(dim),
      fwdConfig: undefined,
      placement: { f: fPlaced.at, adjoint: aPlaced.at },
      fwdSpaces: new WeakMap(), bwdSpaces: new WeakMap(),
    });
  };

  return (d) => {
    const z0 = d.z0, ts = d.ts, T = ts.length;
    const key = problemKey(d, [fVars, augVars, lossVars], special);
    if (E.isLeft(key)) return key;
    const planE = cachedPlan(plans, key.right, () => makePlan(d));
    if (E.isLeft(planE)) return planE;
    const plan = planE.right;
    const { n } = plan;
    for (const b of [plan.f, plan.aug, plan.loss]) fillInputs(b, d, special);
    const B = z0.shape[0] as number;
    const batchOf = (data: Float64Array): F64Batch => ({ data, batch: Math.max(1, B), dim: n / Math.max(1, B) });

    // Forward: states at every observation time only.
    const predData = new Float64Array(T * n);
    const fo = d.solver;
    const fwdOpts = {
      method: fo.method, ts,
      ...(fo.rtol === undefined ? {} : { rtol: fo.rtol }),
      ...(fo.atol === undefined ? {} : { atol: fo.atol }),
      ...(fo.maxSteps === undefined ? {} : { maxSteps: fo.maxSteps }),
    };
    let nfeForward = 0, acceptedForward = 0, rejectedForward = 0;
    if (T === 1) predData.set(z0.data);
    else {
      let base: LoopConfig | undefined;
      const fws = workspaceOf(plan.fwdSpaces, fo.method, n);
      if (fws !== undefined) {
        const c = plan.fwdConfig;
        const fkey = `${fo.rtol}|${fo.atol}|${fo.maxSteps}`;
        if (c !== undefined && c.method === fo.method && c.key === fkey && c.ts.length === T && c.ts.every((v, k) => v === ts[k])) base = c.cfg;
        else {
          base = loopConfig(fwdOpts, batchOf(z0.data));
          plan.fwdConfig = { ts: ts.slice(), method: fo.method, key: fkey, cfg: base };
        }
      }
      if (fws !== undefined && base !== undefined) runF64Loop(fws, plan.fRhs, z0.data, { ...base, out: predData });
      if (fws !== undefined && base !== undefined && fws.failed === undefined) {
        nfeForward = fws.nfe;
        acceptedForward = fws.accepted;
        rejectedForward = fws.rejected;
      } else {
        const r = integrateF64(plan.fRhs, batchOf(z0.data), fwdOpts);
        if (E.isLeft(r)) return E.left(solveFailed('forward', r.left));
        r.right.ys.forEach((y, k) => predData.set(y.data, k * n));
        nfeForward = r.right.stats.nfe;
        acceptedForward = r.right.stats.accepted;
        rejectedForward = r.right.stats.rejected;
      }
    }
    const lp = plan.loss;
    const predSlot = lp.slot(pred);
    if (predSlot >= 0) lp.ins[predSlot] = predData;
    lp.prog.run(lp.ins, plan.lossOut);
    const lossValue = (plan.lossOut[0] as Float64Array)[0] as number;
    const gPred = plan.lossOut[1] as Float64Array;

    // Packed augmented state (one row): [z (n), a (n), θ̄ (P), t̄ (1)].
    const dim = 2 * n + P + 1;
    const aug = plan.augState;
    aug.fill(0);
    const bo = cfg.backward ?? d.solver;
    const rtol = bo.rtol ?? 1e-6, atol = bo.atol ?? 1e-9;
    // torchdiffeq's mixed norm: the largest RMS over the parts z, a, each θ̄, t̄; the seminorm keeps z and a.
    const cuts = seminorm ? [0, n, 2 * n] : [0, n, 2 * n, ...paramSizes.map((_, k) => 2 * n + paramSizes.slice(0, k + 1).reduce((x, y) => x + y, 0)), dim];
    const norm: LoopNorm = { kind: 'maxRms', cuts: Int32Array.from(cuts) };
    const genericNorm: ErrorNorm = customNorm(seminorm ? 'seminorm (z and a)' : 'mixed (max of RMS per part)', (sc) => {
      let worst = 0;
      for (let k = 0; k + 1 < cuts.length; k++) {
        const lo = cuts[k] as number, hi = cuts[k + 1] as number;
        let acc = 0;
        for (let i = lo; i < hi; i++) acc += (sc[i] as number) ** 2;
        const rms = Math.sqrt(acc / Math.max(1, hi - lo));
        worst = Number.isNaN(rms) || Number.isNaN(worst) ? Number.NaN : Math.max(worst, rms);
      }
      return worst;
    });
    const bwdBase: Omit<LoopConfig, 't0' | 't1' | 'firstStep'> = {
      rtol, atol, norm, controller: defaultController,
      dtMin: 0, dtMax: Number.POSITIVE_INFINITY, maxSteps: bo.maxSteps ?? 100_000,
      ts: undefined, out: undefined, stops: [], k1Known: true,
      // The system reads z and a only; θ̄ and t̄ just accumulate.
      readLength: 2 * n,
    };
    const dts = new Float64Array(T);
    aug.set(predData.subarray((T - 1) * n, T * n), 0);
    let nfeBackward = 0, acceptedBackward = 0, rejectedBackward = 0;
    let hCarry: number | undefined;
    const ws = workspaceOf(plan.bwdSpaces, bo.method, dim);
    for (let i = T - 1; i >= 1; i--) {
      const gi = gPred.subarray(i * n, (i + 1) * n);
      for (let j = 0; j < n; j++) aug[n + j] = (aug[n + j] as number) + (gi[j] as number);
      const k1 = ws === undefined ? plan.k1 : (ws.ks[0] as Float64Array);
      plan.augRhs(ts[i] as number, aug, k1);
      nfeBackward++;
      let dot = 0;
      for (let j = 0; j < n; j++) dot += (k1[j] as number) * (gi[j] as number);
      dts[i] = dot;
      aug[dim - 1] = (aug[dim - 1] as number) - dot;
      const t0 = ts[i] as number, t1 = ts[i - 1] as number;
      const firstStep = restart ? undefined : hCarry;
      if (ws !== undefined) runF64Loop(ws, plan.augRhs, aug, { ...bwdBase, t0, t1, firstStep });
      if (ws !== undefined && ws.failed === undefined) {
        nfeBackward += ws.nfe;
        acceptedBackward += ws.accepted;
        rejectedBackward += ws.rejected;
        hCarry = ws.hNext;
        aug.set(ws.y);
      } else {
        const r = integrateF64(plan.augRhs, { data: aug.slice(), batch: 1, dim }, {
          method: bo.method, t0, t1, rtol, atol, norm: genericNorm,
          ...(firstStep === undefined ? {} : { firstStep }),
          ...(bo.maxSteps === undefined ? {} : { maxSteps: bo.maxSteps }),
        });
        if (E.isLeft(r)) return E.left(solveFailed('backward', r.left));
        nfeBackward += r.right.stats.nfe;
        acceptedBackward += r.right.stats.accepted;
        rejectedBackward += r.right.stats.rejected;
        aug.set(r.right.yFinal.data);
      }
      // Restart z from the forward solution (as torchdiffeq): backward error does not accumulate in z.
      aug.set(predData.subarray((i - 1) * n, i * n), 0);
    }
    const g0 = gPred.subarray(0, n);
    for (let j = 0; j < n; j++) aug[n + j] = (aug[n + j] as number) + (g0[j] as number);
    dts[0] = aug[dim - 1] as number;
    // Through the dynamics (adjoint order = the dynamics' parameter order), plus through the loss.
    const dparams: Record<string, F64Tensor> = {};
    const add = (name: string, x: F64Tensor): void => {
      const prev = dparams[name];
      dparams[name] = prev === undefined ? x : { shape: x.shape, data: prev.data.map((v, i) => v + (x.data[i] as number)) };
    };
    let off = 2 * n;
    s.dynParams.forEach((p, k) => {
      const size = paramSizes[k] as number;
      add(p.name, { shape: (d.params[p.name] as F64Tensor).shape, data: aug.slice(off, off + size) });
      off += size;
    });
    s.lossParams.forEach((p, k) => add(p.name, { shape: (d.params[p.name] as F64Tensor).shape, data: (plan.lossOut[2 + k] as Float64Array).slice() }));
    return E.right({
      loss: lossValue,
      dz0: { shape: z0.shape, data: aug.slice(n, 2 * n) },
      dparams: dparams as ParamValues,
      dts,
      prediction: { shape: [T, ...z0.shape], data: predData },
      stats: { nfeForward, nfeBackward, acceptedForward, rejectedForward, acceptedBackward, rejectedBackward },
      placement: plan.placement,
    });
  };
};
