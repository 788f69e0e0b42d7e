/**
 * One generic explicit Runge–Kutta step, for any tableau and any vector space. The step size is a
 * number (shared step) or one number per batch row (per-trajectory control, rows with h = 0 stay
 * put). Stage states go into a reusable scratch buffer when the space supports in-place updates.
 */
import type { ButcherTableau } from './tableau.ts';
import type { DenseStep } from './denseOutput.ts';
import type { Coef } from './vectorSpace.ts';

/** How a step evaluates the vector field and combines states. */
export interface StageContext<V> {
  /** A new state `Σ coeffs[i]·xs[i]` (owned by the caller of `rkStep`). */
  readonly comb: (coeffs: readonly Coef[], xs: readonly V[]) => V;
  /** In-place combination into `scratch` (scalar coefficients only). */
  readonly combInto?: (out: V, coeffs: readonly number[], xs: readonly V[]) => void;
  /** A reusable stage buffer for `combInto`. */
  readonly scratch?: V;
  /** `f(t + c·h, y)` (per row when h is per row). */
  readonly f: (c: number, y: V) => V;
  /** Frees a temporary state. */
  readonly release: (x: V) => void;
}

/** The outcome of one step. `ks[0]` is the `k1` passed in; the rest are new. */
export interface RkStepResult<V> {
  readonly y1: V;
  readonly ks: readonly V[];
  /** Error vectors: none (fixed step), one (embedded), or two (DOP853's e5 and e3). */
  readonly errs: readonly V[];
}

const scale = (a: number, h: Coef): Coef => (typeof h === 'number' ? a * h : h.map((x) => a * x));

const terms = <V>(weights: readonly number[], ks: readonly V[], h: Coef, base?: V): [Coef[], V[]] => {
  const coeffs: Coef[] = base === undefined ? [] : [1];
  const xs: V[] = base === undefined ? [] : [base];
  weights.forEach((w, j) => {
    const k = ks[j];
    if (w !== 0 && k !== undefined) {
      coeffs.push(scale(w, h));
      xs.push(k);
    }
  });
  return [coeffs, xs];
};

const stageState = <V>(ctx: StageContext<V>, y: V, row: readonly number[], ks: readonly V[], h: Coef): { y: V; temp: boolean } => {
  const [coeffs, xs] = terms(row, ks, h, y);
  if (ctx.combInto !== undefined && ctx.scratch !== undefined && typeof h === 'number') {
    ctx.combInto(ctx.scratch, coeffs as number[], xs);
    return { y: ctx.scratch, temp: false };
  }
  return { y: ctx.comb(coeffs, xs), temp: true };
};

/**
 * Takes one step of size `h` from `(t, y)` with `k1 = f(t, y)` already known.
 * For FSAL tableaus the last stage is `f(t + h, y1)`, reusable as the next `k1`.
 * @example
 * const { y1, errs } = rkStep(dopri5.tableau, ctx, y, 0.1, k1, true);
 */
export const rkStep = <V>(
  tab: ButcherTableau,
  ctx: StageContext<V>,
  y: V,
  h: Coef,
  k1: V,
  withError: boolean,
): RkStepResult<V> => {
  const s = tab.stages;
  const ks: V[] = [k1];
  let y1: V | undefined;
  for (let i = 1; i < s; i++) {
    const row = tab.a[i] ?? [];
    const c = tab.c[i] ?? 0;
    if (tab.fsal && i === s - 1) {
      const [coeffs, xs] = terms(tab.b, ks, h, y);
      y1 = ctx.comb(coeffs, xs);
      ks.push(ctx.f(c, y1));
    } else {
      const st = stageState(ctx, y, row, ks, h);
      ks.push(ctx.f(c, st.y));
      if (st.temp) ctx.release(st.y);
    }
  }
  if (y1 === undefined) {
    const [coeffs, xs] = terms(tab.b, ks, h, y);
    y1 = ctx.comb(coeffs, xs);
  }
  const est = tab.error;
  const errOf = (w: readonly number[]): V => {
    const [coeffs, xs] = terms(w, ks, h);
    return ctx.comb(coeffs.length > 0 ? coeffs : [0], xs.length > 0 ? xs : [k1]);
  };
  const errs: V[] =
    !withError || est === undefined ? [] : est.kind === 'embedded' ? [errOf(est.weights)] : [errOf(est.weights5), errOf(est.weights3)];
  return { y1, ks, errs };
};

/**
 * Evaluates the extra stages a continuous extension needs (DOP853's stages 14–16).
 * @example
 * const extra = rkExtraStages(dopri8.tableau, ctx, y, h, ks);
 */
export const rkExtraStages = <V>(tab: ButcherTableau, ctx: StageContext<V>, y: V, h: Coef, ks: readonly V[]): V[] => {
  const dense = tab.dense;
  if (dense === undefined) return [];
  const all: V[] = [...ks];
  const extra: V[] = [];
  dense.extraC.forEach((c, i) => {
    const st = stageState(ctx, y, dense.extraA[i] ?? [], all, h);
    const k = ctx.f(c, st.y);
    if (st.temp) ctx.release(st.y);
    all.push(k);
    extra.push(k);
  });
  return extra;
};

/**
 * The dense information of an accepted step: the tableau's interpolant when it has one (`ks`
 * must then include the extra stages), else cubic Hermite through (y0, k1) and (y1, f1).
 * @example
 * const d = rkDense(tsit5.tableau, t, h, y, y1, ks, fNew);
 */
export const rkDense = <V>(tab: ButcherTableau, t0: Coef, h: Coef, y0: V, y1: V, ks: readonly V[], f1: V): DenseStep<V> =>
  tab.dense === undefined
    ? { kind: 'hermite', t0, h, y0, y1, f0: ks[0] as V, f1 }
    : { kind: 'polynomial', t0, h, y0, ks, polys: tab.dense.polys };
