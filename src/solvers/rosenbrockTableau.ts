/**
 * Rosenbrock tableaus in the transformed form used by Hairer–Wanner's RODAS (HW II §IV.7,
 * (7.25)–(7.26)): with `W = I/(hγ) − J`, stage `i` solves
 *
 *   W Uᵢ = f(t + αᵢh, y + Σ_{j<i} aᵢⱼUⱼ) + Σ_{j<i} (cᵢⱼ/h) Uⱼ + h dᵢ ∂f/∂t,
 *
 * then `y1 = y + Σ mᵢUᵢ` and the error estimate is `Σ eᵢUᵢ`.
 */
import * as E from 'fp-ts/lib/Either.js';

/** Data of a Rosenbrock method in transformed (Uᵢ) form. */
export interface RosenbrockTableau {
  readonly name: string;
  readonly order: number;
  readonly errorOrder: number;
  readonly gamma: number;
  readonly a: readonly (readonly number[])[];
  readonly c: readonly (readonly number[])[];
  readonly alpha: readonly number[];
  readonly d: readonly number[];
  readonly m: readonly number[];
  readonly e: readonly number[];
}

/**
 * Validates the shapes of a Rosenbrock tableau (lower-triangular `a` and `c`, one α, d, m, e per
 * stage, γ > 0).
 * @example
 * validateRosenbrock(rodas4Tableau); // Right(rodas4Tableau)
 */
export const validateRosenbrock = (t: RosenbrockTableau): E.Either<readonly string[], RosenbrockTableau> => {
  const s = t.m.length;
  const errs: string[] = [];
  if (!(t.gamma > 0)) errs.push(`γ = ${t.gamma} must be positive`);
  (['alpha', 'd', 'e'] as const).forEach((k) => {
    if (t[k].length !== s) errs.push(`${k} has ${t[k].length} entries for ${s} stages`);
  });
  (['a', 'c'] as const).forEach((k) => {
    if (t[k].length !== s) errs.push(`${k} has ${t[k].length} rows for ${s} stages`);
    t[k].forEach((row, i) => {
      if (row.length > i) errs.push(`${k} row ${i + 1} has ${row.length} entries, at most ${i} allowed`);
    });
  });
  if (t.alpha[0] !== 0) errs.push('α₁ must be 0');
  return errs.length > 0 ? E.left(errs) : E.right(Object.freeze(t));
};

/**
 * Validates a built-in Rosenbrock tableau.
 * @example
 * export const rodas4Tableau = rosenbrockTableau({ ... });
 * @throws Error listing the violated conditions (a wrong built-in tableau is a bug).
 */
export const rosenbrockTableau = (t: RosenbrockTableau): RosenbrockTableau => {
  const r = validateRosenbrock(t);
  if (E.isLeft(r)) throw new Error(`invalid Rosenbrock tableau ${t.name}:\n  ${r.left.join('\n  ')}`);
  return r.right;
};
