/**
 * The allocation-free Float64 loop: the shared-step adaptive explicit Runge–Kutta solve of
 * `integrate`, specialised to flat Float64Array states and an in-place vector field
 * `f(t, y, out)`. Stage, candidate, error and output buffers live in a workspace made once and
 * reused across solves; a step swaps buffers instead of allocating states, and nothing is
 * allocated per stage or per step (the step-size controller's small decision values aside).
 *
 * It performs exactly the floating-point operations of `integrate(f64Space, …)` in the same order
 * (stage combinations, error norm, initial-step heuristic, controller, dense output at output
 * times), so both give the same numbers bit for bit (`spec/solvers/f64Loop.spec.ts`). It covers
 * the common case — adaptive explicit methods with an embedded error estimate, scalar
 * tolerances, shared output times, stop times — and reports anything else, and every failure, as
 * `failed`, so callers fall back to `integrate` for the full behaviour and error values.
 */
import type { StepController } from './controller.ts';
import type { ErrorNorm } from './norms.ts';
import { polyEval } from './polynomial.ts';
import type { ButcherTableau } from './tableau.ts';

/** An in-place vector field: writes f(t, y) into `out` (which never aliases `y`). */
export type F64Rhs = (t: number, y: Float64Array, out: Float64Array) => void;

/**
 * The error norms of the loop: those of `integrate`, plus the RMS over the first `count`
 * components, plus the largest RMS over consecutive parts `[cuts[k], cuts[k+1])` (torchdiffeq's
 * mixed norm; components past the last cut are not read, which makes it a seminorm).
 */
export type LoopNorm =
  | ErrorNorm
  | { readonly kind: 'rmsPrefix'; readonly count: number }
  | { readonly kind: 'maxRms'; readonly cuts: Int32Array };

/** One stage's nonzero coefficients: `idx[q]` is the stage read, `w[q]` its weight. */
interface Terms {
  readonly idx: Int32Array;
  readonly w: Float64Array;
}

const termsOf = (weights: readonly number[], upTo: number): Terms => {
  const idx: number[] = [], w: number[] = [];
  for (let j = 0; j < Math.min(weights.length, upTo); j++) {
    const v = weights[j] as number;
    if (v !== 0) {
      idx.push(j);
      w.push(v);
    }
  }
  return { idx: Int32Array.from(idx), w: Float64Array.from(w) };
};

/** A tableau the loop can run, or why it cannot. */
export const loopSupports = (tab: ButcherTableau): boolean =>
  tab.error?.kind === 'embedded' && (tab.dense === undefined || tab.dense.extraC.length === 0);

/** Buffers and the tableau's terms for states of length `n`; reusable across solves. */
export interface F64Workspace {
  readonly tab: ButcherTableau;
  readonly n: number;
  /** The current state (the final one after a solve). */
  y: Float64Array;
  y1: Float64Array;
  /** Stage derivatives; `ks[0]` is f at the current state. */
  readonly ks: Float64Array[];
  fNew: Float64Array;
  readonly scratch: Float64Array;
  readonly err: Float64Array;
  readonly comps: Float64Array;
  readonly stages: readonly Terms[];
  readonly b: Terms;
  readonly e: Terms;
  /** Scratch for a combination's nonzero terms. */
  readonly gathered: Gathered;
  /** Work and outcome of the last solve. */
  nfe: number;
  accepted: number;
  rejected: number;
  /** The step size the controller proposed last (a good first step for a continuation). */
  hNext: number;
  /** Why the last solve stopped early; `undefined` when it reached t1. */
  failed: 'nonFinite' | 'maxSteps' | 'underflow' | undefined;
}

/**
 * A workspace for `tab` and states of `n` float64s.
 * @throws when the tableau is not supported (`loopSupports`): a programming error
 * @example const ws = f64Workspace(dopri5.tableau, 40);
 */
