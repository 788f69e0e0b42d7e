/**
 * Dense LU factorisation with partial pivoting (Golub–Van Loan, Algorithm 3.4.1) on Float64Arrays,
 * row-major, for the small D×D systems of implicit methods.
 */
import * as E from 'fp-ts/lib/Either.js';

/** An LU factorisation: L (unit lower) and U packed in `lu`; `piv[k]` is the row swapped into k. */
export interface LU {
  readonly n: number;
  readonly lu: Float64Array;
  readonly piv: Int32Array;
}

/**
 * Factors the n×n row-major matrix `a` (copied). Left: the column of a zero (or non-finite) pivot.
 * @example
 * const r = luFactor(Float64Array.of(0, 1, 1, 0), 2); // Right: rows swapped
 */
export const luFactor = (a: Float64Array, n: number, offset = 0): E.Either<number, LU> => {
  const lu = a.slice(offset, offset + n * n);
  const piv = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    let p = k, max = Math.abs(lu[k * n + k] as number);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k] as number);
      if (v > max) { max = v; p = i; }
    }
    piv[k] = p;
    if (!(max > 0) || !Number.isFinite(max)) return E.left(k);
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const tmp = lu[k * n + j] as number;
        lu[k * n + j] = lu[p * n + j] as number;
        lu[p * n + j] = tmp;
      }
    }
    const pivot = lu[k * n + k] as number;
    for (let i = k + 1; i < n; i++) {
      const l = (lu[i * n + k] as number) / pivot;
      lu[i * n + k] = l;
      if (l !== 0) for (let j = k + 1; j < n; j++) lu[i * n + j] = (lu[i * n + j] as number) - l * (lu[k * n + j] as number);
    }
  }
  return E.right({ n, lu, piv });
};

/**
 * Solves `A x = b` in place (`b[offset … offset+n)` becomes x) with a factorisation of A.
 * @example
 * const x = Float64Array.of(3, 5); luSolveInto(lu, x); // x = A⁻¹[3, 5]
 */
export const luSolveInto = (f: LU, b: Float64Array, offset = 0): void => {
  const { n, lu, piv } = f;
  for (let k = 0; k < n; k++) {
    const p = piv[k] as number;
    if (p !== k) {
      const tmp = b[offset + k] as number;
      b[offset + k] = b[offset + p] as number;
      b[offset + p] = tmp;
    }
  }
  for (let i = 1; i < n; i++) {
    let s = b[offset + i] as number;
    for (let j = 0; j < i; j++) s -= (lu[i * n + j] as number) * (b[offset + j] as number);
    b[offset + i] = s;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[offset + i] as number;
    for (let j = i + 1; j < n; j++) s -= (lu[i * n + j] as number) * (b[offset + j] as number);
    b[offset + i] = s / (lu[i * n + i] as number);
  }
};
