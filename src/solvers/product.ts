/**
 * Product vector space over tuples of states, each component with its own space and layout.
 * The adjoint integrates (z, a, ∂L/∂θ) together: z and a are batched, ∂L/∂θ need not be; the
 * product treats the whole tuple as one trajectory (`batchOf` is 1), and weighted norms run over
 * every component of every part.
 */
import type { Tolerance, VectorSpace } from './vectorSpace.ts';

/** A tuple of vector spaces, one per component type of `T`. */
export type SpacesOf<T extends readonly unknown[]> = { readonly [K in keyof T]: VectorSpace<T[K]> };

const splitTol = (t: number | Float64Array, from: number, len: number): number | Float64Array =>
  typeof t === 'number' ? t : t.subarray(from, from + len);

/**
 * The product of vector spaces: states are tuples, operations act componentwise.
 * Per-component tolerance arrays are the concatenation of each part's tolerance arrays.
 * @example
 * const aug = product(f64Space, f64Space);
 * const s = aug.linComb([1, 2], [[x, p], [dx, dp]]); // [x + 2dx, p + 2dp]
 */
export const product = <T extends readonly unknown[]>(...spaces: SpacesOf<T>): VectorSpace<Readonly<T>> => {
  // The one audited cast of this module: each component space is used only on its own component,
  // so erasing the component types to `unknown` inside the combinator is sound.
  const parts = spaces as unknown as readonly VectorSpace<unknown>[];
  type Tup = readonly unknown[];
  const asT = (xs: unknown[]): Readonly<T> => xs as unknown as Readonly<T>;
  const col = (xs: readonly Readonly<T>[], i: number): unknown[] => xs.map((x) => (x as Tup)[i]);
  const at = (x: Readonly<T>, i: number): unknown => (x as Tup)[i];
  const tolSlices = (x: Readonly<T>, tol: Tolerance): Tolerance[] => {
    let off = 0;
    return parts.map((s, i) => {
      const len = s.toleranceLength(at(x, i));
      const sl = { rtol: splitTol(tol.rtol, off, len), atol: splitTol(tol.atol, off, len) };
      off += len;
      return sl;
    });
  };
  const hasDispose = parts.some((s) => s.dispose !== undefined);
  const hasScoped = parts.some((s) => s.scoped !== undefined);
  const base: VectorSpace<Readonly<T>> = {
    name: `product(${parts.map((s) => s.name).join(', ')})`,
    size: (x) => parts.reduce((n, s, i) => n + s.size(at(x, i)), 0),
    batchOf: () => 1,
    toleranceLength: (x) => parts.reduce((n, s, i) => n + s.toleranceLength(at(x, i)), 0),
    linComb: (coeffs, xs) => asT(parts.map((s, i) => s.linComb(coeffs, col(xs, i)))),
    clone: (x) => asT(parts.map((s, i) => s.clone(at(x, i)))),
    weightedSumSq: (e, a, b, tol) => {
      const tols = tolSlices(e, tol);
      return parts.reduce((acc, s, i) => acc + s.weightedSumSq(at(e, i), at(a, i), at(b, i), tols[i] as Tolerance), 0);
    },
    weightedMax: (e, a, b, tol) => {
      const tols = tolSlices(e, tol);
      return parts.reduce((acc, s, i) => {
        const m = s.weightedMax(at(e, i), at(a, i), at(b, i), tols[i] as Tolerance);
        return Number.isNaN(m) || Number.isNaN(acc) ? Number.NaN : Math.max(acc, m);
      }, 0);
    },
    weightedComponents: (e, a, b, tol) => {
      const tols = tolSlices(e, tol);
      const chunks = parts.map((s, i) => s.weightedComponents(at(e, i), at(a, i), at(b, i), tols[i] as Tolerance));
      return concat(chunks);
    },
    firstNonFinite: (x) => {
      let off = 0;
      for (let i = 0; i < parts.length; i++) {
        const s = parts[i] as VectorSpace<unknown>;
        const k = s.firstNonFinite(at(x, i));
        if (k >= 0) return off + k;
        off += s.size(at(x, i));
      }
      return -1;
    },
    toF64: (x) => concat(parts.map((s, i) => s.toF64(at(x, i)))),
    fromF64: (data, like) => {
      let off = 0;
      return asT(
        parts.map((s, i) => {
          const n = s.size(at(like, i));
          const part = s.fromF64(data.slice(off, off + n), at(like, i));
          off += n;
          return part;
        }),
      );
    },
  };
  const withInto: VectorSpace<Readonly<T>> = parts.every((s) => s.linCombInto !== undefined)
    ? {
        ...base,
        linCombInto: (out, coeffs, xs) =>
          parts.forEach((s, i) => s.linCombInto?.(at(out, i), coeffs, col(xs, i))),
      }
    : base;
  const withDispose: VectorSpace<Readonly<T>> = hasDispose
    ? { ...withInto, dispose: (x) => parts.forEach((s, i) => s.dispose?.(at(x, i))) }
    : withInto;
  // tidy: the first tidy-capable part scopes the call and keeps its own component; every other
  // part keeps its component explicitly, so one scope frees the temporaries of all parts without
  // walking Float64 components element by element.
  const tidyIdx = parts.findIndex((s) => s.tidy !== undefined);
  const tidyPart = parts[tidyIdx];
  const withTidy: VectorSpace<Readonly<T>> =
    tidyPart?.tidy === undefined
      ? withDispose
      : {
          ...withDispose,
          tidy: (fn) => {
            let whole: Readonly<T> | undefined;
            const kept = (tidyPart.tidy as (g: () => unknown) => unknown)(() => {
              whole = fn();
              parts.forEach((s, i) => {
                if (i !== tidyIdx) s.keep?.(at(whole as Readonly<T>, i));
              });
              return at(whole, tidyIdx);
            });
            return asT((whole as unknown as Tup).map((x, i) => (i === tidyIdx ? kept : x)));
          },
          keep: (x) => {
            parts.forEach((s, i) => s.keep?.(at(x, i)));
            return x;
          },
        };
  return hasScoped
    ? {
        ...withTidy,
        scoped: <R>(fn: () => R): R =>
          parts.reduce<() => R>((inner, s) => {
            const sc = s.scoped;
            return sc === undefined ? inner : () => sc(inner);
          }, fn)(),
      }
    : withTidy;
};

const concat = (chunks: readonly Float64Array[]): Float64Array => {
  const out = new Float64Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
};
