/**
 * Backprop on float64 without allocation per step (the `backprop` method of the gradient API on
 * the float64 backend, for methods the Float64 loop runs): discretise-then-optimise, the exact
 * gradient of the computed discrete solution.
 *
 * Forward: the plain adaptive solve of `f64Loop.ts` — the same accepted steps, outputs and NFE as
 * the forward solve of the adjoint — stepping freely over [t₀, t_end]; outputs at the observation
 * times come from each step's dense output (the tableau's interpolant, else cubic Hermite). Each
 * accepted step's start state, end state, stage derivatives and f(t + h, y₁) go to a tape:
 * memory O(steps · stages · state size), inherent to backprop (`checkpointEvery: k` keeps every
 * k-th start state only and recomputes a segment's steps in the reverse pass, at the price of
 * their f evaluations).
 *
 * Reverse (`backpropReverse.ts`, over the tape of `backpropTape.ts`): steps are walked
 * backwards; the cotangents of the outputs flow through the interpolant into the step's stages
 * and start/end states, then through y₁ = y₀ + hΣbᵢkᵢ and the
 * stage combinations Yᵢ = y₀ + hΣaᵢⱼkⱼ, each stage through the VJP of f at (tᵢ, Yᵢ) (one
 * compiled program, −k̄ᵀ∂f/∂(z, θ, t): the adjoint system's right-hand sides without f).
 *
 * Not differentiated: rejected steps, the error estimate and the step-size controller — the
 * accepted step sizes are constants of the discrete solution, as in torchdiffeq and diffrax by
 * default. Times: interior observation times only place outputs (∂L/∂tᵢ through the
 * interpolant's time derivative); the grid keeps its fractions φⱼ = (sⱼ − t₀)/(t_end − t₀) of the
 * span, so moving t₀ or t_end stretches every step. All tend to the continuous gradient as the
 * tolerances shrink.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { NodeOf } from '../../dsl/node.ts';
import type { ParamValues } from '../../dsl/params.ts';
import { bindVars, formatBindError } from '../../interp/bind.ts';
import { bufferProgram, type F64Evaluator } from '../../interp/evaluator.ts';
import { sizeOf, type F64Tensor } from '../../interp/tensor.ts';
import { freeVars } from '../../interp/traverse.ts';
import { f64Workspace, loopSupports, runF64Loop, type F64Rhs, type LoopConfig } from '../../solvers/f64Loop.ts';
import { integrateF64, loopConfig } from '../../solvers/integrateF64.ts';
import type { ButcherTableau, F64Batch, Method } from '../../solvers/index.ts';
import { reverseSweep } from './backpropReverse.ts';
import { coeffsOf, combine, copyActs, newActs, newStep, type Coeffs, type Runner, type Step } from './backpropTape.ts';
import { splitSaved } from './saved.ts';
import { bound, cachedPlan, fillInputs, problemKey, type Bound } from './f64Plan.ts';
import type { Symbolic } from './symbolic.ts';
import { invalidProblem, solveFailed, type BackpropConfig, type GradientData, type GradientError, type GradientResult } from './types.ts';

type VarNode = NodeOf<'var'>;

/** Saved activations kept per tape by default (float64s, 128 MiB); later steps recompute them. */
const defaultMaxSaved = 2 ** 24;

