/**
 * The vector-space typeclass the solvers are written against (fp-ts style: an interface of
 * readonly members; instances are plain consts). A state `V` is a batch of `B` trajectories; the
 * solver never looks inside a state except through these members, so one solver runs unchanged on
 * batched Float64Arrays, on tfjs tensors and on tuples of those.
 *
 * Time, step sizes and controller quantities are always plain JS numbers (float64).
 */

/** A coefficient of a linear combination: one number, or one number per batch row. */
export type Coef = number | Float64Array;

/**
 * Relative and absolute tolerances. A number applies to every component; a Float64Array has
 * `space.toleranceLength(y)` entries (one per state dimension, shared across the batch).
 * @example
 * const tol: Tolerance = { rtol: 1e-6, atol: new Float64Array([1e-8, 1e-3]) };
 */
export interface Tolerance {
  readonly rtol: number | Float64Array;
  readonly atol: number | Float64Array;
}

/**
 * Linear algebra and weighted error reductions over states `V`.
 *
 * The weighted reductions scale each error component `e` by
 * `sk = atol + rtol * max(|y0|, |y1|)` (Hairer–Nørsett–Wanner I, (4.10)).
 * @example
 * const y = space.linComb([1, h], [y0, k1]); // y0 + h·k1
 */
export interface VectorSpace<V> {
  /** Human-readable name, used in error messages. */
  readonly name: string;
  /** Total number of scalar components of `x` (over the whole batch). */
  readonly size: (x: V) => number;
  /** Number of independent trajectories (rows) in `x`; 1 for unbatched layouts. */
  readonly batchOf: (x: V) => number;
  /** Length expected for per-component tolerance arrays (state dimension per row). */
  readonly toleranceLength: (x: V) => number;
  /** `Σ_i coeffs[i] · xs[i]`, a new state. Zero coefficients are skipped. `xs` is non-empty. */
  readonly linComb: (coeffs: readonly number[], xs: readonly V[]) => V;
  /**
   * In-place `out ← Σ_i coeffs[i] · xs[i]`, when the layout allows it (`out` may not alias any
   * `xs[i]`). Optional: solvers fall back to `linComb`.
   */
  readonly linCombInto?: (out: V, coeffs: readonly number[], xs: readonly V[]) => void;
  /** A copy of `x` that the caller owns. */
  readonly clone: (x: V) => V;
  /** `Σ (e/sk)²` over all components. */
  readonly weightedSumSq: (err: V, y0: V, y1: V, tol: Tolerance) => number;
  /** `max |e/sk|` over all components. */
  readonly weightedMax: (err: V, y0: V, y1: V, tol: Tolerance) => number;
  /** Every `e/sk`, flattened row-major (for custom norms and error reports). */
  readonly weightedComponents: (err: V, y0: V, y1: V, tol: Tolerance) => Float64Array;
  /** Flat index of the first NaN/±Infinity component, or -1 when all are finite. */
  readonly firstNonFinite: (x: V) => number;
  /** The components as float64, flattened row-major. May share memory with `x`: do not mutate. */
  readonly toF64: (x: V) => Float64Array;
  /** A state laid out like `like` holding `data` (row-major, `size(like)` entries). */
  readonly fromF64: (data: Float64Array, like: V) => V;
  /** Frees a state the solver created (tensors). Absent for garbage-collected layouts. */
  readonly dispose?: (x: V) => void;
  /** Runs `fn`, freeing every temporary it creates except the returned state. */
  readonly tidy?: (fn: () => V) => V;
  /** Exempts `x` from any enclosing `tidy` (tfjs `tf.keep`); used by the product's `tidy`. */
  readonly keep?: (x: V) => V;
  /** Runs `fn`, freeing every temporary it creates (the result must not hold states). */
  readonly scoped?: <T>(fn: () => T) => T;
}

/**
 * A vector space whose states have a leading batch axis the solver may address row by row:
 * per-trajectory coefficients, row selection and per-row reductions. Needed for per-trajectory
 * time grids, per-trajectory step control and per-trajectory events.
 * @example
 * const y = space.linCombRows([1, hRows], [y0, k1]); // row b: y0[b] + hRows[b]·k1[b]
 */
export interface BatchedSpace<V> extends VectorSpace<V> {
  /** Like `linComb`, but a Float64Array coefficient gives one coefficient per row. */
  readonly linCombRows: (coeffs: readonly Coef[], xs: readonly V[]) => V;
  /** Row `b` of the result is row `b` of `whenTrue` if `mask[b]` is nonzero, else of `whenFalse`. */
  readonly selectRows: (mask: Uint8Array, whenTrue: V, whenFalse: V) => V;
  /** `Σ (e/sk)²` per row. */
  readonly weightedRowSumSq: (err: V, y0: V, y1: V, tol: Tolerance) => Float64Array;
  /** `max |e/sk|` per row. */
  readonly weightedRowMax: (err: V, y0: V, y1: V, tol: Tolerance) => Float64Array;
}

/**
 * True when the space supports row-wise operations.
 * @example
 * if (isBatchedSpace(space)) space.linCombRows([1, hRows], [y, k]);
 */
export const isBatchedSpace = <V>(space: VectorSpace<V>): space is BatchedSpace<V> =>
  'linCombRows' in space && 'selectRows' in space;

/**
 * Reads a per-component tolerance entry: `tol` itself for a number, else entry `j mod length`.
 * @example
 * tolAt(new Float64Array([1, 2]), 3); // 2
 */
export const tolAt = (tol: number | Float64Array, j: number): number =>
  typeof tol === 'number' ? tol : (tol[j % tol.length] ?? Number.NaN);
