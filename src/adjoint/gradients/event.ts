/**
 * Gradients through a terminating event time, as torchdiffeq's `odeint_event`, on float64. Each
 * row of the batch is its own trajectory, solved from t₀ until its event g(t, z, θ) = 0; the loss
 * may read every row's event time t* and state z* = z(t*).
 *
 * Implicit function theorem. For a perturbation δz of the flow at fixed time and δθ,
 *   dt* = −(∂g/∂θ·δθ + ∂g/∂z·δz(t*)) / (∂g/∂t + ∂g/∂z·f*),
 * and dz* = δz(t*) + f*·dt*. With μ = (∂L/∂t* + ∂L/∂z*·f*) / (∂g/∂t + ∂g/∂z·f*):
 *   dL = (∂L/∂z* − μ ∂g/∂z)·δz(t*) − μ ∂g/∂θ·δθ.
 * So the adjoint starts at a(t*) = ∂L/∂z* − μ ∂g/∂z with θ̄(t*) = −μ ∂g/∂θ, and the augmented
 * system (the same backward integrator as `adjoint`) runs back to t₀. As there, starting the t̄
 * channel at −a(t*)·f* makes it end at −a(t₀)·f(t₀, z₀) = ∂L/∂t₀.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../../dsl/construct.ts';
import type { Dynamics } from '../../dsl/model.ts';
import type { Node, NodeOf } from '../../dsl/node.ts';
import type { ParamDecl, ParamValues } from '../../dsl/params.ts';
import type { F64Evaluator } from '../../interp/evaluator.ts';
import type { F64Tensor } from '../../interp/tensor.ts';
import { integrate, type EventDirection } from '../../solvers/index.ts';
import { grad } from '../vjp.ts';
import { augmentedRoots, makeAdjointSystem } from '../system.ts';
import { backsolver } from './adjoint.ts';
import { f64Backend } from './backend.ts';
import { solveOptions } from './context.ts';
import { invalidProblem, solveFailed, type GradientError, type GradientStats, type SolverOptions } from './types.ts';

type VarNode = NodeOf<'var'>;

/** A loss of the event times `[batch]` and event states (the state's shape). */
export interface EventLoss {
  readonly value: Node;
  readonly tEvent: VarNode;
  readonly zEvent: VarNode;
  /** Parameters the loss reads directly. */
  readonly params?: readonly ParamDecl[];
}

/** A problem whose solves end at an event. */
export interface EventProblem {
  readonly dynamics: Dynamics;
  /** g(t, z, θ) with one value per row (shape `[batch]`); the event is its zero. */
  readonly event: Node;
  readonly direction?: EventDirection;
  readonly loss: EventLoss;
  readonly params: ParamValues;
  readonly z0: F64Tensor;
  readonly t0: number;
  /** The end of the span: no event before it is an error. */
  readonly tMax: number;
  readonly lossInputs?: Readonly<Record<string, F64Tensor>>;
  readonly solver: SolverOptions;
  /** Backward settings (default: the forward ones). */
  readonly backward?: SolverOptions;
  readonly evaluator?: F64Evaluator;
}

/** Event times and states, the loss and its gradients. */
export interface EventGradientResult {
  readonly tEvent: Float64Array;
  readonly zEvent: F64Tensor;
  readonly loss: number;
  readonly dz0: F64Tensor;
  readonly dparams: ParamValues;
  /** ∂L/∂t₀. */
  readonly dt0: number;
  readonly stats: GradientStats;
}

const bad = (m: string): E.Either<GradientError, never> => E.left(invalidProblem(m));
const scalar = (v: number): F64Tensor => ({ shape: [], data: Float64Array.of(v) });
const dot = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  let acc = 0;
  for (let i = 0; i < x.length; i++) acc += (x[i] as number) * (y[i] as number);
  return acc;
};

