/**
 * The adjoint method (Chen et al. 2018, Algorithm 1, "backsolve"), over any backend's vector
 * space: the gradient API runs it on tfjs; float64 runs the same algorithm allocation-free in
 * `adjointF64.ts`. Forward: one
 * solve keeping only the states at the observation times. Backward: the augmented system
 * [z, a, θ̄, t̄] of `makeAdjointSystem`, compiled once, integrated back one observation interval
 * at a time from the forward state, adding ∂L/∂z(tᵢ) to a at each observed time (as torchdiffeq's
 * `odeint_adjoint`). Memory does not grow with the number of steps.
 *
 * Observation times. Only z(tᵢ) moves with tᵢ for i ≥ 1, so ∂L/∂tᵢ = ⟨gᵢ, f(tᵢ, z(tᵢ))⟩ with
 * gᵢ = ∂L/∂z(tᵢ). For t₀ (z₀ held fixed) the flow shifts: ∂L/∂t₀ = −⟨a(t₀⁺), f(t₀, z₀)⟩ with
 * a(t₀⁺) the adjoint before g₀ is added. torchdiffeq gets it from the t̄ channel
 * (dt̄/dt = −aᵀ∂f/∂t): starting from t̄ = 0 and subtracting ⟨gᵢ, fᵢ⟩ at each tᵢ, i ≥ 1, the
 * identity d(aᵀf)/dt = aᵀ∂f/∂t makes the sum telescope to exactly −⟨a(t₀⁺), f₀⟩. We do the same.
 */
import * as E from 'fp-ts/lib/Either.js';
import { customNorm, integrate, product, type ErrorNorm, type VectorSpace } from '../../solvers/index.ts';
import { assemble, solveOptions, type Context } from './context.ts';
import { solveFailed, type AdjointConfig, type GradientError, type GradientResult, type SolverOptions } from './types.ts';

/** The augmented state in `augmentedLayout` order: [z, a, θ̄₁…θ̄ₚ, t̄]. */
export type Augmented<V> = readonly V[];

/** Backward work of one or more intervals. */
export interface BackwardWork {
  readonly nfe: number;
  readonly accepted: number;
  readonly rejected: number;
}

/** The backward integrator of a context: augmented space, right-hand side and norm. */
export interface Backsolver<V> {
  /**
   * Integrates the augmented state from `from` back to `to`; returns the new state (a fresh
   * copy the caller owns) and the work done, or the solver's failure.
   */
  readonly run: (aug: Augmented<V>, from: number, to: number) => E.Either<GradientError, { readonly aug: Augmented<V>; readonly work: BackwardWork }>;
  readonly space: VectorSpace<Augmented<V>>;
}

/** What the backward integrator reads: the backend, the uploaded inputs, the adjoint system. */
export interface BacksolveInput<V> {
  readonly b: Context<V>['b'];
  readonly env: Context<V>['env'];
  /** A state of the forward problem (its size sets the norm's parts). */
  readonly z0: V;
  readonly s: Pick<Context<V>['s'], 'system' | 'augRoots' | 'z' | 't'>;
}

/**
 * The backsolve integrator: the augmented right-hand side compiled once. The error norm is
 * torchdiffeq's mixed norm (the largest RMS norm over the parts z, a, each θ̄, t̄); with
 * `seminorm` only the z and a parts count (Kidger, Chen & Lyons 2021).
 * @example const bs = backsolver(ctx, { method: dopri5, rtol: 1e-7, atol: 1e-9 }, true); bs.run(aug, 1, 0)
 */
