/**
 * Forward Euler, order 1, fixed step.
 * L. Euler, Institutionum calculi integralis (1768), vol. I; see Hairer–Nørsett–Wanner,
 * Solving Ordinary Differential Equations I (2nd ed., 1993), §I.7.
 */
import { tableau } from '../tableau.ts';
import { explicit } from '../method.ts';

/** Euler's tableau. */
export const eulerTableau = tableau({ name: 'euler', order: 1, c: [0], a: [[]], b: [1] });

/**
 * Forward Euler: `y1 = y0 + h f(t0, y0)`. Use with `dt`, or between requested times.
 * @example
 * integrate(f64Space, f, y0, { method: euler, t1: 1, dt: 1e-3 });
 */
export const euler = explicit(eulerTableau);
