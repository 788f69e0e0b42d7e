/**
 * The classical fourth-order Runge–Kutta method, fixed step.
 * W. Kutta, Beitrag zur näherungsweisen Integration totaler Differentialgleichungen,
 * Z. Math. Phys. 46 (1901); Hairer–Nørsett–Wanner I, §II.1, Table 1.2 (left).
 */
import { tableau } from '../tableau.ts';
import { explicit } from '../method.ts';

/** The classical RK4 tableau. */
export const rk4Tableau = tableau({
  name: 'rk4',
  order: 4,
  c: [0, 1 / 2, 1 / 2, 1],
  a: [[], [1 / 2], [0, 1 / 2], [0, 0, 1]],
  b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
});

/**
 * Classical RK4.
 * @example
 * integrate(f64Space, f, y0, { method: rk4, t1: 10, dt: 0.01 });
 */
export const rk4 = explicit(rk4Tableau);
