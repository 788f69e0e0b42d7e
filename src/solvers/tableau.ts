/**
 * Butcher tableaus as frozen, validated data (in the manner of diffrax's `ButcherTableau`).
 * Validation checks the row-sum conditions Σⱼ aᵢⱼ = cᵢ, Σ bᵢ = 1, Σ eᵢ = 0 for the error weights
 * (e = b − b̂), and Σᵢ Pᵢ(θ) = θ, Pᵢ(1) = bᵢ for the dense-output polynomials. FSAL ("first same as
 * last") is derived, never declared: the last stage is evaluated at (t + h, y1).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Poly } from './polynomial.ts';
import { polyEval } from './polynomial.ts';

/**
 * How a method estimates its local error.
 * - `embedded`: `err = hΣ eᵢkᵢ` with `e = b − b̂`; the estimate is O(h^(order+1)).
 * - `dop853`: Hairer's DOP853 combination of a 5th-order estimate `e5` and a 3rd-order `e3`:
 *   `err = ‖e5‖² / √(‖e5‖² + 0.01‖e3‖²)`, controlled as if of order `order`.
 */
export type ErrorEstimator =
  | { readonly kind: 'embedded'; readonly order: number; readonly weights: readonly number[] }
  | {
      readonly kind: 'dop853';
      readonly order: number;
      readonly weights5: readonly number[];
      readonly weights3: readonly number[];
    };

/**
 * A method's continuous extension: `y(t0 + θh) = y0 + hΣᵢ Pᵢ(θ) kᵢ` over the stages, plus optional
 * extra stages evaluated only when dense output is needed (DOP853 has three).
 */
export interface DenseSpec {
  readonly extraC: readonly number[];
  readonly extraA: readonly (readonly number[])[];
  readonly polys: readonly Poly[];
}

/** The data a tableau file provides. `a[i]` holds row i's entries below the diagonal. */
export interface TableauSpec {
  readonly name: string;
  readonly order: number;
  readonly c: readonly number[];
  readonly a: readonly (readonly number[])[];
  readonly b: readonly number[];
  readonly error?: ErrorEstimator;
  /** Absent: Hermite cubic interpolation from (y0, f0, y1, f1). */
  readonly dense?: DenseSpec;
}

/** A validated tableau. */
export interface ButcherTableau extends TableauSpec {
  readonly stages: number;
  /** Derived: the last stage is f(t + h, y1), reusable as the next step's first stage. */
  readonly fsal: boolean;
  /** Order used by the step-size controller exponent (error order + 1). */
  readonly controlOrder: number;
}

const TOL = 1e-12;
const near = (x: number, y: number, tol = TOL): boolean => Math.abs(x - y) <= tol * Math.max(1, Math.abs(y));
const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);

const checkRows = (c: readonly number[], a: readonly (readonly number[])[], offset: number, what: string): string[] =>
  c.flatMap((ci, i) => {
    const row = a[i] ?? [];
    const errs: string[] = [];
    if (row.length > offset + i) errs.push(`${what} row ${i + 1} has ${row.length} entries, at most ${offset + i} allowed`);
    if (!near(sum(row), ci)) errs.push(`${what} row ${i + 1}: Σa = ${sum(row)} but c = ${ci}`);
    return errs;
  });

const freezeDeep = <T>(x: T): T => {
  if (typeof x === 'object' && x !== null) {
    Object.values(x).forEach(freezeDeep);
    Object.freeze(x);
  }
  return x;
};

/**
 * Validates a tableau, collecting every violated condition.
 * @example
 * validateTableau({ name: 'euler', order: 1, c: [0], a: [[]], b: [1] }); // Right(tableau)
 */
export const validateTableau = (spec: TableauSpec): E.Either<readonly string[], ButcherTableau> => {
  const s = spec.c.length;
  const errs: string[] = [];
  if (spec.c[0] !== 0) errs.push('c₁ must be 0 for an explicit method');
  if (spec.a.length !== s) errs.push(`a has ${spec.a.length} rows for ${s} stages`);
  if (spec.b.length !== s) errs.push(`b has ${spec.b.length} entries for ${s} stages`);
  errs.push(...checkRows(spec.c, spec.a, 0, 'a'));
  if (!near(sum(spec.b), 1)) errs.push(`Σb = ${sum(spec.b)}, expected 1`);
  const err = spec.error;
  if (err !== undefined) {
    const sets = err.kind === 'embedded' ? [err.weights] : [err.weights5, err.weights3];
    sets.forEach((w, k) => {
      if (w.length !== s) errs.push(`error weights ${k + 1} have ${w.length} entries for ${s} stages`);
      if (!near(sum(w), 0)) errs.push(`error weights ${k + 1}: Σ(b − b̂) = ${sum(w)}, expected 0`);
    });
  }
  const dense = spec.dense;
  if (dense !== undefined) {
    const total = s + dense.extraC.length;
    errs.push(...checkRows(dense.extraC, dense.extraA, s, 'dense extra'));
    if (dense.polys.length !== total) errs.push(`dense has ${dense.polys.length} polynomials for ${total} stages`);
    const degree = Math.max(...dense.polys.map((p) => p.length));
    for (let k = 0; k < degree; k++) {
      const ck = sum(dense.polys.map((p) => p[k] ?? 0));
      if (!near(ck, k === 1 ? 1 : 0, 1e-9)) errs.push(`dense: Σᵢ Pᵢ has θ^${k} coefficient ${ck}, expected ${k === 1 ? 1 : 0}`);
    }
    dense.polys.forEach((p, i) => {
      const bi = i < s ? (spec.b[i] ?? 0) : 0;
      if (!near(polyEval(p, 1), bi, 1e-9)) errs.push(`dense: P${i + 1}(1) = ${polyEval(p, 1)} but b = ${bi}`);
    });
  }
  if (errs.length > 0) return E.left(errs);
  const last = spec.a[s - 1] ?? [];
  const fsal =
    s > 1 && spec.c[s - 1] === 1 && spec.b[s - 1] === 0 && spec.b.slice(0, s - 1).every((bi, j) => bi === (last[j] ?? 0));
  const controlOrder = (err?.order ?? spec.order) + 1;
  return E.right(freezeDeep({ ...spec, stages: s, fsal, controlOrder }));
};

/**
 * Validates and freezes a built-in tableau.
 * @example
 * export const heun = tableau({ name: 'heun', order: 2, c: [0, 1], a: [[], [1]], b: [1 / 2, 1 / 2] });
 * @throws Error listing every violated condition: a wrong built-in coefficient is a bug, not an
 * expected failure. Use `validateTableau` for user-supplied tableaus.
 */
export const tableau = (spec: TableauSpec): ButcherTableau => {
  const r = validateTableau(spec);
  if (E.isLeft(r)) throw new Error(`invalid tableau ${spec.name}:\n  ${r.left.join('\n  ')}`);
  return r.right;
};
