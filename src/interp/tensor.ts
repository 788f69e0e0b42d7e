/**
 * Float64 tensors: the values of the reference evaluator. Row-major data with a resolved
 * numeric shape. Values are treated as immutable once built (reshape shares data).
 */

/** A dense row-major float64 tensor. */
export interface F64Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** A nested array of numbers of any depth (a scalar is depth 0). */
export type Nested = number | readonly Nested[];

/** Number of elements of a numeric shape. @example sizeOf([2, 3]) // 6 */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major strides. @example stridesOf([2, 3]) // [3, 1] */
export const stridesOf = (shape: readonly number[]): number[] => {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i] as number;
  }
  return st;
};

/** Builds a tensor; `data` is taken as is. @example f64([1, 2, 3], [3]) */
export const f64 = (data: ArrayLike<number>, shape: readonly number[]): F64Tensor => ({
  shape,
  data: data instanceof Float64Array ? data : Float64Array.from(data),
});

/** A scalar tensor. @example scalarT(2).data[0] // 2 */
export const scalarT = (v: number): F64Tensor => ({ shape: [], data: Float64Array.of(v) });

/**
 * Reads a nested array into a tensor; `undefined` if ragged or not numeric.
 * @example fromNested([[1, 2], [3, 4]]) // shape [2, 2]
 */
export const fromNested = (x: unknown): F64Tensor | undefined => {
  const shape: number[] = [];
  let probe: unknown = x;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const out = new Float64Array(sizeOf(shape));
  let k = 0;
  // Iterative walk: (value, depth) pairs, in order.
  const stack: { v: unknown; d: number }[] = [{ v: x, d: 0 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop() as { v: unknown; d: number };
    if (d === shape.length) {
      if (typeof v !== 'number') return undefined;
      out[k++] = v;
    } else {
      if (!Array.isArray(v) || v.length !== shape[d]) return undefined;
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], d: d + 1 });
    }
  }
  return k === out.length ? { shape, data: out } : undefined;
};

/** The tensor as nested arrays (a number for a scalar). @example toNested(scalarT(1)) // 1 */
export const toNested = (t: F64Tensor): Nested => {
  if (t.shape.length === 0) return t.data[0] as number;
  const build = (offset: number, axis: number): Nested[] => {
    const n = t.shape[axis] as number;
    const stride = sizeOf(t.shape.slice(axis + 1));
    const out: Nested[] = [];
    for (let i = 0; i < n; i++)
      out.push(axis === t.shape.length - 1 ? (t.data[offset + i] as number) : build(offset + i * stride, axis + 1));
    return out;
  };
  return build(0, 0);
};
