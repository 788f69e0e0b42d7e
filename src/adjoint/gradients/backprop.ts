/**
 * Discretise-then-optimise on any backend: the exact gradient of the computed discrete solution.
 * Used on tfjs, and on float64 for methods the Float64 loop does not run (DOP853, fixed-step);
 * float64 backprop otherwise runs on `backpropF64.ts`, which steps freely and differentiates the
 * dense output instead of landing on every observation time.
 *
 * Forward: one adaptive solve whose steps are forced onto every observation time (so outputs are
 * step states, no interpolant to differentiate); the accepted steps' times are recorded and every
 * k-th state kept (`checkpointEvery`). Reverse: the accepted steps are walked backwards; each
 * step's Runge–Kutta stages are recomputed from its start state (bit-for-bit those of the forward
 * pass; states between checkpoints are recomputed one segment at a time) and reversed with the
 * symbolic VJP of f — the adjoint system's a/θ̄/t̄ right-hand sides with a = stage cotangent,
 * negated, compiled once.
 *
 * Step sizes are constants of the discrete solution (no gradient through the controller), as in
 * diffrax. Observation times: inside each observation interval [tᵢ₋₁, tᵢ] the grid points keep
 * their fractions θⱼ = (sⱼ − tᵢ₋₁)/(tᵢ − tᵢ₋₁); so moving tᵢ stretches the steps of the two
 * intervals next to it, and ∂L/∂tᵢ is the exact derivative of that discrete map (it tends to the
 * continuous one as the steps shrink).
 */
import * as E from 'fp-ts/lib/Either.js';
import { integrate, type ButcherTableau, type EventSpec } from '../../solvers/index.ts';
import { assemble, solveOptions, type Context } from './context.ts';
import { invalidProblem, solveFailed, type BackpropConfig, type GradientError, type GradientResult, type SolverOptions } from './types.ts';

/** Accepted steps of a forward solve: every time, and every k-th state (held). */
interface Recorded<V> {
  readonly times: number[];
  readonly kept: Map<number, V>;
  /** The state at each observation time, in order. */
  readonly obs: V[];
}

/**
 * Records the accepted steps through the event hook: the driver evaluates a terminating event's
 * g at t₀ and at the end of every accepted step, so a g that never changes sign observes exactly
 * the accepted (t, y) sequence without making the solver keep every state.
 */
const recorder = <V>(ctx: Context<V>, ts: readonly number[], k: number): { rec: Recorded<V>; event: EventSpec<V> } => {
  const rec: Recorded<V> = { times: [], kept: new Map(), obs: [] };
  const { b } = ctx;
  const g = (t: number, y: V): number => {
    const idx = rec.times.length;
    rec.times.push(t);
    if (idx % k === 0) rec.kept.set(idx, b.hold(b.space.clone(y)));
    if (t === ts[rec.obs.length]) rec.obs.push(b.hold(b.space.clone(y)));
    return 1;
  };
  return { rec, event: { g } };
};

/** The number of leading stages that the update y₁ = y₀ + hΣbᵢkᵢ needs. */
const neededStages = (tab: ButcherTableau): number => {
  let last = 0;
  tab.b.forEach((bi, i) => { if (bi !== 0) last = i; });
  return last + 1;
};

/**
 * The backprop gradient of a context's problem (explicit Runge–Kutta methods).
 * @example backpropGradient(ctx, data.ts, data.solver, { method: 'backprop', checkpointEvery: 8 })
 */