export const f64Workspace = (tab: ButcherTableau, n: number): F64Workspace => {
  if (!loopSupports(tab)) throw new Error(`f64Loop: ${tab.name} needs the generic solver`);
  const buf = () => new Float64Array(n);
  const est = tab.error as Extract<NonNullable<ButcherTableau['error']>, { kind: 'embedded' }>;
  return {
    tab, n, y: buf(), y1: buf(), ks: Array.from({ length: tab.stages }, buf), fNew: buf(), scratch: buf(), err: buf(), comps: buf(),
    stages: tab.a.map((row, i) => termsOf(row, i)),
    b: termsOf(tab.b, tab.stages),
    e: termsOf(est.weights, tab.stages),
    gathered: { cs: new Float64Array(tab.stages + 1), xs: new Array<Float64Array>(tab.stages + 1).fill(new Float64Array(0)) },
    nfe: 0, accepted: 0, rejected: 0, hNext: 0, failed: undefined,
  };
};

/** Resolved settings of one solve (validated by the caller). */
export interface LoopConfig {
  readonly t0: number;
  readonly t1: number;
  readonly rtol: number;
  readonly atol: number;
  readonly norm: LoopNorm;
  readonly controller: StepController;
  readonly firstStep: number | undefined;
  readonly dtMin: number;
  readonly dtMax: number;
  readonly maxSteps: number;
  /** Output times (monotone, inside the span) and where to write them (`ts.length · n`). */
  readonly ts: readonly number[] | undefined;
  readonly out: Float64Array | undefined;
  /** Times strictly inside the span to step onto, sorted in the direction of integration. */
  readonly stops: readonly number[];
  /** `ws.ks[0]` already holds f(t0, y0) (its evaluation counted by the caller). */
  readonly k1Known: boolean;
  /**
   * f reads only the first `readLength` components of its argument (an augmented state whose
   * tail only accumulates): stage states are formed for those only. Default: all.
   */
  readonly readLength?: number;
  /**
   * Called once per accepted step, before outputs are written and buffers swapped: the step
   * `(t, h)` from `y` to `y1` with stage derivatives `ks` and `f1 = f(t + h, y1)` (the buffers
   * are the workspace's: copy what must outlive the call). Backprop records its tape here.
   */
  readonly onAccept?: (t: number, h: number, y: Float64Array, y1: Float64Array, ks: readonly Float64Array[], f1: Float64Array) => void;
}

const EPS = Number.EPSILON;

/** Nonzero terms of one combination (`cs[q]·xs[q]`), gathered per step into workspace arrays. */
interface Gathered {
  readonly cs: Float64Array;
  readonly xs: Float64Array[];
}

/**
 * Adds up to four terms to `acc` element by element: `acc ← ((acc + c₀x₀) + c₁x₁) + …`, the same
 * operations in the same order as one pass per term, with one load and store of `out` per element.
 */
const addTerms = (out: Float64Array, n: number, g: Gathered, q: number, k: number): void => {
  const { cs, xs } = g;
  const c0 = cs[q] as number, x0 = xs[q] as Float64Array;
  switch (k) {
    case 1:
      for (let j = 0; j < n; j++) out[j] = (out[j] as number) + c0 * (x0[j] as number);
      return;
    case 2: {
      const c1 = cs[q + 1] as number, x1 = xs[q + 1] as Float64Array;
      for (let j = 0; j < n; j++) out[j] = (out[j] as number) + c0 * (x0[j] as number) + c1 * (x1[j] as number);
      return;
    }
    case 3: {
      const c1 = cs[q + 1] as number, x1 = xs[q + 1] as Float64Array, c2 = cs[q + 2] as number, x2 = xs[q + 2] as Float64Array;
      for (let j = 0; j < n; j++) out[j] = (out[j] as number) + c0 * (x0[j] as number) + c1 * (x1[j] as number) + c2 * (x2[j] as number);
      return;
    }
    default: {
      const c1 = cs[q + 1] as number, x1 = xs[q + 1] as Float64Array, c2 = cs[q + 2] as number, x2 = xs[q + 2] as Float64Array;
      const c3 = cs[q + 3] as number, x3 = xs[q + 3] as Float64Array;
      for (let j = 0; j < n; j++) {
        out[j] = (out[j] as number) + c0 * (x0[j] as number) + c1 * (x1[j] as number) + c2 * (x2[j] as number) + c3 * (x3[j] as number);
      }
    }
  }
};

