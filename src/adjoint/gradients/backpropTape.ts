/**
 * The tape of float64 backprop (`backpropF64.ts`): accepted steps with their stages and saved
 * activations, a tableau's coefficients as the reverse pass reads them, the per-tableau buffers,
 * and the vector loops both passes share (in the Float64 loop's order of operations).
 */
import type { F64Workspace } from '../../solvers/f64Loop.ts';
import type { ButcherTableau } from '../../solvers/index.ts';
import type { Poly } from '../../solvers/polynomial.ts';

/** One accepted step on the tape: views of one buffer. */
export interface Step {
  readonly y0: Float64Array;
  readonly y1: Float64Array;
  /** f(t + h, y₁) (the FSAL stage, or the extra evaluation of non-FSAL methods). */
  readonly f1: Float64Array;
  readonly ks: readonly Float64Array[];
  /** Saved activations of each stage's f evaluation, then of f₁'s (allocated when first kept). */
  acts: readonly (readonly Float64Array[])[];
  /** Whether `acts` holds this step's values (else the VJP recomputes them). */
  saved: boolean;
}

/**
 * A step record for state size n and s stages, in one buffer.
 * @example newStep(4, 7).ks.length // 7
 */
export const newStep = (n: number, s: number): Step => {
  const buf = new Float64Array((s + 3) * n);
  const v = (k: number) => buf.subarray(k * n, (k + 1) * n);
  return { y0: v(0), y1: v(1), f1: v(2), ks: Array.from({ length: s }, (_, i) => v(3 + i)), acts: [], saved: false };
};

/**
 * Activation sets for a step's s + 1 evaluations (one buffer per saved node each).
 * @example newActs(7, [1280])[0]?.[0]?.length // 1280
 */
export const newActs = (s: number, sizes: readonly number[]): Float64Array[][] => {
  const total = sizes.reduce((x, y) => x + y, 0);
  return Array.from({ length: s + 1 }, () => {
    const buf = new Float64Array(total);
    let off = 0;
    return sizes.map((m) => buf.subarray(off, (off += m)));
  });
};

/** A tableau's coefficients as the reverse pass reads them. */
export interface Coeffs {
  readonly s: number;
  readonly fsal: boolean;
  readonly c: Float64Array;
  /** Row i's nonzero entries: stage indices and weights. */
  readonly rows: readonly { readonly idx: Int32Array; readonly w: Float64Array }[];
  readonly b: { readonly idx: Int32Array; readonly w: Float64Array };
  /** Dense-output polynomials and their derivatives, or undefined for cubic Hermite. */
  readonly polys: readonly Poly[] | undefined;
  readonly dpolys: readonly Poly[] | undefined;
}

const nonzero = (ws: readonly number[], upTo: number) => {
  const idx: number[] = [], w: number[] = [];
  for (let j = 0; j < Math.min(ws.length, upTo); j++) if ((ws[j] as number) !== 0) { idx.push(j); w.push(ws[j] as number); }
  return { idx: Int32Array.from(idx), w: Float64Array.from(w) };
};

/**
 * A tableau's nonzero coefficients and dense-output derivatives.
 * @example coeffsOf(dopri5.tableau).b.idx // Int32Array [0, 2, 3, 4, 5]
 */
export const coeffsOf = (tab: ButcherTableau): Coeffs => ({
  s: tab.stages, fsal: tab.fsal, c: Float64Array.from(tab.c),
  rows: tab.a.map((row, i) => nonzero(row, i)),
  b: nonzero(tab.b, tab.stages),
  polys: tab.dense?.polys,
  dpolys: tab.dense?.polys.map((p) => p.slice(1).map((x, k) => (k + 1) * x)),
});

/** Buffers for one tableau and state size, reused across calls. */
export interface Runner {
  readonly ws: F64Workspace;
  readonly co: Coeffs;
  /** Full steps (every step, or one checkpoint segment). */
  readonly steps: Step[];
  /** Checkpointed start states (`checkpointEvery > 1`). */
  readonly ckpts: Float64Array[];
  /** Step start times and sizes, `count` used. */
  readonly ts: number[];
  readonly hs: number[];
  count: number;
  /** Where f writes its saved activations, per workspace output buffer. */
  readonly actOf: Map<Float64Array, readonly Float64Array[]>;
  readonly kbar: readonly Float64Array[];
  readonly touched: Uint8Array;
  readonly ybar: Float64Array;
  readonly acc: Float64Array;
  readonly stage: Float64Array;
  readonly tmp: Float64Array;
}

/**
 * `out ← base + Σ (w·h)·ks[idx]` over n, the Float64 loop's operations in its order.
 * @example combine(stage, n, y0, co.rows[2], h, ks)
 */
export const combine = (out: Float64Array, n: number, base: Float64Array, t: Coeffs['b'], h: number, ks: readonly Float64Array[]): void => {
  for (let j = 0; j < n; j++) out[j] = 1 * (base[j] as number);
  for (let q = 0; q < t.idx.length; q++) {
    const c = (t.w[q] as number) * h;
    if (c === 0) continue;
    const x = ks[t.idx[q] as number] as Float64Array;
    for (let j = 0; j < n; j++) out[j] = (out[j] as number) + c * (x[j] as number);
  }
};

/**
 * Copies one evaluation's activations into another's buffers.
 * @example copyActs(step.acts[7], step.acts[6])
 */
export const copyActs = (from: readonly Float64Array[], to: readonly Float64Array[]): void => {
  for (let q = 0; q < from.length; q++) (to[q] as Float64Array).set(from[q] as Float64Array);
};

/**
 * `out ← out + c·x` over n.
 * @example axpy(ybar, 1, g, n)
 */
export const axpy = (out: Float64Array, c: number, x: Float64Array, n: number): void => {
  for (let j = 0; j < n; j++) out[j] = (out[j] as number) + c * (x[j] as number);
};

/**
 * `Σ x·y` over n.
 * @example dot(Float64Array.of(1, 2), Float64Array.of(3, 4), 2) // 11
 */
export const dot = (x: Float64Array, y: Float64Array, n: number): number => {
  let acc = 0;
  for (let j = 0; j < n; j++) acc += (x[j] as number) * (y[j] as number);
  return acc;
};

