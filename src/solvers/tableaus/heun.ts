/**
 * Heun's method (explicit trapezoidal rule), order 2, with Euler embedded for a first-order error
 * estimate: an adaptive 2(1) pair.
 * K. Heun, Neue Methoden zur approximativen Integration…, Z. Math. Phys. 45 (1900);
 * Hairer–Nørsett–Wanner I, §II.1 and §II.4.
 */
import { tableau } from '../tableau.ts';
import { explicit } from '../method.ts';

/** Heun's tableau with Euler as the embedded method (b̂ = [1, 0]). */
export const heunTableau = tableau({
  name: 'heun',
  order: 2,
  c: [0, 1],
  a: [[], [1]],
  b: [1 / 2, 1 / 2],
  error: { kind: 'embedded', order: 1, weights: [1 / 2 - 1, 1 / 2] },
});

/**
 * Heun's 2(1) method.
 * @example
 * integrate(f64Space, f, y0, { method: heun, t1: 1, rtol: 1e-4 });
 */
export const heun = explicit(heunTableau);
