/**
 * The reference semantics: evaluation on Float64Array. Every other interpreter (tfjs, the
 * generated kernel, simplification) is tested against this one.
 */
import * as E from 'fp-ts/lib/Either.js';
import { children, type Node } from '../dsl/node.ts';
import type { BinaryOp, UnaryOp } from '../dsl/ops.ts';
import { resolveShape, type Shape } from '../dsl/shape.ts';
import { bindVars, type BindError, type DimSizes } from './bind.ts';
import {
  binaryKernel, broadcastKernel, concatKernel, matmulKernel, reduceKernel, sliceKernel,
  transposeKernel,
} from './f64Kernels.ts';
import { fastExp, fastSigmoid, fastSoftplus, fastTanh } from './fastMath.ts';
import { patchesKernel, unpatchesKernel } from './f64Patches.ts';
import { sizeOf, type F64Tensor } from './tensor.ts';
import { applyAlgebra, freeVars, topoOrder, type Algebra } from './traverse.ts';

/**
 * The meaning of each unary op on one float64. exp, tanh, sigmoid and softplus are Fluxion's own
 * (`fastMath.ts`, within about an ulp), not V8's Math calls, so that the generated kernel can
 * inline the same arithmetic and still agree bit for bit.
 */
export const unaryF64: { readonly [K in UnaryOp]: (x: number) => number } = {
  neg: (x) => -x,
  exp: fastExp,
  log: Math.log,
  log1p: Math.log1p,
  sqrt: Math.sqrt,
  square: (x) => x * x,
  sin: Math.sin,
  cos: Math.cos,
  tanh: fastTanh,
  sigmoid: fastSigmoid,
  softplus: fastSoftplus,
  relu: (x) => (x > 0 ? x : x <= 0 ? 0 : x),
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : x),
  step: (x) => (x > 0 ? 1 : x <= 0 ? 0 : x),
};

/** The meaning of each binary op on two float64s (NaN propagates through max/min). */
export const binaryF64: { readonly [K in BinaryOp]: (a: number, b: number) => number } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: Math.max,
  minimum: Math.min,
};

/** Inputs by variable name. */
export type F64Env = Readonly<Record<string, F64Tensor>>;

const algebra = (env: F64Env, sizes: ReadonlyMap<string, number>): Algebra<F64Tensor> => {
  const res = (s: Shape): readonly number[] => {
    const r = resolveShape(s, sizes);
    if (r === undefined) throw new Error('bug: unbound dim survived binding');
    return r;
  };
  return {
    const: (n) => ({ shape: n.shape as readonly number[], data: n.value }),
    var: (n) => env[n.name] as F64Tensor,
    unary: (n, [x]) => {
      const f = unaryF64[n.op];
      const d = (x as F64Tensor).data;
      const r = new Float64Array(d.length);
      for (let i = 0; i < d.length; i++) r[i] = f(d[i] as number);
      return { shape: (x as F64Tensor).shape, data: r };
    },
    binary: (n, [x, y]) => binaryKernel(binaryF64[n.op], x as F64Tensor, y as F64Tensor, res(n.shape)),
    matmul: (n, [x, y]) => matmulKernel(x as F64Tensor, y as F64Tensor, res(n.shape)),
    reduce: (n, [x]) => reduceKernel(n.op, x as F64Tensor, n.axes, res(n.shape)),
    reshape: (n, [x]) => ({ shape: res(n.shape), data: (x as F64Tensor).data }),
    broadcast: (n, [x]) => broadcastKernel(x as F64Tensor, res(n.shape)),
    transpose: (n, [x]) => transposeKernel(x as F64Tensor, n.perm),
    concat: (n, xs) => concatKernel(xs, n.axis),
    slice: (n, [x]) => sliceKernel(x as F64Tensor, n.begin, res(n.shape)),
    patches: (n, [x]) => patchesKernel(x as F64Tensor, n.window, res(n.shape)),
    unpatches: (n, [x]) => unpatchesKernel(x as F64Tensor, n.window, res(n.shape)),
  };
};

/** Every named dim used anywhere in the DAG must be bound by an input. */
const checkDims = (order: readonly Node[], sizes: ReadonlyMap<string, number>): E.Either<BindError, void> => {
  for (const n of order) {
    for (const d of n.shape) if (typeof d === 'string' && !sizes.has(d)) return E.left({ _tag: 'UnboundDim', dim: d });
  }
  return E.right(undefined);
};

/** A compiled evaluator: the topological order is computed once. `dims` sizes named dims no input fixes. */
export type F64Fn = (env: F64Env, dims?: DimSizes) => E.Either<BindError, readonly F64Tensor[]>;

/**
 * Compiles roots into a reusable float64 evaluator.
 * @example
 * const f = compileF64([expr.node]);
 * f({ y: f64([1, 2], [1, 2]) }) // right([tensor])
 */
export const compileF64 = (roots: readonly Node[]): F64Fn => {
  const order = topoOrder(roots);
  const vars = freeVars(roots);
  return (env, dims) => {
    const bound = bindVars(vars, env, (t) => t.shape, dims);
    if (E.isLeft(bound)) return bound;
    const unbound = checkDims(order, bound.right);
    if (E.isLeft(unbound)) return unbound;
    const alg = algebra(env, bound.right);
    const memo = new Map<number, F64Tensor>();
    for (const n of order) {
      const args = children(n).map((k) => memo.get(k.id) as F64Tensor);
      const v = applyAlgebra(alg, n, args);
      if (v.data.length !== sizeOf(v.shape)) throw new Error(`bug: ${n.kind} produced ${v.data.length} values for [${v.shape.join(',')}]`);
      memo.set(n.id, v);
    }
    return E.right(roots.map((r) => memo.get(r.id) as F64Tensor));
  };
};

/**
 * Evaluates roots once on float64 inputs.
 * @example evalF64([X.add(x, 1).node], { x: f64([1, 2], [2]) }) // right([{ shape: [2], data: [2, 3] }])
 */
export const evalF64 = (roots: readonly Node[], env: F64Env, dims?: DimSizes): E.Either<BindError, readonly F64Tensor[]> =>
  compileF64(roots)(env, dims);
