/**
 * Where a gradient method computes: one small record of operations over a tensor type `V`, so the
 * adjoint and backprop drivers are written once and run on Float64Arrays (a pluggable float64
 * evaluator, default the generated kernels) and on tfjs float32 tensors (`compileTfjs`). States
 * are tensors of their true shape; the solver sees them through `space`.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import type { Node } from '../../dsl/node.ts';
import { kernelEvaluator, type F64Evaluator, type F64Program } from '../../interp/evaluator.ts';
import { sizeOf, type F64Tensor } from '../../interp/tensor.ts';
import { compileTfjs, formatTfjsBindError, type TfjsProgram } from '../../interp/toTfjs.ts';
import { f64Space, tfjsSpace, type F64Batch, type VectorSpace } from '../../solvers/index.ts';

/** A compiled set of roots: named inputs in, one value per root out (owned by the caller). */
export type Program<V> = (env: Readonly<Record<string, V>>) => E.Either<string, readonly V[]>;

/** Tensor operations a gradient driver needs. */
export interface Backend<V> {
  readonly name: 'float64' | 'tfjs';
  /** Tensors of any shape as solver states (shared step, scalar tolerances). */
  readonly space: VectorSpace<V>;
  /** Compiles roots (memoized by the roots array). */
  readonly compile: (roots: readonly Node[]) => Program<V>;
  readonly upload: (t: F64Tensor) => V;
  /** A float64 copy the caller owns. */
  readonly download: (x: V) => F64Tensor;
  readonly scalar: (v: number) => V;
  readonly zeros: (shape: readonly number[]) => V;
  /** Σ xᵢyᵢ over all elements. */
  readonly dot: (x: V, y: V) => number;
  /** Stacks equal-shaped tensors along a new leading axis. */
  readonly stack: (xs: readonly V[]) => V;
  /** The slices of the leading axis. */
  readonly unstack: (x: V) => V[];
  /** Frees tensors (no-op for float64). */
  readonly free: (xs: readonly V[]) => void;
  /** Runs `fn`, freeing every temporary except the returned tensors. */
  readonly keep: <T extends readonly V[]>(fn: () => T) => T;
  /** Exempts `x` from every enclosing scope (free it with `free`); identity for float64. */
  readonly hold: (x: V) => V;
  /** Runs `fn`, freeing every tensor created inside that was not held (results must be plain data). */
  readonly scope: <R>(fn: () => R) => R;
  /** Frees compiled programs' constants. */
  readonly dispose: () => void;
}

const asBatch = (x: F64Tensor): F64Batch => {
  const batch = x.shape.length > 0 ? Math.max(1, x.shape[0] as number) : 1;
  return { data: x.data, batch, dim: x.data.length / batch };
};
const withShape = (shape: readonly number[]) => (b: F64Batch): F64Tensor => ({ shape, data: b.data });

/**
 * Float64 tensors of any shape as a vector space (rows: the leading axis), delegating to
 * `f64Space`. Values are never mutated in place except through `linCombInto` on solver scratch.
 * @example f64TensorSpace.linComb([1, 2], [x, y]) // x + 2y, of x's shape
 */
export const f64TensorSpace: VectorSpace<F64Tensor> = {
  name: 'float64 tensor',
  size: (x) => x.data.length,
  batchOf: (x) => asBatch(x).batch,
  toleranceLength: (x) => asBatch(x).dim,
  linComb: (coeffs, xs) => withShape((xs[0] as F64Tensor).shape)(f64Space.linComb(coeffs, xs.map(asBatch))),
  linCombInto: (out, coeffs, xs) => (f64Space.linCombInto as NonNullable<typeof f64Space.linCombInto>)(asBatch(out), coeffs, xs.map(asBatch)),
  clone: (x) => ({ shape: x.shape, data: x.data.slice() }),
  weightedSumSq: (e, a, b, tol) => f64Space.weightedSumSq(asBatch(e), asBatch(a), asBatch(b), tol),
  weightedMax: (e, a, b, tol) => f64Space.weightedMax(asBatch(e), asBatch(a), asBatch(b), tol),
  weightedComponents: (e, a, b, tol) => f64Space.weightedComponents(asBatch(e), asBatch(a), asBatch(b), tol),
  firstNonFinite: (x) => f64Space.firstNonFinite(asBatch(x)),
  toF64: (x) => x.data,
  fromF64: (data, like) => ({ shape: like.shape, data }),
};