export const backpropGradient = <V>(
  ctx: Context<V>, ts: readonly number[], solver: SolverOptions, cfg: BackpropConfig,
): E.Either<GradientError, GradientResult> => {
  const { b, s } = ctx;
  const method = solver.method;
  if (method.kind !== 'explicit') return E.left(invalidProblem(`backprop needs an explicit Runge–Kutta method; ${method.name} is not (use the adjoint)`));
  const k = cfg.checkpointEvery ?? 1;
  if (!Number.isInteger(k) || k < 1) return E.left(invalidProblem(`checkpointEvery must be an integer ≥ 1, got ${k}`));
  const tab = method.tableau;
  const S = neededStages(tab);
  const T = ts.length;
  const { rec, event } = recorder(ctx, ts, k);
  let fwdStats = { nfe: 0, accepted: 0, rejected: 0 };
  if (T === 1) {
    rec.times.push(ts[0] as number);
    rec.kept.set(0, ctx.z0);
    rec.obs.push(ctx.z0);
  } else {
    const fwd = integrate(b.space, ctx.f, ctx.z0, { ...solveOptions(solver), ts, stepTs: ts, event });
    if (E.isLeft(fwd)) {
      b.free([...rec.kept.values(), ...rec.obs]);
      return E.left(solveFailed('forward', fwd.left));
    }
    fwdStats = fwd.right.stats;
    fwd.right.dispose();
  }
  const times = rec.times;
  const N = times.length;
  if (rec.obs.length !== T) throw new Error(`bug: ${rec.obs.length} of ${T} observation times were step ends`);
  const lv = ctx.loss(rec.obs);
  if (E.isLeft(lv)) {
    b.free([...rec.kept.values(), ...rec.obs]);
    return lv;
  }
  const g = lv.right.g;
  let nfe = 0;

  /** Stage states and derivatives of the step (t, h) from y. */
  const stages = (t: number, h: number, y: V): { Y: V[]; K: V[] } => {
    const Y: V[] = [], K: V[] = [];
    for (let i = 0; i < S; i++) {
      const row = tab.a[i] ?? [];
      const coeffs = [1], xs = [y];
      row.forEach((aij, j) => { if (aij !== 0) { coeffs.push(aij * h); xs.push(K[j] as V); } });
      const Yi = xs.length === 1 ? y : b.space.linComb(coeffs, xs);
      Y.push(Yi);
      K.push(ctx.f(t + (tab.c[i] as number) * h, Yi));
      nfe++;
    }
    return { Y, K };
  };
  const advance = (t: number, h: number, y: V): V => b.keep((): [V] => {
    const { K } = stages(t, h, y);
    const coeffs = [1], xs = [y];
    tab.b.forEach((bi, i) => { if (bi !== 0) { coeffs.push(bi * h); xs.push(K[i] as V); } });
    return [b.space.linComb(coeffs, xs)];
  })[0];
  // States of the current checkpoint segment, recomputed once when the reverse pass enters it.
  let segBase = -1;
  let segment: V[] = [];
  const stateAt = (j: number): V => {
    const base = j - (j % k);
    if (base !== segBase) {
      b.free(segment.slice(1));
      segment = [rec.kept.get(base) as V];
      for (let q = base + 1; q <= j; q++) {
        const prev = segment[segment.length - 1] as V;
        segment.push(b.hold(advance(times[q - 1] as number, (times[q] as number) - (times[q - 1] as number), prev)));
      }
      segBase = base;
    }
    return segment[j - base] as V;
  };

  const vjp = b.compile(s.vjpRoots);
  let ybar = b.space.linComb([0], [ctx.z0]);
  let pbar: V[] = s.system.paramAdjoints.map((p) => b.hold(b.zeros(p.decl.shape)));
  const sbar = new Float64Array(N);
  const nP = pbar.length;
  let obs = T - 1;
  for (let idx = N - 1; idx >= 0; idx--) {
    while (obs >= 0 && times[idx] === ts[obs]) {
      const next = b.hold(b.space.linComb([1, 1], [ybar, g[obs] as V]));
      b.free([ybar]);
      ybar = next;
      obs--;
    }
    if (idx === 0) break;
    const t = times[idx - 1] as number, h = (times[idx] as number) - t;
    const y = stateAt(idx - 1);
    let hbar = 0, tauSum = 0;
    const out = b.keep(() => {
      const { Y, K } = stages(t, h, y);
      const kbar: (V | undefined)[] = tab.b.slice(0, S).map((bi) => (bi === 0 ? undefined : b.space.linComb([h * bi], [ybar])));
      tab.b.slice(0, S).forEach((bi, i) => { if (bi !== 0) hbar += bi * b.dot(ybar, K[i] as V); });
      let ynew = ybar;
      const pnew = pbar.slice();
      for (let i = S - 1; i >= 0; i--) {
        const kb = kbar[i];
        if (kb === undefined) continue;
        const ti = t + (tab.c[i] as number) * h;
        const r = vjp({ ...ctx.env, [s.z.name]: Y[i] as V, [s.system.a.name]: kb, [s.t.name]: b.scalar(ti) });
        if (E.isLeft(r)) throw new Error(`bug: the stage VJP failed: ${r.left}`);
        nfe++;
        // r = −(k̄ᵀ∂f/∂z, k̄ᵀ∂f/∂θ…, k̄ᵀ∂f/∂t): Ȳᵢ = −r[0] flows to yₙ and to earlier stages.
        const mY = r.right[0] as V;
        for (let p = 0; p < nP; p++) pnew[p] = b.space.linComb([1, -1], [pnew[p] as V, r.right[1 + p] as V]);
        const tau = -(b.download(r.right[1 + nP] as V).data[0] as number);
        ynew = b.space.linComb([1, -1], [ynew, mY]);
        hbar += (tab.c[i] as number) * tau;
        tauSum += tau;
        const row = tab.a[i] ?? [];
        const cs: number[] = [], ks: V[] = [];
        row.forEach((aij, j) => {
          if (aij === 0) return;
          cs.push(aij);
          ks.push(K[j] as V);
          const prev = kbar[j];
          kbar[j] = prev === undefined ? b.space.linComb([-h * aij], [mY]) : b.space.linComb([1, -h * aij], [prev, mY]);
        });
        // ∂Yᵢ/∂h = Σⱼ aᵢⱼKⱼ.
        if (cs.length > 0) hbar -= b.dot(mY, b.space.linComb(cs, ks));
      }
      return [ynew, ...pnew];
    });
    b.free([ybar, ...pbar].filter((x) => !out.includes(x)));
    ybar = b.hold(out[0] as V);
    pbar = out.slice(1).map(b.hold);
    sbar[idx - 1] = (sbar[idx - 1] as number) + tauSum - hbar;
    sbar[idx] = (sbar[idx] as number) + hbar;
  }
  b.free(segment.slice(1));
  // Grid-time cotangents to observation times through the fractions θⱼ.
  const dts = new Float64Array(T);
  const dir = T > 1 && (ts[1] as number) < (ts[0] as number) ? -1 : 1;
  let i = 0;
  for (let j = 0; j < N; j++) {
    const sj = times[j] as number, sb = sbar[j] as number;
    while (i < T - 2 && dir * (sj - (ts[i + 1] as number)) > 0) i++;
    if (sj === ts[i] || T === 1) dts[i] = (dts[i] as number) + sb;
    else if (sj === ts[i + 1]) dts[i + 1] = (dts[i + 1] as number) + sb;
    else {
      const lo = ts[i] as number, th = (sj - lo) / ((ts[i + 1] as number) - lo);
      dts[i] = (dts[i] as number) + (1 - th) * sb;
      dts[i + 1] = (dts[i + 1] as number) + th * sb;
    }
  }
  const result = assemble(ctx, {
    loss: lv.right.loss, dz0: ybar, dynGrads: pbar, dLossParams: lv.right.dLossParams, dts, prediction: lv.right.prediction,
    stats: { nfeForward: fwdStats.nfe, nfeBackward: nfe, acceptedForward: fwdStats.accepted, rejectedForward: fwdStats.rejected, acceptedBackward: N - 1, rejectedBackward: 0 },
  });
  b.free([...rec.kept.values(), ...rec.obs, ybar, ...pbar]);
  return E.right(result);
};
