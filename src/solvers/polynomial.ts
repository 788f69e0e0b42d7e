/**
 * Small helpers for the dense-output polynomials of Runge–Kutta methods. A polynomial is an array
 * of ascending coefficients: `[p0, p1, p2]` is `p0 + p1·θ + p2·θ²`.
 */

/** A polynomial in θ, ascending coefficients. */
export type Poly = readonly number[];

/**
 * Sum of two polynomials.
 * @example
 * polyAdd([1, 2], [0, 0, 3]); // [1, 2, 3]
 */
export const polyAdd = (p: Poly, q: Poly): number[] =>
  Array.from({ length: Math.max(p.length, q.length) }, (_, i) => (p[i] ?? 0) + (q[i] ?? 0));

/**
 * Product of two polynomials.
 * @example
 * polyMul([0, 1], [1, -1]); // θ(1 − θ) = [0, 1, -1]
 */
export const polyMul = (p: Poly, q: Poly): number[] => {
  const out = new Array<number>(Math.max(0, p.length + q.length - 1)).fill(0);
  p.forEach((a, i) => q.forEach((b, j) => { out[i + j] = (out[i + j] ?? 0) + a * b; }));
  return out;
};

/**
 * `scale · Π factors`, expanded.
 * @example
 * polyFromFactors(2, [[0, 1], [-1, 1]]); // 2θ(θ − 1) = [0, -2, 2]
 */
export const polyFromFactors = (scale: number, factors: readonly Poly[]): number[] =>
  factors.reduce<number[]>((acc, f) => polyMul(acc, f), [scale]);

/**
 * Horner evaluation.
 * @example
 * polyEval([1, 2, 3], 2); // 1 + 4 + 12 = 17
 */
export const polyEval = (p: Poly, x: number): number => {
  let acc = 0;
  for (let i = p.length - 1; i >= 0; i--) acc = acc * x + (p[i] as number);
  return acc;
};

/**
 * Converts Hairer's nested continuous extension (DOPRI5 `CONTD5`, DOP853 `CONTD8`) into one
 * polynomial per stage. Hairer writes
 * `y(θ) = y0 + θ(F0 + (1−θ)(F1 + θ(F2 + (1−θ)(F3 + …))))` with `F0 = Δ = hΣbᵢkᵢ`,
 * `F1 = hk₁ − Δ`, `F2 = Δ − hk_new − F1` (`k_new = f(t1, y1)`, stage `fsalIndex`) and
 * `F_{3+j} = hΣ_i d[j][i] kᵢ`. The result `P` satisfies `y(θ) = y0 + hΣᵢ Pᵢ(θ) kᵢ`.
 * @example
 * const P = hairerNestedDense(dopri5B, 6, [dopri5D], 7);
 */
export const hairerNestedDense = (
  b: readonly number[],
  fsalIndex: number,
  d: readonly (readonly number[])[],
  stages: number,
): number[][] =>
  Array.from({ length: stages }, (_, i) => {
    const bi = b[i] ?? 0;
    const first = i === 0 ? 1 : 0;
    const last = i === fsalIndex ? 1 : 0;
    const F = [bi, first - bi, 2 * bi - first - last, ...d.map((row) => row[i] ?? 0)];
    let e: number[] = [F[F.length - 1] as number];
    for (let j = F.length - 2; j >= 0; j--) {
      const m: Poly = j % 2 === 0 ? [1, -1] : [0, 1];
      e = polyAdd([F[j] as number], polyMul(m, e));
    }
    return polyMul([0, 1], e);
  });