/**
 * ∂L/∂z₀, ∂L/∂θ and ∂L/∂t₀ of a loss on event times and states.
 * @example
 * eventGradient({ dynamics: ball, event: height, direction: 'falling', loss: { value: X.sum(tE).node, tEvent: tE.node, zEvent: zE.node },
 *   params, z0, t0: 0, tMax: 10, solver: { method: dopri5, rtol: 1e-10, atol: 1e-12 } }) // right({ tEvent, dz0, dparams, dt0, … })
 */
export const eventGradient = (p: EventProblem): E.Either<GradientError, EventGradientResult> => {
  const sys = makeAdjointSystem(p.dynamics);
  if (E.isLeft(sys)) return bad(sys.left);
  const s = sys.right;
  const z = s.z, t = s.t;
  if (p.event.shape.length !== 1 || p.event.shape[0] !== z.shape[0]) return bad(`the event g must have one value per row, shape [${String(z.shape[0])}]`);
  const lossParams = p.loss.params ?? [];
  const dynParams = p.dynamics.params.map((q) => q.expr.node);
  const gSum = C.reduce('sum', p.event);
  if (E.isLeft(gSum)) return bad(gSum.left);
  // Per row (evaluated at batch 1): ∂g/∂z, ∂g/∂t, ∂g/∂θ; z rides along to bind the batch dim.
  const gRoots = [...grad(gSum.right, [z, t, ...dynParams]), z];
  const lRoots = [p.loss.value, ...grad(p.loss.value, [p.loss.tEvent, p.loss.zEvent, ...lossParams.map((q) => q.expr.node)]), p.loss.tEvent, p.loss.zEvent];
  const b = f64Backend(p.evaluator);
  const gProg = b.compile([p.event]), gGrad = b.compile(gRoots), lProg = b.compile(lRoots), fProg = b.compile([s.rhs.z]);
  const B = p.z0.shape[0] as number, n = p.z0.data.length, D = n / Math.max(1, B);
  const rowShape = [1, ...p.z0.shape.slice(1)];
  const row = (data: Float64Array): F64Tensor => ({ shape: rowShape, data });
  const env = { ...p.params, ...(p.lossInputs ?? {}) };
  const run = (prog: typeof gProg, e: Record<string, F64Tensor>, what: string): E.Either<GradientError, readonly F64Tensor[]> =>
    E.mapLeft((message: string): GradientError => ({ _tag: 'EvaluationFailed', what, message }))(prog(e));
  const check = run(gProg, { ...env, [z.name]: row(p.z0.data.slice(0, D)), [t.name]: scalar(p.t0) }, 'the event function');
  if (E.isLeft(check)) return check;
  const f = (tv: number, y: F64Tensor): F64Tensor => {
    const r = fProg({ ...env, [z.name]: y, [t.name]: scalar(tv) });
    if (E.isLeft(r)) throw new Error(`bug: evaluating the dynamics failed: ${r.left}`);
    return r.right[0] as F64Tensor;
  };
  const gOf = (tv: number, y: F64Tensor): number => {
    const r = gProg({ ...env, [z.name]: y, [t.name]: scalar(tv) });
    if (E.isLeft(r)) throw new Error(`bug: evaluating the event function failed: ${r.left}`);
    return (r.right[0] as F64Tensor).data[0] as number;
  };
  // Forward: each row until its event.
  const tEvent = new Float64Array(B), zEvent = new Float64Array(n);
  let nfeF = 0, accF = 0, rejF = 0;
  for (let r = 0; r < B; r++) {
    const fwd = integrate(b.space, f, row(p.z0.data.slice(r * D, (r + 1) * D)), {
      ...solveOptions(p.solver), t0: p.t0, t1: p.tMax, event: { g: gOf, ...(p.direction === undefined ? {} : { direction: p.direction }) },
    });
    if (E.isLeft(fwd)) return E.left(solveFailed('forward', fwd.left));
    const hit = fwd.right.event;
    if (hit === undefined) return bad(`row ${r}: no event before t = ${p.tMax}`);
    tEvent[r] = hit.t;
    zEvent.set(hit.y.data, r * D);
    nfeF += fwd.right.stats.nfe;
    accF += fwd.right.stats.accepted;
    rejF += fwd.right.stats.rejected;
  }
  const L = run(lProg, { ...env, [p.loss.tEvent.name]: { shape: [B], data: tEvent }, [p.loss.zEvent.name]: { shape: p.z0.shape, data: zEvent } }, 'the loss');
  if (E.isLeft(L)) return L;
  const [value, lT, lZ, ...lP] = L.right as [F64Tensor, F64Tensor, F64Tensor, ...F64Tensor[]];
  // Backward: each row from its event back to t₀.
  const bs = backsolver({ b, env, z0: row(p.z0.data.slice(0, D)), s: { system: s, augRoots: augmentedRoots(s), z, t } }, p.backward ?? p.solver, false);
  const dz0 = new Float64Array(n);
  const dparams = s.paramAdjoints.map((q) => new Float64Array(q.decl.shape.reduce((x, y) => x * y, 1)));
  let dt0 = 0, nfeB = 0, accB = 0, rejB = 0;
  for (let r = 0; r < B; r++) {
    const ts = tEvent[r] as number, zs = row(zEvent.slice(r * D, (r + 1) * D));
    const G = run(gGrad, { ...env, [z.name]: zs, [t.name]: scalar(ts) }, 'the event gradient');
    if (E.isLeft(G)) return G;
    const [gz, gt, ...gTheta] = G.right as [F64Tensor, F64Tensor, ...F64Tensor[]];
    const fs = f(ts, zs).data;
    nfeB++;
    const lz = lZ.data.subarray(r * D, (r + 1) * D);
    const denom = (gt.data[0] as number) + dot(gz.data, fs);
    if (!(Math.abs(denom) > 0)) return bad(`row ${r}: the event is tangent at t = ${ts} (∂g/∂t + ∂g/∂z·f = 0)`);
    const mu = ((lT.data[r] as number) + dot(lz, fs)) / denom;
    const a = row(lz.map((v, q) => v - mu * (gz.data[q] as number)));
    const thetas = s.paramAdjoints.map((_, k) => {
      const gk = gTheta[k] as F64Tensor;
      return { shape: gk.shape, data: gk.data.map((v) => -mu * v) };
    });
    const back = bs.run([zs, a, ...thetas, scalar(-dot(a.data, fs))], ts, p.t0);
    if (E.isLeft(back)) return back;
    const out = back.right.aug;
    dz0.set((out[1] as F64Tensor).data, r * D);
    dparams.forEach((acc, k) => (out[2 + k] as F64Tensor).data.forEach((v, q) => { acc[q] = (acc[q] as number) + v; }));
    dt0 += (out[out.length - 1] as F64Tensor).data[0] as number;
    nfeB += back.right.work.nfe;
    accB += back.right.work.accepted;
    rejB += back.right.work.rejected;
  }
  const dp: Record<string, F64Tensor> = {};
  s.paramAdjoints.forEach((q, k) => { dp[q.decl.name] = { shape: q.decl.shape, data: dparams[k] as Float64Array }; });
  lossParams.forEach((q, k) => {
    const prev = dp[q.name], d = lP[k] as F64Tensor;
    dp[q.name] = prev === undefined ? d : { shape: d.shape, data: prev.data.map((v, i) => v + (d.data[i] as number)) };
  });
  return E.right({
    tEvent, zEvent: { shape: p.z0.shape, data: zEvent }, loss: value.data[0] as number, dz0: { shape: p.z0.shape, data: dz0 }, dparams: dp, dt0,
    stats: { nfeForward: nfeF, nfeBackward: nfeB, acceptedForward: accF, rejectedForward: rejF, acceptedBackward: accB, rejectedBackward: rejB },
  });
};
