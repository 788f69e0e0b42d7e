/**
 * Gradients through a terminating event time, as torchdiffeq's `odeint_event`: the solve stops
 * where g(t, z) = 0 and the loss depends on the event time t* and state z* = z(t*). By the
 * implicit function theorem, dt* = −(∂g/∂z · δz(t*)) / (∂g/∂t + ∂g/∂z · f*) for a perturbation
 * δz(t*) of the flow at fixed time, so the adjoint starts from
 *   a(t*) = ∂L/∂z* − (∂L/∂t* + ∂L/∂z* · f*) · ∂g/∂z / (∂g/∂t + ∂g/∂z · f*)
 * and the augmented system (derived symbolically) runs back to t₀. Rows of the batch are
 * independent trajectories, each with its own event; their losses add.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../dsl/construct.ts';
import type { Dynamics } from '../dsl/model.ts';
import type { Node, NodeOf } from '../dsl/node.ts';
import type { ParamValues } from '../dsl/params.ts';
import { grad } from './vjp.ts';
import { augmentedRoots, makeAdjointSystem } from './system.ts';
import { kernelEvaluator } from '../interp/evaluator.ts';
import { scalarT, type F64Tensor } from '../interp/tensor.ts';
import { compileF64Dynamics } from '../ode/f64Dynamics.ts';
import { f64Space, integrate, type EventDirection, type F64Batch } from '../solvers/index.ts';
import type { GradientError, SolveSettings } from './backsolveF64.ts';

/** The event and the loss on (t*, z*). */
export interface EventProblem {
  readonly dynamics: Dynamics;
  /** g(t, z), one value per row (shape `[batch]`); the event is its zero. */
  readonly event: Node;
  readonly direction?: EventDirection;
  /** A scalar loss of the event state and time of one row. */
  readonly loss: { readonly value: Node; readonly zEvent: NodeOf<'var'>; readonly tEvent: NodeOf<'var'> };
}

/** Event times, states, the loss and its gradients. */
export interface EventGradient {
  readonly tEvent: Float64Array;
  readonly zEvent: F64Tensor;
  readonly loss: number;
  readonly dz0: F64Tensor;
  readonly dparams: ParamValues;
  readonly stats: { readonly nfeForward: number; readonly nfeBackward: number };
}

const model = (message: string): E.Either<GradientError, never> => E.left({ _tag: 'Model', message });

/**
 * Compiles the gradient of a loss on the event time and state.
 * @example
 * const g = compileEventGradient({ dynamics: ball, event: height, direction: 'falling', loss: { value: tStar, zEvent, tEvent } }, { method: dopri5, rtol: 1e-10, atol: 1e-12 });
 * if (E.isRight(g)) g.right(values, z0, 0, 10) // right({ tEvent, zEvent, loss, dz0, dparams })
 */