/**
 * The float64 backend over an evaluator factory (default: generated kernels).
 * @example const b = f64Backend(referenceEvaluator); b.compile([f.node])({ y, t, W })
 */
export const f64Backend = (evaluator: F64Evaluator = kernelEvaluator): Backend<F64Tensor> => {
  const programs = new WeakMap<readonly Node[], F64Program>();
  return {
    name: 'float64',
    space: f64TensorSpace,
    compile: (roots) => {
      const hit = programs.get(roots);
      if (hit !== undefined) return hit;
      const p = evaluator(roots);
      programs.set(roots, p);
      return p;
    },
    upload: (t) => t,
    download: (x) => ({ shape: x.shape, data: x.data.slice() }),
    scalar: (v) => ({ shape: [], data: Float64Array.of(v) }),
    zeros: (shape) => ({ shape, data: new Float64Array(sizeOf(shape)) }),
    dot: (x, y) => {
      let acc = 0;
      for (let i = 0; i < x.data.length; i++) acc += (x.data[i] as number) * (y.data[i] as number);
      return acc;
    },
    stack: (xs) => {
      const first = xs[0] as F64Tensor;
      const n = first.data.length;
      const data = new Float64Array(n * xs.length);
      xs.forEach((x, i) => data.set(x.data, i * n));
      return { shape: [xs.length, ...first.shape], data };
    },
    unstack: (x) => {
      const T = x.shape[0] as number;
      const inner = x.shape.slice(1);
      const n = sizeOf(inner);
      return Array.from({ length: T }, (_, i) => ({ shape: inner, data: x.data.subarray(i * n, (i + 1) * n) }));
    },
    free: () => undefined,
    keep: (fn) => fn(),
    hold: (x) => x,
    scope: (fn) => fn(),
    dispose: () => undefined,
  };
};

/**
 * A tfjs backend (float32, the active tfjs backend). Programs upload their constants once;
 * `dispose()` frees them. Create one per gradient call.
 * @example const b = tfjsBackend(); try { … } finally { b.dispose(); }
 */
export const tfjsBackend = (): Backend<tf.Tensor> => {
  const programs = new Map<readonly Node[], TfjsProgram>();
  return {
    name: 'tfjs',
    space: tfjsSpace,
    compile: (roots) => {
      let p = programs.get(roots);
      if (p === undefined) {
        p = compileTfjs(roots);
        programs.set(roots, p);
      }
      const prog = p;
      return (env) => E.mapLeft(formatTfjsBindError)(prog.run(env));
    },
    upload: (t) => tf.tensor(Float32Array.from(t.data), t.shape.slice(), 'float32'),
    download: (x) => ({ shape: x.shape.slice(), data: Float64Array.from(x.dataSync()) }),
    scalar: (v) => tf.scalar(v, 'float32'),
    zeros: (shape) => tf.zeros(shape.slice(), 'float32'),
    dot: (x, y) => tfjsSpace.scoped?.(() => tf.sum(tf.mul(x, y)).dataSync()[0] ?? Number.NaN) ?? Number.NaN,
    stack: (xs) => tf.stack(xs.slice()),
    unstack: (x) => tf.unstack(x),
    free: (xs) => xs.forEach((x) => x.dispose()),
    keep: <T extends readonly tf.Tensor[]>(fn: () => T): T => tf.tidy(() => fn().slice()) as unknown as T,
    hold: (x) => tf.keep(x),
    scope: (fn) => (tfjsSpace.scoped as NonNullable<typeof tfjsSpace.scoped>)(fn),
    dispose: () => {
      programs.forEach((p) => p.dispose());
      programs.clear();
    },
  };
};
