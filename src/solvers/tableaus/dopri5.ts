/**
 * Dormand–Prince 5(4), FSAL, with Shampine's fourth-order continuous extension.
 * J. R. Dormand, P. J. Prince, A family of embedded Runge–Kutta formulae, J. Comput. Appl. Math.
 * 6 (1980) 19–26; dense output: L. F. Shampine, Some practical Runge–Kutta formulas, Math. Comp.
 * 46 (1986) 135–150. Coefficients as in Hairer–Nørsett–Wanner I, §II.5 Table 5.2 and §II.6
 * (code DOPRI5, subroutine CONTD5).
 */
import { hairerNestedDense } from '../polynomial.ts';
import { tableau } from '../tableau.ts';
import { explicit } from '../method.ts';

const b = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0];
const bHat = [5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40];
const d = [
  -12715105075 / 11282082432, 0, 87487479700 / 32700410799, -10690763975 / 1880347072,
  701980252875 / 199316789632, -1453857185 / 822651844, 69997945 / 29380423,
];

/** The DOPRI5 tableau. */
export const dopri5Tableau = tableau({
  name: 'dopri5',
  order: 5,
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
  ],
  b,
  error: { kind: 'embedded', order: 4, weights: b.map((bi, i) => bi - (bHat[i] as number)) },
  dense: { extraC: [], extraA: [], polys: hairerNestedDense(b, 6, [d], 7) },
});

/**
 * Dormand–Prince 5(4): the default non-stiff method (torchdiffeq's and MATLAB ode45's).
 * @example
 * integrate(f64Space, f, y0, { method: dopri5, ts: [0, 0.5, 1], rtol: 1e-6, atol: 1e-9 });
 */
export const dopri5 = explicit(dopri5Tableau);
