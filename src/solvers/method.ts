/**
 * Methods are typed values, not strings: an explicit Runge–Kutta method wraps a validated Butcher
 * tableau, a Rosenbrock method wraps a Rosenbrock tableau.
 */
import type { ButcherTableau } from './tableau.ts';
import type { RosenbrockTableau } from './rosenbrockTableau.ts';

/** An explicit Runge–Kutta method. */
export interface ExplicitMethod {
  readonly kind: 'explicit';
  readonly name: string;
  readonly tableau: ButcherTableau;
}

/** A linearly implicit (Rosenbrock / W) method for stiff problems. */
export interface RosenbrockMethod {
  readonly kind: 'rosenbrock';
  readonly name: string;
  readonly tableau: RosenbrockTableau;
}

/** Any integration method. */
export type Method = ExplicitMethod | RosenbrockMethod;

/**
 * Wraps a tableau as a method value.
 * @example
 * export const rk4 = explicit(rk4Tableau);
 */
export const explicit = (t: ButcherTableau): ExplicitMethod => Object.freeze({ kind: 'explicit', name: t.name, tableau: t });

/**
 * True when the method carries an error estimator (adaptive stepping is possible).
 * @example
 * isAdaptive(dopri5); // true
 * isAdaptive(rk4);    // false
 */
export const isAdaptive = (m: Method): boolean => (m.kind === 'explicit' ? m.tableau.error !== undefined : true);