export const compileEventGradient = (p: EventProblem, solver: SolveSettings) => {
  const z = p.dynamics.state.node, t = p.dynamics.time.node;
  if (z.kind !== 'var' || t.kind !== 'var') return model('dynamics: state and time must be variables');
  if (p.event.shape.length !== 1 || p.event.shape[0] !== z.shape[0]) return model(`event: g must have one value per row, shape [${String(z.shape[0])}]`);
  const sys = makeAdjointSystem(p.dynamics);
  if (E.isLeft(sys)) return model(sys.left);
  const s = sys.right;
  // ∂g/∂z and ∂g/∂t of one row: the gradient of Σ g (rows are independent; evaluated at batch 1).
  const gSum = C.reduce('sum', p.event);
  if (E.isLeft(gSum)) return model(gSum.left);
  const [gZ, gT] = grad(gSum.right, [z, t]);
  const [lZ, lT] = grad(p.loss.value, [p.loss.zEvent, p.loss.tEvent]);
  if (gZ === undefined || gT === undefined || lZ === undefined || lT === undefined) return model('event: no gradient');
  const gProg = kernelEvaluator([p.event]);
  // g itself rides along so that z binds the batch dim of gradients that do not read z.
  const gGrad = kernelEvaluator([gZ, gT, p.event]);
  const lossProg = kernelEvaluator([p.loss.value, lZ, lT]);
  const rhs = kernelEvaluator(augmentedRoots(s));
  const nP = s.paramAdjoints.length;
  const sizes = s.paramAdjoints.map((q) => q.decl.shape.reduce((a, b) => a * b, 1));
  const P = sizes.reduce((a, b) => a + b, 0);

  return E.right((params: ParamValues, z0: F64Tensor, t0: number, tMax: number): E.Either<GradientError, EventGradient> => {
    const dyn = compileF64Dynamics(p.dynamics, params);
    if (E.isLeft(dyn)) return model(dyn.left);
    const B = z0.shape[0] as number, n = z0.data.length, D = n / Math.max(1, B);
    const rowShape = z0.shape.slice(1);
    const tEvent = new Float64Array(B), zEvent = new Float64Array(n), dz0 = new Float64Array(n);
    const dparams = sizes.map((k) => new Float64Array(k));
    let loss = 0, nfeF = 0, nfeB = 0;
    for (let b = 0; b < B; b++) {
      const row = (data: Float64Array): F64Tensor => ({ shape: [1, ...rowShape], data });
      const gOf = (tv: number, y: F64Batch): number => {
        const r = gProg({ ...params, [z.name]: row(y.data), [t.name]: scalarT(tv) });
        if (E.isLeft(r)) throw new Error(`bug: event function failed: ${r.left}`);
        return (r.right[0] as F64Tensor).data[0] as number;
      };
      const fwd = integrate(f64Space, dyn.right.f, { data: z0.data.slice(b * D, (b + 1) * D), batch: 1, dim: D }, {
        method: solver.method, t0, t1: tMax, rtol: solver.rtol, atol: solver.atol,
        event: { g: gOf, ...(p.direction === undefined ? {} : { direction: p.direction }) },
      });
      if (E.isLeft(fwd)) return E.left({ _tag: 'SolveFailed', phase: 'forward', error: fwd.left });
      const hit = fwd.right.event;
      if (hit === undefined) return model(`row ${b}: no event before t = ${tMax}`);
      nfeF += fwd.right.stats.nfe;
      const ts = hit.t, zs = hit.y.data;
      tEvent[b] = ts;
      zEvent.set(zs, b * D);
      const L = lossProg({ ...params, [p.loss.zEvent.name]: row(zs), [p.loss.tEvent.name]: { shape: [1], data: Float64Array.of(ts) } });
      const G = gGrad({ ...params, [z.name]: row(zs), [t.name]: scalarT(ts) });
      if (E.isLeft(L) || E.isLeft(G)) return model(`event loss: ${E.isLeft(L) ? L.left : E.isLeft(G) ? G.left : ''}`);
      loss += (L.right[0] as F64Tensor).data[0] as number;
      const lz = (L.right[1] as F64Tensor).data, lt = (L.right[2] as F64Tensor).data[0] as number;
      const gz2 = (G.right[0] as F64Tensor).data, gt2 = (G.right[1] as F64Tensor).data[0] as number;
      const fs = dyn.right.f(ts, { data: zs, batch: 1, dim: D }).data;
      let gzf = 0, lzf = 0;
      for (let q = 0; q < D; q++) { gzf += (gz2[q] as number) * (fs[q] as number); lzf += (lz[q] as number) * (fs[q] as number); }
      const denom = gt2 + gzf;
      if (!(Math.abs(denom) > 0)) return model(`row ${b}: the event is tangent at t = ${ts} (∂g/∂t + ∂g/∂z·f = 0)`);
      const coef = (lt + lzf) / denom;
      // Augmented state [z, a, θ̄, t̄] of one row, integrated from t* back to t₀.
      const dim = 2 * D + P + 1;
      const aug = new Float64Array(dim);
      aug.set(zs, 0);
      for (let q = 0; q < D; q++) aug[D + q] = (lz[q] as number) - coef * (gz2[q] as number);
      const augF = (tv: number, y: F64Batch): F64Batch => {
        const r = rhs({ ...params, [s.z.name]: row(y.data.subarray(0, D)), [s.a.name]: row(y.data.subarray(D, 2 * D)), [s.t.name]: scalarT(tv) });
        if (E.isLeft(r)) throw new Error(`bug: adjoint system failed: ${r.left}`);
        const out = new Float64Array(dim);
        let off = 0;
        for (const part of r.right) { out.set(part.data, off); off += part.data.length; }
        return { data: out, batch: 1, dim };
      };
      const back = integrate(f64Space, augF, { data: aug, batch: 1, dim }, { method: solver.method, t0: ts, t1: t0, rtol: solver.rtol, atol: solver.atol });
      if (E.isLeft(back)) return E.left({ _tag: 'SolveFailed', phase: 'backward', error: back.left });
      nfeB += back.right.stats.nfe;
      const y = back.right.yFinal.data;
      dz0.set(y.subarray(D, 2 * D), b * D);
      let off = 2 * D;
      for (let k = 0; k < nP; k++) {
        const acc = dparams[k] as Float64Array, size = sizes[k] as number;
        for (let q = 0; q < size; q++) acc[q] = (acc[q] as number) + (y[off + q] as number);
        off += size;
      }
    }
    const dp: Record<string, F64Tensor> = {};
    s.paramAdjoints.forEach((q, k) => { dp[q.decl.name] = { shape: q.decl.shape, data: dparams[k] as Float64Array }; });
    return E.right({ tEvent, zEvent: { shape: z0.shape, data: zEvent }, loss, dz0: { shape: z0.shape, data: dz0 }, dparams: dp, stats: { nfeForward: nfeF, nfeBackward: nfeB } });
  });
};
