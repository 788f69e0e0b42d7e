/**
 * Runge–Kutta–Fehlberg 4(5), propagating the fifth-order solution (local extrapolation),
 * Hermite cubic dense output.
 * E. Fehlberg, Low-order classical Runge–Kutta formulas with stepsize control and their
 * application to some heat transfer problems, NASA TR R-315 (1969), Table III;
 * Hairer–Nørsett–Wanner I, §II.4, Table 4.1.
 */
import { tableau } from '../tableau.ts';
import { explicit } from '../method.ts';

const b5 = [16 / 135, 0, 6656 / 12825, 28561 / 56430, -9 / 50, 2 / 55];
const b4 = [25 / 216, 0, 1408 / 2565, 2197 / 4104, -1 / 5, 0];

/** The RKF45 tableau. */
export const fehlberg45Tableau = tableau({
  name: 'fehlberg45',
  order: 5,
  c: [0, 1 / 4, 3 / 8, 12 / 13, 1, 1 / 2],
  a: [
    [],
    [1 / 4],
    [3 / 32, 9 / 32],
    [1932 / 2197, -7200 / 2197, 7296 / 2197],
    [439 / 216, -8, 3680 / 513, -845 / 4104],
    [-8 / 27, 2, -3544 / 2565, 1859 / 4104, -11 / 40],
  ],
  b: b5,
  error: { kind: 'embedded', order: 4, weights: b5.map((bi, i) => bi - (b4[i] as number)) },
});

/**
 * Fehlberg 4(5).
 * @example
 * integrate(f64Space, f, y0, { method: fehlberg45, t1: 1, rtol: 1e-6 });
 */
export const fehlberg45 = explicit(fehlberg45Tableau);