export const backsolver = <V>(ctx: BacksolveInput<V>, o: SolverOptions, seminorm: boolean): Backsolver<V> => {
  const { b, s } = ctx;
  const parts = 3 + s.system.paramAdjoints.length;
  const space = product<V[]>(...Array.from({ length: parts }, () => b.space));
  const prog = b.compile(s.augRoots);
  const augF = (t: number, y: Augmented<V>): Augmented<V> => {
    const tv = b.scalar(t);
    const r = prog({ ...ctx.env, [s.z.name]: y[0] as V, [s.system.a.name]: y[1] as V, [s.t.name]: tv });
    b.free([tv]);
    if (E.isLeft(r)) throw new Error(`bug: evaluating the adjoint system failed: ${r.left}`);
    return r.right;
  };
  // torchdiffeq's mixed norm: the largest RMS over the parts; the seminorm keeps z and a only.
  const n = b.space.size(ctx.z0);
  const sizes = [n, n, ...s.system.paramAdjoints.map((p) => p.decl.shape.reduce((x, y) => x * y, 1)), 1];
  const counted = seminorm ? 2 : sizes.length;
  const norm: ErrorNorm = customNorm(seminorm ? 'seminorm (z and a)' : 'mixed (max of RMS per part)', (sc) => {
    let worst = 0, off = 0;
    for (let k = 0; k < counted; k++) {
      const len = sizes[k] as number;
      let acc = 0;
      for (let i = off; i < off + len; i++) acc += (sc[i] as number) ** 2;
      const rms = Math.sqrt(acc / Math.max(1, len));
      worst = Number.isNaN(rms) || Number.isNaN(worst) ? Number.NaN : Math.max(worst, rms);
      off += len;
    }
    return worst;
  });
  return {
    space,
    run: (aug, from, to) => {
      const r = integrate(space, augF, aug, { ...solveOptions(o), t0: from, t1: to, norm });
      if (E.isLeft(r)) return E.left(solveFailed('backward', r.left));
      const out = space.clone(r.right.yFinal);
      const { nfe, accepted, rejected } = r.right.stats;
      r.right.dispose();
      return E.right({ aug: out, work: { nfe, accepted, rejected } });
    },
  };
};

/**
 * The adjoint gradient of a context's problem.
 * @example adjointGradient(ctx, data.ts, data.solver, { method: 'adjoint', seminorm: true })
 */
export const adjointGradient = <V>(
  ctx: Context<V>, ts: readonly number[], forward: SolverOptions, cfg: AdjointConfig,
): E.Either<GradientError, GradientResult> => {
  const { b } = ctx;
  const T = ts.length;
  const fwd = T === 1 ? undefined : integrate(b.space, ctx.f, ctx.z0, { ...solveOptions(forward), ts });
  if (fwd !== undefined && E.isLeft(fwd)) return E.left(solveFailed('forward', fwd.left));
  const ys = fwd === undefined ? [ctx.z0] : fwd.right.ys;
  const lv = ctx.loss(ys);
  if (E.isLeft(lv)) return lv;
  const { g } = lv.right;
  const bs = backsolver(ctx, cfg.backward ?? forward, cfg.seminorm ?? false);
  const P = ctx.s.system.paramAdjoints.length;
  const dts = new Float64Array(T);
  let a = b.space.linComb([0], [ctx.z0]);
  let thetas: V[] = ctx.s.system.paramAdjoints.map((p) => b.zeros(p.decl.shape));
  let tbar = 0;
  let nfe = 0, accepted = 0, rejected = 0;
  const addTo = (x: V, y: V): V => {
    const r = b.space.linComb([1, 1], [x, y]);
    b.free([x]);
    return r;
  };
  for (let i = T - 1; i >= 1; i--) {
    const gi = g[i] as V, zi = ys[i] as V;
    a = addTo(a, gi);
    const fi = ctx.f(ts[i] as number, zi);
    nfe++;
    const dot = b.dot(fi, gi);
    b.free([fi]);
    dts[i] = dot;
    tbar -= dot;
    const tv = b.scalar(tbar);
    const r = bs.run([zi, a, ...thetas, tv], ts[i] as number, ts[i - 1] as number);
    b.free([a, ...thetas, tv]);
    if (E.isLeft(r)) return r;
    const out = r.right.aug;
    // Restart z from the forward solution (as torchdiffeq): backward error does not accumulate in z.
    b.free([out[0] as V]);
    a = out[1] as V;
    thetas = out.slice(2, 2 + P) as V[];
    const tOut = out[2 + P] as V;
    tbar = b.download(tOut).data[0] as number;
    b.free([tOut]);
    nfe += r.right.work.nfe;
    accepted += r.right.work.accepted;
    rejected += r.right.work.rejected;
  }
  a = addTo(a, g[0] as V);
  dts[0] = tbar;
  const fs = fwd === undefined ? { nfe: 0, accepted: 0, rejected: 0 } : fwd.right.stats;
  return E.right(assemble(ctx, {
    loss: lv.right.loss, dz0: a, dynGrads: thetas, dLossParams: lv.right.dLossParams, dts, prediction: lv.right.prediction,
    stats: { nfeForward: fs.nfe, nfeBackward: nfe, acceptedForward: fs.accepted, rejectedForward: fs.rejected, acceptedBackward: accepted, rejectedBackward: rejected },
  }));
};
