/**
 * Shapes: tuples of dimensions. A dimension is a literal size or a named size known only at run
 * time (the batch). Named sizes are branded strings so they cannot be confused with other strings.
 */
import * as E from 'fp-ts/lib/Either.js';

declare const symBrand: unique symbol;

/** A dimension known only at run time, e.g. the batch. */
export type Sym<N extends string = string> = N & { readonly [symBrand]: N };

/** One dimension: a literal size or a named run-time size. */
export type Dim = number | Sym;

/** A shape: a tuple of dimensions. `[]` is a scalar. */
export type Shape = readonly Dim[];

/**
 * Names a run-time dimension.
 * @example
 * const B = sym('batch'); // Sym<'batch'>
 * const s: Shape = [B, 2];
 */
export const sym = <N extends string>(name: N): Sym<N> => name as Sym<N>;

/** True when `d` is a named (run-time) dimension. */
export const isSym = (d: Dim): d is Sym => typeof d === 'string';

/**
 * Formats a shape as a user reads it.
 * @example formatShape([sym('batch'), 2]) // '[batch,2]'
 */
export const formatShape = (s: Shape): string => `[${s.join(',')}]`;

/** Structural equality of shapes. */
export const shapeEq = (a: Shape, b: Shape): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Number of elements of a fully numeric shape; `undefined` when a dimension is named. */
export const staticSize = (s: Shape): number | undefined => {
  let n = 1;
  for (const d of s) {
    if (isSym(d)) return undefined;
    n *= d;
  }
  return n;
};

/** Product of the numeric dims and the multiset of named dims: used to check reshapes. */
export const sizeSignature = (s: Shape): string => {
  let n = 1;
  const syms: string[] = [];
  for (const d of s) {
    if (isSym(d)) syms.push(d);
    else n *= d;
  }
  return `${n}|${syms.sort().join(',')}`;
};

/** True when `d` is a valid dimension: a non-negative integer or a non-empty identifier. */
export const isValidDim = (d: unknown): d is Dim =>
  (typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 2 ** 31 - 1) ||
  (typeof d === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(d));

/**
 * Numpy-style broadcasting of two shapes (aligned on trailing dims; a 1 stretches).
 * Named dims broadcast only with themselves or 1.
 * @example broadcastShapes([sym('B'), 50], [50]) // right([B, 50])
 */
export const broadcastShapes = (a: Shape, b: Shape): E.Either<string, Shape> => {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = new Array<Dim>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : (a[i - (n - a.length)] as Dim);
    const db = i < n - b.length ? 1 : (b[i - (n - b.length)] as Dim);
    if (da === db) out[i] = da;
    else if (da === 1) out[i] = db;
    else if (db === 1) out[i] = da;
    else return E.left(`shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (dim ${da} vs ${db})`);
  }
  return E.right(out);
};

/** True when `from` broadcasts to exactly `to`. */
export const broadcastsTo = (from: Shape, to: Shape): boolean => {
  if (from.length > to.length) return false;
  const off = to.length - from.length;
  return from.every((d, i) => d === 1 || d === to[i + off]);
};

/** Resolves named dims to sizes with `sizes`; `undefined` if one is unbound. */
export const resolveShape = (s: Shape, sizes: ReadonlyMap<string, number>): number[] | undefined => {
  const out: number[] = [];
  for (const d of s) {
    if (isSym(d)) {
      const v = sizes.get(d);
      if (v === undefined) return undefined;
      out.push(v);
    } else out.push(d);
  }
  return out;
};