/** Everything compiled and allocated for one problem size. */
interface Plan {
  readonly n: number;
  readonly f: Bound;
  /** The VJP reading saved activations (the plain one when nothing is saved). */
  readonly vjp: Bound;
  /** The VJP recomputing them, compiled when a step has none. */
  plainVjp: Bound | undefined;
  /** Sizes of the saved activations. */
  readonly actSizes: readonly number[];
  readonly actTotal: number;
  readonly sizes: ReadonlyMap<string, number>;
  readonly loss: Bound;
  readonly lossOut: readonly Float64Array[];
  /** The VJP's outputs: −k̄ᵀ∂f/∂z (n), −k̄ᵀ∂f/∂θ per parameter, −k̄ᵀ∂f/∂t (1). */
  readonly vjpOut: readonly Float64Array[];
  readonly pbar: Float64Array;
  readonly tBuf: Float64Array;
  readonly fRhs: F64Rhs;
  /** Where the next f evaluations write their saved activations (undefined: by output buffer). */
  actTarget: readonly Float64Array[] | undefined;
  /** The running runner's output-buffer map (the Float64 loop's evaluations). */
  runnerActs: Map<Float64Array, readonly Float64Array[]> | undefined;
  /** Activations of evaluations nobody keeps. */
  readonly actScratch: readonly Float64Array[];
  readonly runners: WeakMap<ButcherTableau, Runner>;
  /** Forward loop settings for the last `ts` and solver seen. */
  fwd: { readonly ts: readonly number[]; readonly method: Method; readonly key: string; readonly cfg: LoopConfig | undefined } | undefined;
}

/**
 * The float64 backprop gradient of a derived model, as a function of the data: plans (compiled
 * f, f's VJP and the loss, tape and buffers) are made once per problem size and reused. Methods
 * the Float64 loop does not run (fixed-step, DOP853, implicit) go to `fallback`. Saved
 * activations are kept for at most `limits.maxSavedElements` float64s per tape (default 2²⁴);
 * the VJPs of later steps recompute them.
 * @example
 * const g = backpropF64(sym, { method: 'backprop' }, kernelEvaluator, (d) => generic(d));
 * g({ params, z0, ts: [0, 0.5, 1], lossInputs: { ytrue }, solver: { method: dopri5, rtol: 1e-7, atol: 1e-9 } }) // right({ loss, dz0, dparams, dts, … })
 */
