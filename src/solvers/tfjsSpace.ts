/**
 * TensorFlow.js states: one float32 tensor whose leading axis is the batch. Every operation runs
 * inside `tf.tidy` (or an engine scope for reductions), so the solver never leaks temporaries;
 * states the solver creates are freed through `dispose`.
 */
import * as tf from '@tensorflow/tfjs';
import type { BatchedSpace, Coef, Tolerance } from './vectorSpace.ts';

const batchOf = (x: tf.Tensor): number => (x.rank === 0 ? 1 : (x.shape[0] ?? 1));
const dimOf = (x: tf.Tensor): number => x.size / Math.max(1, batchOf(x));

/** Shape `[B, 1, …, 1]` for broadcasting one number per row against `x`. */
const rowShape = (x: tf.Tensor): number[] => (x.rank === 0 ? [] : [batchOf(x), ...x.shape.slice(1).map(() => 1)]);

const coefTensor = (c: Coef, like: tf.Tensor): tf.Tensor =>
  typeof c === 'number' ? tf.scalar(c) : tf.tensor(Float32Array.from(c), rowShape(like));

const combine = (coeffs: readonly Coef[], xs: readonly tf.Tensor[]): tf.Tensor =>
  tf.tidy(() => {
    const like = xs[0] as tf.Tensor;
    const terms: tf.Tensor[] = [];
    xs.forEach((x, i) => {
      const c = coeffs[i] ?? 0;
      if (typeof c === 'number' && c === 0) return;
      terms.push(typeof c === 'number' && c === 1 ? x : tf.mul(x, coefTensor(c, like)));
    });
    if (terms.length === 0) return tf.zerosLike(like);
    const sum = terms.length === 1 ? (terms[0] as tf.Tensor) : tf.addN(terms);
    // Always hand back a tensor the caller owns, never one of the inputs.
    return xs.includes(sum) ? tf.clone(sum) : sum;
  });

/** Tolerance as a tensor broadcasting over the batch (trailing shape of `like`). */
const tolTensor = (t: number | Float64Array, like: tf.Tensor): tf.Tensor =>
  typeof t === 'number' ? tf.scalar(t) : tf.tensor(Float32Array.from(t), like.rank <= 1 ? [t.length] : like.shape.slice(1));

const scaled = (err: tf.Tensor, y0: tf.Tensor, y1: tf.Tensor, tol: Tolerance): tf.Tensor => {
  const sk = tf.add(tolTensor(tol.atol, err), tf.mul(tolTensor(tol.rtol, err), tf.maximum(tf.abs(y0), tf.abs(y1))));
  return tf.div(err, sk);
};

const scoped = <T>(fn: () => T): T => {
  const engine = tf.engine();
  engine.startScope();
  try {
    return fn();
  } finally {
    engine.endScope();
  }
};

const readRows = (t: tf.Tensor): Float64Array => Float64Array.from(t.dataSync());

const rowReduce = (x: tf.Tensor, reduce: (t: tf.Tensor, axes: number[]) => tf.Tensor): tf.Tensor =>
  x.rank <= 1 ? x : reduce(x, x.shape.slice(1).map((_, i) => i + 1));

/** NaN-propagating max of |x|: tfjs' max drops NaN on some backends. */
const nanMax = (x: tf.Tensor, axes?: number[]): tf.Tensor => {
  const a = tf.abs(x);
  const m = axes === undefined ? tf.max(a) : tf.max(a, axes);
  const anyNaN = axes === undefined ? tf.any(tf.isNaN(a)) : tf.any(tf.isNaN(a), axes);
  return tf.where(anyNaN, tf.fill(m.shape, Number.NaN), m);
};

/**
 * The tfjs vector space (float32 tensors, leading batch axis). Use the `cpu` or `wasm` backend
 * for small batches; every reduction reads one number (or one per row) back to JS.
 * @example
 * await tf.setBackend('cpu');
 * const y = tfjsSpace.linComb([1, 0.1], [tf.ones([4, 2]), tf.ones([4, 2])]); // 1.1 everywhere
 */
export const tfjsSpace: BatchedSpace<tf.Tensor> = {
  name: 'tfjs float32 tensor',
  size: (x) => x.size,
  batchOf,
  toleranceLength: dimOf,
  linComb: (coeffs, xs) => combine(coeffs, xs),
  linCombRows: (coeffs, xs) => combine(coeffs, xs),
  // The condition must have shape [B, 1, …, 1]: a rank-1 condition broadcasts along the last axis.
  selectRows: (mask, whenTrue, whenFalse) =>
    tf.tidy(() =>
      tf.where(tf.tensor(Array.from(mask, (m) => m !== 0), rowShape(whenTrue), 'bool'), whenTrue, whenFalse),
    ),
  clone: (x) => tf.clone(x),
  weightedSumSq: (err, y0, y1, tol) =>
    scoped(() => tf.sum(tf.square(scaled(err, y0, y1, tol))).dataSync()[0] ?? Number.NaN),
  weightedMax: (err, y0, y1, tol) => scoped(() => nanMax(scaled(err, y0, y1, tol)).dataSync()[0] ?? Number.NaN),
  weightedComponents: (err, y0, y1, tol) => scoped(() => Float64Array.from(scaled(err, y0, y1, tol).dataSync())),
  weightedRowSumSq: (err, y0, y1, tol) =>
    scoped(() => readRows(rowReduce(tf.square(scaled(err, y0, y1, tol)), (t, axes) => tf.sum(t, axes)))),
  weightedRowMax: (err, y0, y1, tol) =>
    scoped(() => readRows(rowReduce(scaled(err, y0, y1, tol), (t, axes) => nanMax(t, axes)))),
  firstNonFinite: (x) => {
    const allFinite = scoped(() => tf.all(tf.isFinite(x)).dataSync()[0] === 1);
    if (allFinite) return -1;
    const d = x.dataSync();
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i] as number)) return i;
    return -1;
  },
  toF64: (x) => Float64Array.from(x.dataSync()),
  fromF64: (data, like) => tf.tensor(Float32Array.from(data), like.shape, 'float32'),
  dispose: (x) => x.dispose(),
  tidy: (fn) => tf.tidy(fn),
  keep: (x) => tf.keep(x),
  scoped,
};
