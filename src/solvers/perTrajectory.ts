/**
 * Per-trajectory step control: every trajectory of the batch has its own time, step size,
 * controller state, span, output grid and event; the batch is still evaluated together (one call
 * of f per stage, with one time per row). Rejected rows retry while accepted rows advance;
 * finished rows freeze (step size 0: they contribute nothing and take no further steps).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { SolveError } from './errors.ts';
import type { EventDirection } from './events.ts';
import { crossed, illinois } from './events.ts';
import type { StepController, ControllerState } from './controller.ts';
import { defaultController } from './controller.ts';
import type { ErrorNorm } from './norms.ts';
import { combineDop853, rmsNorm, weightedRowNorms } from './norms.ts';
import type { ExplicitMethod } from './method.ts';
import { ownership } from './ownership.ts';
import { rkDense, rkExtraStages, rkStep } from './rkStep.ts';
import { denseTerms } from './denseOutput.ts';
import { initialStep } from './initialStep.ts';
import type { BatchedSpace, Coef, Tolerance } from './vectorSpace.ts';
import { validateStepOptions } from './integrate.ts';
import { planTimes } from './times.ts';

/** Dynamics with one time per trajectory: `t[b]` is row b's time. */
export type RowDynamics<V> = (t: Float64Array, y: V) => V;

/** A per-trajectory terminating event: g returns one value per row; each row stops at its own root. */
export interface RowEventSpec<V> {
  readonly g: (t: Float64Array, y: V) => Float64Array;
  readonly direction?: EventDirection;
}

/** Options of `integratePerTrajectory`. */
export interface PerTrajectoryOptions<V> {
  readonly method: ExplicitMethod;
  /** Start time per row (default: each row's first output time). */
  readonly t0?: number | Float64Array;
  /** End time per row (default: each row's last output time). */
  readonly t1?: number | Float64Array;
  /** Output times: one grid for all rows or one per row (B × T). */
  readonly ts?: readonly number[] | readonly (readonly number[])[];
  readonly rtol?: number | Float64Array;
  readonly atol?: number | Float64Array;
  readonly norm?: ErrorNorm;
  readonly controller?: StepController;
  readonly firstStep?: number;
  readonly dtMin?: number;
  readonly dtMax?: number;
  /** Step attempts per trajectory. */
  readonly maxSteps?: number;
  readonly event?: RowEventSpec<V>;
}

/** The result of a per-trajectory solve. */
export interface RowSolution<V> {
  readonly t0: Float64Array;
  /** Where each row ended (its t1, or its event time). */
  readonly t1: Float64Array;
  readonly ts: readonly (readonly number[])[];
  /** Row b of ys[k] is the state at ts[b][k] (after a row's event: its state at the event). */
  readonly ys: readonly V[];
  /** How many outputs of each row were reached before its event. */
  readonly filled: Int32Array;
  readonly yFinal: V;
  readonly events?: { readonly fired: Uint8Array; readonly t: Float64Array };
  readonly stats: { readonly nfe: number; readonly accepted: Int32Array; readonly rejected: Int32Array };
  readonly dispose: () => void;
}

const EPS = Number.EPSILON;
const perRow = (v: number | Float64Array | undefined, B: number, fallback: (b: number) => number): Float64Array =>
  Float64Array.from({ length: B }, (_, b) => (v === undefined ? fallback(b) : typeof v === 'number' ? v : (v[b] ?? Number.NaN)));

/**
 * Solves every trajectory with its own adaptive step size (and grid, span and event), batched.
 * Gives the same answers as solving each trajectory alone.
 * @example
 * const r = integratePerTrajectory(f64Space, (t, y) => decay(t, y), y0, {
 *   method: dopri5, ts: [[0, 1, 2], [0, 5, 10]], rtol: 1e-8,
 * });
 */