export const backpropF64 = (
  s: Symbolic, cfg: BackpropConfig, evaluator: F64Evaluator,
  fallback: (d: GradientData) => E.Either<GradientError, GradientResult>,
  limits: { readonly maxSavedElements?: number } = {},
): ((d: GradientData) => E.Either<GradientError, GradientResult>) => {
  const maxSaved = limits.maxSavedElements ?? defaultMaxSaved;
  /** Whether tape slot j keeps activations (within `maxSaved`). */
  const savesAt = (plan: Plan, j: number, st: number): boolean => plan.actTotal > 0 && (j + 1) * (st + 1) * plan.actTotal <= maxSaved;
  const sys = s.system;
  const z = s.z, a = sys.a, t = s.t, pred = s.pred;
  const k = cfg.checkpointEvery ?? 1;
  const split = splitSaved(s.fRoots, s.vjpRoots);
  const fwdRoots = [...s.fRoots, ...split.saved];
  const fVars = freeVars(fwdRoots), vjpVars = freeVars(s.vjpRoots), lossVars = freeVars(s.lossRoots);
  const savedVjpVars = freeVars(split.vjpRoots);
  const special = new Set<VarNode>([z, a, t, pred, ...split.vars]);
  const paramSizes = sys.paramAdjoints.map((p) => sizeOf(p.decl.shape));
  const P = paramSizes.reduce((x, y) => x + y, 0);
  const plans = new Map<string, E.Either<GradientError, Plan>>();

  const makePlan = (d: GradientData): E.Either<GradientError, Plan> => {
    const z0 = d.z0, T = d.ts.length;
    const n = z0.data.length;
    const env: Record<string, F64Tensor> = {
      ...d.params, ...(d.dynamicsInputs ?? {}), ...(d.lossInputs ?? {}),
      [z.name]: z0, [a.name]: z0, [t.name]: { shape: [], data: new Float64Array(1) },
      [pred.name]: { shape: [T, ...z0.shape], data: new Float64Array(0) },
    };
    const sizes = bindVars([...vjpVars, ...fVars], env, (x) => x.shape);
    if (E.isLeft(sizes)) return E.left(invalidProblem(`the dynamics: ${formatBindError(sizes.left)}`));
    const lossSizes = bindVars(lossVars, env, (x) => x.shape);
    if (E.isLeft(lossSizes)) return E.left(invalidProblem(`the loss: ${formatBindError(lossSizes.left)}`));
    const fp = bufferProgram(evaluator, fwdRoots, fVars, sizes.right);
    if (E.isLeft(fp)) return E.left({ _tag: 'EvaluationFailed', what: 'the dynamics', message: fp.left });
    const vp = bufferProgram(evaluator, split.vjpRoots, savedVjpVars, sizes.right);
    if (E.isLeft(vp)) return E.left({ _tag: 'EvaluationFailed', what: 'the dynamics’ VJP', message: vp.left });
    const lp = bufferProgram(evaluator, s.lossRoots, lossVars, lossSizes.right);
    if (E.isLeft(lp)) return E.left({ _tag: 'EvaluationFailed', what: 'the loss', message: lp.left });
    const f = bound(fp.right, fVars), vjp = bound(vp.right, savedVjpVars), lo = bound(lp.right, lossVars);
    const actSizes = fp.right.outputSizes.slice(1);
    const tBuf = new Float64Array(1);
    for (const b of [f, vjp]) if (b.slot(t) >= 0) b.ins[b.slot(t)] = tBuf;
    const fz = f.slot(z);
    const fOuts: Float64Array[] = [new Float64Array(n), ...actSizes.map((m) => new Float64Array(m))];
    const actScratch = actSizes.map((m) => new Float64Array(m));
    const fRhs: F64Rhs = (tv, y, out) => {
      tBuf[0] = tv;
      if (fz >= 0) f.ins[fz] = y;
      fOuts[0] = out;
      const acts = plan.actTarget ?? plan.runnerActs?.get(out) ?? actScratch;
      for (let q = 0; q < acts.length; q++) fOuts[q + 1] = acts[q] as Float64Array;
      f.prog.run(f.ins, fOuts);
    };
    const plan: Plan = {
      n, f, vjp, plainVjp: split.saved.length === 0 ? vjp : undefined,
      actSizes, actTotal: actSizes.reduce((x, y) => x + y, 0), sizes: sizes.right, actTarget: undefined, actScratch, runnerActs: undefined,
      loss: lo, fRhs, tBuf, runners: new WeakMap(), fwd: undefined,
      lossOut: lp.right.outputSizes.map((m) => new Float64Array(m)),
      vjpOut: vp.right.outputSizes.map((m) => new Float64Array(m)),
      pbar: new Float64Array(P),
    };
    return E.right(plan);
  };

  const savedSlots = Int32Array.from(split.vars.map((v) => savedVjpVars.indexOf(v)));

  /** The VJP that recomputes every activation, compiled the first time a step kept none. */
  const plainVjpOf = (plan: Plan, d: GradientData): Bound => {
    if (plan.plainVjp !== undefined) return plan.plainVjp;
    const vp = bufferProgram(evaluator, s.vjpRoots, vjpVars, plan.sizes);
    if (E.isLeft(vp)) throw new Error(`bug: the VJP compiled with saved activations but not without: ${vp.left}`);
    const b = bound(vp.right, vjpVars);
    if (b.slot(t) >= 0) b.ins[b.slot(t)] = plan.tBuf;
    fillInputs(b, d, special);
    plan.plainVjp = b;
    return b;
  };

  const runnerOf = (plan: Plan, tab: ButcherTableau): Runner => {
    const hit = plan.runners.get(tab);
    if (hit !== undefined) return hit;
    const n = plan.n, st = tab.stages;
    const ws = f64Workspace(tab, n);
    const r: Runner = {
      ws, co: coeffsOf(tab), steps: [], ckpts: [], ts: [], hs: [], count: 0,
      actOf: new Map([...ws.ks, ws.fNew].map((buf) => [buf, plan.actSizes.map((m) => new Float64Array(m))])),
      kbar: Array.from({ length: st }, () => new Float64Array(n)), touched: new Uint8Array(st),
      ybar: new Float64Array(n), acc: new Float64Array(n), stage: new Float64Array(n), tmp: new Float64Array(n),
    };
    plan.runners.set(tab, r);
    return r;
  };

  /** Records accepted steps into a runner's tape (every step, or checkpoints only). */
  const recorders = new WeakMap<Runner, NonNullable<LoopConfig['onAccept']>>();
  const recorderOf = (plan: Plan, r: Runner): NonNullable<LoopConfig['onAccept']> => {
    const hit = recorders.get(r);
    if (hit !== undefined) return hit;
    const n = plan.n, st = r.co.s;
    const rec: NonNullable<LoopConfig['onAccept']> = (t0, h, y, y1, ks, f1) => {
      const j = r.count++;
      r.ts[j] = t0;
      r.hs[j] = h;
      if (k === 1) {
        const step = r.steps[j] ?? (r.steps[j] = newStep(n, st));
        step.y0.set(y);
        step.y1.set(y1);
        step.f1.set(f1);
        for (let i = 0; i < st; i++) (step.ks[i] as Float64Array).set(ks[i] as Float64Array);
        step.saved = savesAt(plan, j, st);
        if (step.saved) {
          if (step.acts.length === 0) step.acts = newActs(st, plan.actSizes);
          for (let i = 0; i <= st; i++) {
            const from = r.actOf.get(i < st ? (ks[i] as Float64Array) : f1) ?? plan.actScratch, to = step.acts[i] as readonly Float64Array[];
            for (let q = 0; q < from.length; q++) (to[q] as Float64Array).set(from[q] as Float64Array);
          }
        }
      } else if (j % k === 0) {
        (r.ckpts[j / k] ?? (r.ckpts[j / k] = new Float64Array(n))).set(y);
      }
    };
    recorders.set(r, rec);
    return rec;
  };

  return (d) => {
    const method = d.solver.method;
    if (!Number.isInteger(k) || k < 1) return E.left(invalidProblem(`checkpointEvery must be an integer ≥ 1, got ${k}`));
    if (method.kind !== 'explicit' || !loopSupports(method.tableau)) return fallback(d);
    const tab = method.tableau;
    const z0 = d.z0, ts = d.ts, T = ts.length;
    const key = problemKey(d, [fVars, vjpVars, lossVars], special);
    if (E.isLeft(key)) return key;
    const planE = cachedPlan(plans, key.right, () => makePlan(d));
    if (E.isLeft(planE)) return planE;
    const plan = planE.right;
    const { n } = plan;
    for (const b of [plan.f, plan.vjp, plan.loss, ...(plan.plainVjp === undefined ? [] : [plan.plainVjp])]) fillInputs(b, d, special);
    const r = runnerOf(plan, tab);
    const ws = r.ws, co = r.co, st = co.s;
    r.count = 0;

    // Forward: the plain solve, recording the tape.
    const predData = new Float64Array(T * n);
    const fo = d.solver;
    if (T === 1) predData.set(z0.data);
    else {
      const fkey = `${fo.rtol}|${fo.atol}|${fo.maxSteps}`;
      const c = plan.fwd;
      let base: LoopConfig | undefined;
      if (c !== undefined && c.method === method && c.key === fkey && c.ts.length === T && c.ts.every((v, q) => v === ts[q])) base = c.cfg;
      else {
        const B = Math.max(1, z0.shape[0] as number);
        base = loopConfig(fwdOptions(d), { data: z0.data, batch: B, dim: n / B });
        plan.fwd = { ts: ts.slice(), method, key: fkey, cfg: base };
      }
      if (base === undefined) return fallback(d);
      plan.runnerActs = r.actOf;
      runF64Loop(ws, plan.fRhs, z0.data, { ...base, out: predData, onAccept: recorderOf(plan, r) });
      plan.runnerActs = undefined;
      if (ws.failed !== undefined) {
        // The error value is `integrate`'s; the loop performs exactly its operations.
        const B = Math.max(1, z0.shape[0] as number);
        const e = integrateF64(plan.fRhs, { data: z0.data, batch: B, dim: n / B } satisfies F64Batch, fwdOptions(d));
        if (E.isLeft(e)) return E.left(solveFailed('forward', e.left));
        throw new Error(`bug: the Float64 loop failed (${ws.failed}) where integrate succeeded`);
      }
    }
    const N = r.count;
    const lp = plan.loss;
    const predSlot = lp.slot(pred);
    if (predSlot >= 0) lp.ins[predSlot] = predData;
    lp.prog.run(lp.ins, plan.lossOut);
    const lossValue = (plan.lossOut[0] as Float64Array)[0] as number;
    const gPred = plan.lossOut[1] as Float64Array;

    // Reverse.
    const [mZ, ...rest] = plan.vjpOut as [Float64Array, ...Float64Array[]];
    const mT = rest[rest.length - 1] as Float64Array;
    const pbar = plan.pbar;
    pbar.fill(0);
    let nfeBackward = 0;
    /**
     * VJP of f at (tv, y) with cotangent `kb`, reading the evaluation's saved activations when
     * kept: returns −Ȳ in mZ, θ̄ into pbar, and τ = k̄ᵀ∂f/∂t.
     */
    const stageVjp = (tv: number, y: Float64Array, kb: Float64Array, acts: readonly Float64Array[] | undefined): number => {
      const vjp = acts === undefined ? plainVjpOf(plan, d) : plan.vjp;
      plan.tBuf[0] = tv;
      const vz = vjp.slot(z), va = vjp.slot(a);
      if (vz >= 0) vjp.ins[vz] = y;
      if (va >= 0) vjp.ins[va] = kb;
      if (acts !== undefined) for (let q = 0; q < acts.length; q++) vjp.ins[savedSlots[q] as number] = acts[q] as Float64Array;
      vjp.prog.run(vjp.ins, plan.vjpOut);
      nfeBackward++;
      let off = 0;
      for (let p = 0; p < rest.length - 1; p++) {
        const m = rest[p] as Float64Array;
        for (let q = 0; q < m.length; q++) pbar[off + q] = (pbar[off + q] as number) - (m[q] as number);
        off += m.length;
      }
      return -(mT[0] as number);
    };
    const dts = new Float64Array(T);
    const tStart = ts[0] as number, tEnd = ts[T - 1] as number;
    const dir = tEnd >= tStart ? 1 : -1;
    // A cotangent on grid time s goes to t₀ and t_end through its fraction of the span.
    const toGrid = (sv: number, c: number): void => {
      if (c === 0) return;
      const phi = (sv - tStart) / (tEnd - tStart);
      dts[0] = (dts[0] as number) + (1 - phi) * c;
      dts[T - 1] = (dts[T - 1] as number) + phi * c;
    };
    const ybar = r.ybar, stage = r.stage;
    ybar.fill(0);
    let segBase = -1;
    /** Step j's full record (recomputing its checkpoint segment when needed). */
    const stepAt = (j: number): Step => {
      if (k === 1) return r.steps[j] as Step;
      const base = j - (j % k);
      if (base !== segBase) {
        const last = Math.min(base + k, N) - 1;
        for (let q = base; q <= last; q++) {
          const sq = r.steps[q - base] ?? (r.steps[q - base] = newStep(n, st));
          const tq = r.ts[q] as number, hq = r.hs[q] as number;
          sq.saved = savesAt(plan, q - base, st);
          if (sq.saved && sq.acts.length === 0) sq.acts = newActs(st, plan.actSizes);
          const into = (i: number): void => {
            plan.actTarget = sq.saved ? sq.acts[i] : plan.actScratch;
          };
          if (q === base) {
            sq.y0.set(r.ckpts[base / k] as Float64Array);
            // At the time the forward pass evaluated this k₁ (the previous step's FSAL stage: t + h).
            const tk1 = q > 0 && co.fsal ? (r.ts[q - 1] as number) + (r.hs[q - 1] as number) : tq;
            into(0);
            plan.fRhs(tk1, sq.y0, sq.ks[0] as Float64Array);
            nfeBackward++;
          } else {
            const prev = r.steps[q - base - 1] as Step;
            sq.y0.set(prev.y1);
            (sq.ks[0] as Float64Array).set(prev.f1);
            if (sq.saved) copyActs(prev.saved ? (prev.acts[st] as readonly Float64Array[]) : plan.actScratch, sq.acts[0] as readonly Float64Array[]);
          }
          for (let i = 1; i < st; i++) {
            if (co.fsal && i === st - 1) break;
            combine(stage, n, sq.y0, co.rows[i] as Coeffs['b'], hq, sq.ks);
            into(i);
            plan.fRhs(tq + (co.c[i] as number) * hq, stage, sq.ks[i] as Float64Array);
            nfeBackward++;
          }
          combine(sq.y1, n, sq.y0, co.b, hq, sq.ks);
          const tNew = co.fsal ? tq + (co.c[st - 1] as number) * hq : q + 1 < N ? (r.ts[q + 1] as number) : tEnd;
          into(st);
          plan.fRhs(tNew, sq.y1, sq.f1);
          plan.actTarget = undefined;
          nfeBackward++;
          if (co.fsal) {
            (sq.ks[st - 1] as Float64Array).set(sq.f1);
            if (sq.saved) copyActs(sq.acts[st] as readonly Float64Array[], sq.acts[st - 1] as readonly Float64Array[]);
          }
        }
        segBase = base;
      }
      return r.steps[j - base] as Step;
    };

    reverseSweep({ r, N, n, ts, tEnd, dir, gPred, stepAt, stageVjp, mZ, toGrid, dts });
    const dparams: Record<string, F64Tensor> = {};
    const add = (name: string, x: F64Tensor): void => {
      const prev = dparams[name];
      dparams[name] = prev === undefined ? x : { shape: x.shape, data: prev.data.map((v, i) => v + (x.data[i] as number)) };
    };
    let off = 0;
    s.dynParams.forEach((p, q) => {
      const size = paramSizes[q] as number;
      add(p.name, { shape: (d.params[p.name] as F64Tensor).shape, data: pbar.slice(off, off + size) });
      off += size;
    });
    s.lossParams.forEach((p, q) => add(p.name, { shape: (d.params[p.name] as F64Tensor).shape, data: (plan.lossOut[2 + q] as Float64Array).slice() }));
    return E.right({
      loss: lossValue,
      dz0: { shape: z0.shape, data: ybar.slice() },
      dparams: dparams as ParamValues,
      dts,
      prediction: { shape: [T, ...z0.shape], data: predData },
      stats: {
        nfeForward: T === 1 ? 0 : ws.nfe, nfeBackward, acceptedForward: T === 1 ? 0 : ws.accepted, rejectedForward: T === 1 ? 0 : ws.rejected,
        acceptedBackward: N, rejectedBackward: 0,
      },
    });
  };
};

const fwdOptions = (d: GradientData) => ({
  method: d.solver.method, ts: d.ts,
  ...(d.solver.rtol === undefined ? {} : { rtol: d.solver.rtol }),
  ...(d.solver.atol === undefined ? {} : { atol: d.solver.atol }),
  ...(d.solver.maxSteps === undefined ? {} : { maxSteps: d.solver.maxSteps }),
});