/**
 * `out ← [base] + Σ (w·h)·ks[idx]` over the first `n` components, skipping zero coefficients,
 * with `combineInto`'s operations per element (the first term stored, the others added in order),
 * several terms per pass.
 */
const comb = (out: Float64Array, n: number, base: Float64Array | undefined, t: Terms, h: number, ks: readonly Float64Array[], g: Gathered): void => {
  let m = 0;
  for (let q = 0; q < t.idx.length; q++) {
    const c = (t.w[q] as number) * h;
    if (c === 0) continue;
    g.cs[m] = c;
    g.xs[m] = ks[t.idx[q] as number] as Float64Array;
    m++;
  }
  let q = 0;
  if (base !== undefined) for (let j = 0; j < n; j++) out[j] = 1 * (base[j] as number);
  else if (m === 0) {
    out.fill(0, 0, n);
    return;
  } else {
    const c = g.cs[0] as number, x = g.xs[0] as Float64Array;
    for (let j = 0; j < n; j++) out[j] = c * (x[j] as number);
    q = 1;
  }
  while (q < m) {
    const k = Math.min(4, m - q);
    addTerms(out, n, g, q, k);
    q += k;
  }
};

/** The weighted norm of `err` for a step from `a` to `c` (`weightedNorm` on `f64Space`). */
const normOf = (ws: F64Workspace, norm: LoopNorm, err: Float64Array, a: Float64Array, c: Float64Array, rtol: number, atol: number): number => {
  const n = err.length;
  switch (norm.kind) {
    case 'rms':
    case 'rmsPrefix': {
      const m = norm.kind === 'rms' ? n : Math.min(n, norm.count);
      let acc = 0;
      for (let i = 0; i < m; i++) {
        const v = (err[i] as number) / (atol + rtol * Math.max(Math.abs(a[i] as number), Math.abs(c[i] as number)));
        acc = acc + v * v;
      }
      return Math.sqrt(acc / Math.max(1, m));
    }
    case 'maxRms': {
      const cuts = norm.cuts;
      let worst = 0;
      for (let k = 0; k + 1 < cuts.length; k++) {
        const lo = cuts[k] as number, hi = Math.min(n, cuts[k + 1] as number);
        let acc = 0;
        for (let i = lo; i < hi; i++) {
          const v = (err[i] as number) / (atol + rtol * Math.max(Math.abs(a[i] as number), Math.abs(c[i] as number)));
          acc = acc + v * v;
        }
        const rms = Math.sqrt(acc / Math.max(1, hi - lo));
        worst = Number.isNaN(rms) || Number.isNaN(worst) ? Number.NaN : Math.max(worst, rms);
      }
      return worst;
    }
    case 'max': {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const v = (err[i] as number) / (atol + rtol * Math.max(Math.abs(a[i] as number), Math.abs(c[i] as number)));
        acc = Number.isNaN(v) ? Number.NaN : Math.max(acc, Math.abs(v));
      }
      return acc;
    }
    case 'custom': {
      const s = ws.comps;
      for (let i = 0; i < n; i++) s[i] = (err[i] as number) / (atol + rtol * Math.max(Math.abs(a[i] as number), Math.abs(c[i] as number)));
      return norm.reduce(s);
    }
  }
};

const allFinite = (x: Float64Array): boolean => {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i] as number)) return false;
  return true;
};

/** `out ← c·x` for the first nonzero term, `out ← out + c·x` after it (`combineInto`'s rule). */
const term = (out: Float64Array, first: boolean, c: number, x: Float64Array): boolean => {
  if (c === 0) return first;
  const n = out.length;
  if (first) for (let j = 0; j < n; j++) out[j] = c * (x[j] as number);
  else for (let j = 0; j < n; j++) out[j] = (out[j] as number) + c * (x[j] as number);
  return false;
};

/** Writes the step's interpolant at θ into `out` (`denseTerms` + `linComb`). */
const interpolate = (ws: F64Workspace, out: Float64Array, y0: Float64Array, h: number, theta: number, f1: Float64Array): void => {
  const dense = ws.tab.dense;
  if (dense !== undefined) {
    let first = term(out, true, 1, y0);
    const polys = dense.polys;
    for (let i = 0; i < polys.length; i++) first = term(out, first, h * polyEval(polys[i] as readonly number[], theta), ws.ks[i] as Float64Array);
    return;
  }
  const s = theta;
  let first = term(out, true, (1 + 2 * s) * (1 - s) * (1 - s), y0);
  first = term(out, first, s * s * (3 - 2 * s), ws.y1);
  first = term(out, first, h * s * (1 - s) * (1 - s), ws.ks[0] as Float64Array);
  first = term(out, first, h * s * s * (s - 1), f1);
  if (first) out.fill(0);
};