export const integratePerTrajectory = <V>(
  space: BatchedSpace<V>,
  f: RowDynamics<V>,
  y0: V,
  o: PerTrajectoryOptions<V>,
): E.Either<SolveError, RowSolution<V>> => {
  const tolE = validateStepOptions(space, y0, o);
  if (E.isLeft(tolE)) return tolE;
  const tol: Tolerance = tolE.right;
  const tab = o.method.tableau;
  const est = tab.error;
  if (est === undefined) return E.left({ _tag: 'InvalidOptions', option: 'method', reason: `${o.method.name} has no error estimator; per-trajectory control needs an adaptive method` });
  const B = space.batchOf(y0);
  const T = o.ts === undefined ? 0 : o.ts.length > 0 && Array.isArray(o.ts[0]) ? ((o.ts[0] as readonly number[]).length) : o.ts.length;
  const grid: (readonly number[])[] = Array.from({ length: B }, (_, b) =>
    o.ts === undefined ? [] : o.ts.length > 0 && Array.isArray(o.ts[0]) ? ((o.ts as readonly (readonly number[])[])[b] ?? []) : (o.ts as readonly number[]),
  );
  if (o.ts !== undefined && o.ts.length > 0 && Array.isArray(o.ts[0]) && o.ts.length !== B) {
    return E.left({ _tag: 'InvalidOptions', option: 'ts', reason: `has ${o.ts.length} rows for a batch of ${B}` });
  }
  const t0s = perRow(o.t0, B, (b) => grid[b]?.[0] ?? Number.NaN);
  const t1s = perRow(o.t1, B, (b) => grid[b]?.[T - 1] ?? Number.NaN);
  for (let b = 0; b < B; b++) {
    const p = planTimes({ t0: t0s[b] as number, t1: t1s[b] as number, ts: grid[b] as readonly number[] });
    if (E.isLeft(p)) return E.left(p.left._tag === 'InvalidTimes' ? { ...p.left, row: b } : p.left);
  }
  const norm = o.norm ?? rmsNorm;
  const ctrl = o.controller ?? defaultController;
  const dtMin = o.dtMin ?? 0, dtMax = o.dtMax ?? Number.POSITIVE_INFINITY, maxSteps = o.maxSteps ?? 100_000;
  const mem = ownership(space);
  let nfe = 0;
  const F = (t: Float64Array, y: V): V => {
    nfe++;
    const r = space.tidy === undefined ? f(t, y) : space.tidy(() => f(t, y));
    return mem.adopt(r === y ? space.clone(y) : r);
  };
  const comb = (c: readonly Coef[], xs: readonly V[]): V => mem.adopt(space.linCombRows(c, xs));
  const rowsNonFinite = (x: V): Float64Array => space.weightedRowSumSq(x, x, x, { rtol: 0, atol: 1 });
  const dir = Float64Array.from({ length: B }, (_, b) => ((t1s[b] as number) >= (t0s[b] as number) ? 1 : -1));
  const t = Float64Array.from(t0s);
  const done = Uint8Array.from({ length: B }, (_, b) => (t0s[b] === t1s[b] ? 1 : 0));
  const accepted = new Int32Array(B), rejected = new Int32Array(B);
  const ptr = new Int32Array(B);
  const slots: (V | undefined)[] = new Array<V | undefined>(T).fill(undefined);
  const fired = new Uint8Array(B);
  const tEvent = new Float64Array(B).fill(Number.NaN);
  mem.pin(y0);
  let y = y0;
  let k1: V | undefined;
  const cleanup = (): void => {
    slots.forEach((s) => mem.release(s));
    mem.release(k1);
    mem.release(y);
  };
  const fail = (e: SolveError): E.Either<SolveError, RowSolution<V>> => {
    cleanup();
    return E.left(e);
  };
  const merge = (k: number, mask: Uint8Array, cand: V): void => {
    const prev = slots[k];
    slots[k] = prev === undefined ? cand : mem.adopt(space.selectRows(mask, cand, prev));
    if (prev !== undefined) {
      mem.release(cand);
      mem.release(prev);
    }
  };
  const dim = space.size(y0) / Math.max(1, B);
  const badRow = (sums: Float64Array): number => sums.findIndex((s, b) => !done[b] && !Number.isFinite(s));
  {
    const bad = badRow(rowsNonFinite(y0));
    if (bad >= 0) return fail({ _tag: 'NonFiniteState', t: t[bad] as number, step: 0, component: { row: bad, index: firstBadIndex(space.toF64(y0), bad, dim) }, where: 'initial state' });
  }
  k1 = F(t, y0);
  {
    const bad = badRow(rowsNonFinite(k1));
    if (bad >= 0) return fail({ _tag: 'NonFiniteState', t: t[bad] as number, step: 0, component: { row: bad, index: firstBadIndex(space.toF64(k1), bad, dim) }, where: 'vector field' });
  }
  // Outputs at t0.
  {
    const mask = Uint8Array.from({ length: B }, (_, b) => (T > 0 && grid[b]?.[0] === t0s[b] ? 1 : 0));
    if (mask.some((m) => m === 1)) {
      merge(0, mask, mem.adopt(space.clone(y0)));
      mask.forEach((m, b) => { if (m) ptr[b] = 1; });
    }
  }
  const ev = o.event;
  const evalG = (tt: Float64Array, ys: V): Float64Array => Float64Array.from(space.scoped === undefined ? (ev?.g(tt, ys) ?? []) : space.scoped(() => ev?.g(tt, ys) ?? new Float64Array(B)));
  let gPrev = ev === undefined ? undefined : evalG(t, y0);
  const k0 = k1;
  const h = o.firstStep !== undefined
    ? new Float64Array(B).fill(o.firstStep)
    : initialStep({
        y0, f0: k0, order: tab.order,
        norms: (x) => weightedRowNorms(space, norm, x, y0, y0, tol),
        euler: (h0) => comb([1, h0.map((v, b) => v * (dir[b] as number))], [y0, k0]),
        feval: (h0, ys) => F(t.map((tb, b) => tb + (dir[b] as number) * (h0[b] as number)), ys),
        diff: (a, c) => comb([1, -1], [a, c]),
        release: mem.release,
      });
  h.forEach((v, b) => { h[b] = Math.min(v, dtMax, Math.abs((t1s[b] as number) - (t0s[b] as number))); });
  const cs: ControllerState[] = Array.from({ length: B }, () => ctrl.init());
  const hProp = new Float64Array(B);
  while (done.some((d) => d === 0)) {
    const hStep = new Float64Array(B);
    const landing = new Uint8Array(B);
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      const tb = t[b] as number, t1b = t1s[b] as number;
      if ((accepted[b] as number) + (rejected[b] as number) >= maxSteps) {
        return fail({ _tag: 'MaxStepsReached', t: tb, t1: t1b, steps: maxSteps, row: b });
      }
      const hp = Math.min(h[b] as number, dtMax);
      hProp[b] = hp;
      const minStep = Math.max(dtMin, 16 * EPS * Math.abs(tb), EPS * EPS * Math.abs(t1b - (t0s[b] as number)));
      landing[b] = Math.abs(t1b - tb) <= hp * 1.01 ? 1 : 0;
      if (!landing[b] && hp < minStep) return fail({ _tag: 'StepSizeUnderflow', t: tb, dt: hp * (dir[b] as number), dtMin, row: b });
      hStep[b] = landing[b] ? t1b - tb : (dir[b] as number) * hp;
    }
    const ctx = { comb, f: (c: number, ys: V) => F(t.map((tb, b) => tb + c * (hStep[b] as number)), ys), release: mem.release };
    const r = rkStep(tab, ctx, y, hStep, k1, true);
    const errRows =
      est.kind === 'embedded'
        ? weightedRowNorms(space, norm, r.errs[0] as V, y, r.y1, tol)
        : weightedRowNorms(space, norm, r.errs[0] as V, y, r.y1, tol).map((e5, b) =>
            combineDop853(e5, weightedRowNorms(space, norm, r.errs[1] as V, y, r.y1, tol)[b] as number));
    const fNew = tab.fsal ? (r.ks[r.ks.length - 1] as V) : F(t.map((tb, b) => tb + (hStep[b] as number)), r.y1);
    const yBad = rowsNonFinite(r.y1), fBad = rowsNonFinite(fNew);
    const acc = new Uint8Array(B);
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      const e = errRows[b] as number;
      const finite = Number.isFinite(yBad[b] as number) && Number.isFinite(fBad[b] as number);
      if (finite && e <= 1) {
        acc[b] = 1;
        accepted[b] = (accepted[b] as number) + 1;
        const d = ctrl.accept(cs[b] as ControllerState, e, tab.controlOrder);
        cs[b] = d.state;
        const hs = Math.abs(hStep[b] as number);
        h[b] = landing[b] && hs < (hProp[b] as number) ? Math.max(hs * d.factor, hProp[b] as number) : hs * d.factor;
      } else {
        rejected[b] = (rejected[b] as number) + 1;
        const d = ctrl.reject(cs[b] as ControllerState, finite ? e : Number.POSITIVE_INFINITY, tab.controlOrder);
        cs[b] = d.state;
        h[b] = Math.abs(hStep[b] as number) * d.factor;
        const minStep = Math.max(dtMin, 16 * EPS * Math.abs(t[b] as number), EPS * EPS * Math.abs((t1s[b] as number) - (t0s[b] as number)));
        if (h[b] as number < minStep) {
          const err = finite
            ? { _tag: 'StepSizeUnderflow' as const, t: t[b] as number, dt: (h[b] as number) * (dir[b] as number), dtMin, row: b }
            : { _tag: 'NonFiniteState' as const, t: (t[b] as number) + (hStep[b] as number), step: accepted[b] as number, component: { row: b, index: firstBadIndex(space.toF64(Number.isFinite(yBad[b] as number) ? fNew : r.y1), b, dim) }, where: Number.isFinite(yBad[b] as number) ? 'vector field' as const : 'state' as const };
          [r.y1, fNew, ...r.ks.slice(1), ...r.errs].forEach((x) => mem.release(x));
          return fail(err);
        }
      }
    }
    const anyAcc = acc.some((a) => a === 1);
    const needDense = anyAcc && (ev !== undefined || T > 0);
    const extra = needDense ? rkExtraStages(tab, ctx, y, hStep, r.ks) : [];
    const step = needDense ? rkDense(tab, Float64Array.from(t), hStep, y, r.y1, [...r.ks, ...extra], fNew) : undefined;
    const at = (theta: Coef): V => {
      const [c, xs] = denseTerms(step as NonNullable<typeof step>, theta);
      return comb(c, xs);
    };
    const tNew = t.map((tb, b) => (acc[b] ? tb + (hStep[b] as number) : tb));
    if (acc.some((a, b) => a === 1 && landing[b] === 1)) acc.forEach((a, b) => { if (a && landing[b]) tNew[b] = t1s[b] as number; });
    let yNext = mem.adopt(space.selectRows(acc, r.y1, y));
    // Events.
    const evMask = new Uint8Array(B);
    const evTheta = new Float64Array(B).fill(1);
    let gNew: Float64Array | undefined;
    if (ev !== undefined && gPrev !== undefined && anyAcc) {
      gNew = evalG(tNew, r.y1);
      const gp = gPrev, gn = gNew;
      for (let b = 0; b < B; b++) {
        if (!acc[b] || !crossed(gp[b] as number, gn[b] as number, ev.direction ?? 'either')) continue;
        const hb = hStep[b] as number;
        const phi = (th: number): number => {
          const thetas = new Float64Array(B).fill(th);
          const yy = at(thetas);
          const v = evalG(t.map((tb, i) => tb + th * (hStep[i] as number)), yy)[b] ?? Number.NaN;
          mem.release(yy);
          return v;
        };
        const th = illinois(phi, 0, 1, gp[b] as number, gn[b] as number, Math.max(4 * EPS, (4 * EPS * Math.max(Math.abs(t[b] as number), Math.abs(tNew[b] as number))) / Math.abs(hb)));
        evMask[b] = 1;
        evTheta[b] = th;
        tNew[b] = th >= 1 ? (tNew[b] as number) : (t[b] as number) + th * hb;
        fired[b] = 1;
        tEvent[b] = tNew[b] as number;
      }
      if (evMask.some((m) => m === 1)) {
        const yE = at(evTheta);
        const merged = mem.adopt(space.selectRows(evMask, yE, yNext));
        mem.release(yE);
        mem.release(yNext);
        yNext = merged;
      }
    }
    // Outputs in (t_b, tNew_b] for accepted rows.
    for (;;) {
      const pending: number[] = [];
      for (let b = 0; b < B; b++) {
        const k = ptr[b] as number;
        const tk = grid[b]?.[k];
        if (acc[b] && k < T && tk !== undefined && (dir[b] as number) * (tk - (t[b] as number)) > 0 && (dir[b] as number) * (tk - (tNew[b] as number)) <= 0) pending.push(b);
      }
      if (pending.length === 0) break;
      const k = Math.min(...pending.map((b) => ptr[b] as number));
      const mask = new Uint8Array(B);
      const th = new Float64Array(B);
      for (const b of pending) {
        if (ptr[b] !== k) continue;
        mask[b] = 1;
        th[b] = ((grid[b]?.[k] as number) - (t[b] as number)) / (hStep[b] as number);
        ptr[b] = k + 1;
      }
      merge(k, mask, at(th));
    }
    const k1Next = mem.adopt(space.selectRows(acc, fNew, k1));
    [r.y1, fNew, ...r.ks.slice(1).filter((k) => k !== fNew), ...r.errs, ...extra].forEach((x) => mem.release(x));
    mem.release(y);
    mem.release(k1);
    y = yNext;
    k1 = k1Next;
    if (gNew !== undefined && gPrev !== undefined) {
      const gp = gPrev, gn = gNew;
      gPrev = gp.map((g, b) => (acc[b] ? (gn[b] as number) : g));
    }
    t.set(tNew);
    for (let b = 0; b < B; b++) if (!done[b] && (t[b] === t1s[b] || fired[b])) done[b] = 1;
  }
  mem.release(k1);
  k1 = undefined;
  // Outputs a row never reached (after its event) hold its final state.
  const filled = Int32Array.from(ptr);
  for (let k = 0; k < T; k++) {
    const mask = Uint8Array.from({ length: B }, (_, b) => ((ptr[b] as number) <= k ? 1 : 0));
    if (mask.some((m) => m === 1)) merge(k, mask, mem.adopt(space.clone(y)));
  }
  let disposed = false;
  return E.right({
    t0: t0s,
    t1: Float64Array.from(t),
    ts: grid,
    ys: slots as V[],
    filled,
    yFinal: y,
    ...(ev === undefined ? {} : { events: { fired, t: tEvent } }),
    stats: { nfe, accepted, rejected },
    dispose: () => {
      if (!disposed) cleanup();
      disposed = true;
    },
  });
};

const firstBadIndex = (data: Float64Array, row: number, dim: number): number => {
  for (let j = 0; j < dim; j++) if (!Number.isFinite(data[row * dim + j] as number)) return j;
  return 0;
};
