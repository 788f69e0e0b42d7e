/**
 * Explicit midpoint rule, order 2, fixed step.
 * C. Runge, Über die numerische Auflösung von Differentialgleichungen, Math. Ann. 46 (1895);
 * Hairer–Nørsett–Wanner I, §II.1, (1.6).
 */
import { tableau } from '../tableau.ts';
import { explicit } from '../method.ts';

/** The explicit midpoint tableau. */
export const midpointTableau = tableau({
  name: 'midpoint',
  order: 2,
  c: [0, 1 / 2],
  a: [[], [1 / 2]],
  b: [0, 1],
});

/**
 * Explicit midpoint method.
 * @example
 * integrate(f64Space, f, y0, { method: midpoint, t1: 1, dt: 1e-2 });
 */
export const midpoint = explicit(midpointTableau);