/**
 * Solves from `y0` (copied; never written) over [t0, t1] with the workspace's method. The final
 * state is `ws.y`; outputs go to `cfg.out`; work and outcome to `ws` (`ws.failed` set when the
 * solve could not finish: the caller reruns `integrate` for the error value).
 * @example
 * const ws = f64Workspace(dopri5.tableau, 2);
 * runF64Loop(ws, (t, y, o) => { o[0] = -y[0]; o[1] = -y[1]; }, Float64Array.of(1, 2), cfg);
 */
export const runF64Loop = (ws: F64Workspace, f: F64Rhs, y0: Float64Array, cfg: LoopConfig): void => {
  const { tab, n } = ws;
  const { t0, t1, rtol, atol, norm, controller } = cfg;
  const dir = t1 >= t0 ? 1 : -1;
  const span = Math.abs(t1 - t0);
  const ts = cfg.ts, out = cfg.out, T = ts === undefined ? 0 : ts.length;
  const stops = cfg.stops;
  const s = tab.stages, fsal = tab.fsal, order = tab.order, controlOrder = tab.controlOrder;
  const readLength = Math.min(n, cfg.readLength ?? n);
  // Error components the norm does not read are not formed either.
  const errLength = norm.kind === 'rmsPrefix'
    ? Math.min(n, norm.count)
    : norm.kind === 'maxRms' ? Math.min(n, norm.cuts[norm.cuts.length - 1] ?? n) : n;
  ws.nfe = 0;
  ws.accepted = 0;
  ws.rejected = 0;
  ws.failed = undefined;
  ws.y.set(y0);
  const eval_ = (t: number, y: Float64Array, o: Float64Array): void => {
    ws.nfe++;
    f(t, y, o);
  };
  if (!allFinite(ws.y)) {
    ws.failed = 'nonFinite';
    return;
  }
  if (!cfg.k1Known) eval_(t0, ws.y, ws.ks[0] as Float64Array);
  if (!allFinite(ws.ks[0] as Float64Array)) {
    ws.failed = 'nonFinite';
    return;
  }
  let filled = 0;
  while (filled < T && ts?.[filled] === t0) {
    out?.set(ws.y, filled * n);
    filled++;
  }
  let hAbs: number;
  if (cfg.firstStep !== undefined) hAbs = cfg.firstStep;
  else {
    // Hairer–Nørsett–Wanner's heuristic, as `initialStep` with sk = atol + rtol·|y0|.
    const y = ws.y, k = ws.ks[0] as Float64Array;
    const d0 = normOf(ws, norm, y, y, y, rtol, atol);
    const d1 = normOf(ws, norm, k, y, y, rtol, atol);
    const h0 = d0 < 1e-5 || d1 < 1e-5 || !Number.isFinite(d0 / d1) ? 1e-6 : 0.01 * (d0 / d1);
    const c = dir * h0;
    for (let j = 0; j < n; j++) ws.y1[j] = 1 * (y[j] as number);
    if (c !== 0) for (let j = 0; j < n; j++) ws.y1[j] = (ws.y1[j] as number) + c * (k[j] as number);
    eval_(t0 + dir * h0, ws.y1, ws.fNew);
    const df = ws.scratch;
    for (let j = 0; j < n; j++) df[j] = 1 * (ws.fNew[j] as number);
    for (let j = 0; j < n; j++) df[j] = (df[j] as number) + -1 * (k[j] as number);
    const d2 = normOf(ws, norm, df, y, y, rtol, atol) / h0;
    const m = Math.max(d1, d2);
    const h1 = !(m > 1e-15) ? Math.max(1e-6, h0 * 1e-3) : Math.pow(0.01 / m, 1 / (order + 1));
    hAbs = Math.min(Math.min(100 * h0, h1), cfg.dtMax, span);
  }
  let ctrl = controller.init();
  let stopIdx = 0;
  let tCur = t0;
  ws.hNext = hAbs;
  while (t0 !== t1 && dir * (t1 - tCur) > 0) {
    const t = tCur;
    if (ws.accepted + ws.rejected >= cfg.maxSteps) {
      ws.failed = 'maxSteps';
      return;
    }
    while (stopIdx < stops.length && dir * ((stops[stopIdx] as number) - t) <= 0) stopIdx++;
    const target = stopIdx < stops.length ? (stops[stopIdx] as number) : t1;
    const hProp = Math.min(hAbs, cfg.dtMax);
    const landing = Math.abs(target - t) <= hProp * 1.01;
    const h = landing ? target - t : dir * hProp;
    const tNew = landing ? target : t + h;
    const minStep = Math.max(cfg.dtMin, 16 * EPS * Math.abs(t), EPS * EPS * span);
    if (!landing && (hProp < minStep || tNew === t)) {
      ws.failed = 'underflow';
      return;
    }
    // One step (rkStep): stages into the scratch buffer, the FSAL stage at y1.
    const y = ws.y, ks = ws.ks;
    for (let i = 1; i < s; i++) {
      const c = (tab.c[i] ?? 0) * h;
      if (fsal && i === s - 1) {
        comb(ws.y1, n, y, ws.b, h, ks, ws.gathered);
        eval_(t + c, ws.y1, ks[i] as Float64Array);
      } else {
        comb(ws.scratch, readLength, y, ws.stages[i] as Terms, h, ks, ws.gathered);
        eval_(t + c, ws.scratch, ks[i] as Float64Array);
      }
    }
    if (!fsal) comb(ws.y1, n, y, ws.b, h, ks, ws.gathered);
    comb(ws.err, errLength, undefined, ws.e, h, ks, ws.gathered);
    const errNorm = normOf(ws, norm, ws.err, y, ws.y1, rtol, atol);
    let ok = errNorm <= 1;
    let nonFinite = false;
    const f1 = fsal ? (ks[s - 1] as Float64Array) : ws.fNew;
    if (ok || Number.isNaN(errNorm) || errNorm === Number.POSITIVE_INFINITY) {
      if (!allFinite(ws.y1)) nonFinite = true;
      else if (ok) {
        if (!fsal) eval_(tNew, ws.y1, f1);
        if (!allFinite(f1)) nonFinite = true;
      }
      if (nonFinite) ok = false;
    }
    if (!ok) {
      ws.rejected++;
      const d = controller.reject(ctrl, nonFinite ? Number.POSITIVE_INFINITY : errNorm, controlOrder);
      ctrl = d.state;
      hAbs = Math.abs(h) * d.factor;
      if (hAbs < minStep) {
        ws.failed = 'underflow';
        return;
      }
      continue;
    }
    ws.accepted++;
    if (cfg.onAccept !== undefined) cfg.onAccept(t, h, y, ws.y1, ks, f1);
    // Outputs in (t, tNew] from the step's dense output (the end state itself at tNew).
    while (filled < T && out !== undefined && ts !== undefined) {
      const tk = ts[filled] as number;
      if (!(dir * (tk - t) > 0 && dir * (tk - tNew) <= 0)) break;
      const slot = out.subarray(filled * n, (filled + 1) * n);
      if (tk === tNew) slot.set(ws.y1);
      else interpolate(ws, slot, y, h, (tk - t) / h, f1);
      filled++;
    }
    const d = controller.accept(ctrl, errNorm, controlOrder);
    ctrl = d.state;
    hAbs = landing && Math.abs(h) < hProp ? Math.max(Math.abs(h) * d.factor, hProp) : Math.abs(h) * d.factor;
    ws.hNext = hAbs;
    // Advance by swapping buffers: y ← y1, k1 ← f1.
    ws.y = ws.y1;
    ws.y1 = y;
    const k0 = ks[0] as Float64Array;
    if (fsal) {
      ks[0] = f1;
      ks[s - 1] = k0;
    } else {
      ks[0] = f1;
      ws.fNew = k0;
    }
    tCur = tNew;
  }
};
