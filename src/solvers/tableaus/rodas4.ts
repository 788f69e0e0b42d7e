/**
 * RODAS4: a stiffly accurate, L-stable Rosenbrock method of order 4 with an embedded order-3
 * solution, 6 stages (Hermite cubic dense output here).
 * E. Hairer, G. Wanner, Solving Ordinary Differential Equations II (2nd ed., 1996), §IV.7,
 * Table 7.3 and code RODAS (subroutine ROCOEF, METH = 1), coefficients in transformed form.
 */
import { rosenbrockTableau } from '../rosenbrockTableau.ts';
import type { RosenbrockMethod } from '../method.ts';

const a51 = 1.221224509226641, a52 = 6.019134481288629, a53 = 12.53708332932087, a54 = -0.687886036105895;

/** The RODAS4 tableau. */
export const rodas4Tableau = rosenbrockTableau({
  name: 'rodas4',
  order: 4,
  errorOrder: 3,
  gamma: 0.25,
  a: [
    [],
    [1.544],
    [0.9466785280815826, 0.2557011698983284],
    [3.314825187068521, 2.896124015972201, 0.9986419139977817],
    [a51, a52, a53, a54],
    [a51, a52, a53, a54, 1],
  ],
  c: [
    [],
    [-5.6688],
    [-2.430093356833875, -0.2063599157091915],
    [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
    [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.7089089320616],
    [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054],
  ],
  alpha: [0, 0.386, 0.21, 0.63, 1, 1],
  d: [0.25, -0.1043, 0.1035, -0.0362, 0, 0],
  m: [a51, a52, a53, a54, 1, 1],
  e: [0, 0, 0, 0, 0, 1],
});

/**
 * RODAS4, for stiff problems; give `jacobian` (dense D×D per trajectory) or let the solver use
 * finite differences.
 * @example
 * integrate(f64Space, robertson, y0, { method: rodas4, t1: 1e5, rtol: 1e-6, atol: 1e-10, jacobian });
 */
export const rodas4: RosenbrockMethod = Object.freeze({ kind: 'rosenbrock', name: 'rodas4', tableau: rodas4Tableau });
