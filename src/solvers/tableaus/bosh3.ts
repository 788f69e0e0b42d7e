/**
 * Bogacki–Shampine 3(2), FSAL, Hermite cubic dense output.
 * P. Bogacki, L. F. Shampine, A 3(2) pair of Runge–Kutta formulas, Appl. Math. Lett. 2(4)
 * (1989) 321–325.
 */
import { tableau } from '../tableau.ts';
import { explicit } from '../method.ts';

const b = [2 / 9, 1 / 3, 4 / 9, 0];
const bHat = [7 / 24, 1 / 4, 1 / 3, 1 / 8];

/** The Bogacki–Shampine tableau. */
export const bosh3Tableau = tableau({
  name: 'bosh3',
  order: 3,
  c: [0, 1 / 2, 3 / 4, 1],
  a: [[], [1 / 2], [0, 3 / 4], [2 / 9, 1 / 3, 4 / 9]],
  b,
  error: { kind: 'embedded', order: 2, weights: b.map((bi, i) => bi - (bHat[i] as number)) },
});

/**
 * Bogacki–Shampine 3(2) (MATLAB's ode23, diffrax's Bosh3).
 * @example
 * integrate(f64Space, f, y0, { method: bosh3, t1: 1, rtol: 1e-4 });
 */
export const bosh3 = explicit(bosh3Tableau);
