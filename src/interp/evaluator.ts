/**
 * Float64 evaluators behind one signature, so callers pick the reference `evalF64` or the
 * generated kernel without caring which: roots in, a reusable function of named inputs out.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Node, VarNode } from '../dsl/node.ts';
import { formatShape, resolveShape, type Shape } from '../dsl/shape.ts';
import { formatBindError } from './bind.ts';
import { compileF64, type F64Env } from './evalF64.ts';
import { compileKernel, formatKernelError, kernelFn } from './kernel/index.ts';
import { sizeOf, type F64Tensor } from './tensor.ts';

/** A compiled float64 function of named inputs; `Left` is a one-line binding error. */
export type F64Program = (env: F64Env) => E.Either<string, readonly F64Tensor[]>;

/** Compiles roots into a float64 program. */
export type F64Evaluator = (roots: readonly Node[]) => F64Program;

/**
 * The reference semantics (allocates per node; use for checking).
 * @example referenceEvaluator([f.node])({ y })
 */
export const referenceEvaluator: F64Evaluator = (roots) => {
  const f = compileF64(roots);
  return (env) => E.mapLeft(formatBindError)(f(env));
};

/**
 * Generated JavaScript kernels, compiled once per batch size (bit-for-bit equal to the reference).
 * @example kernelEvaluator([f.node])({ y })
 */
export const kernelEvaluator: F64Evaluator = (roots) => {
  const f = kernelFn(roots);
  return (env) => E.mapLeft(formatKernelError)(f(env));
};

/**
 * Generated JavaScript kernels whatever `FLUXION_KERNEL` says: their buffers are ordinary
 * Float64Arrays, which memory measurements can see (a WebAssembly kernel holds the same arena in
 * its linear memory, outside the counted heap).
 * @example jsKernelEvaluator([f.node])({ y })
 */
export const jsKernelEvaluator: F64Evaluator = (roots) => {
  const f = kernelFn(roots, { target: 'js' });
  return (env) => E.mapLeft(formatKernelError)(f(env));
};

/** A program over positional buffers: `ins` in the order of its inputs, one `outs` buffer per root. */
export interface BufferProgram {
  readonly run: (ins: readonly Float64Array[], outs: readonly Float64Array[]) => void;
  readonly inputSizes: readonly number[];
  readonly outputSizes: readonly number[];
}

/**
 * Compiles `roots` for fixed named-dim `sizes` into a buffer program: with `kernelEvaluator`, the
 * generated kernel itself (no allocation, no checks per call); with any other evaluator, a
 * wrapper that builds the named environment per call and copies the results out. Inputs must be
 * exactly the roots' free variables, in any order. Callers check buffer lengths once.
 * @example
 * const p = bufferProgram(kernelEvaluator, [f.node], [y.node, W.node], new Map([['batch', 20]]));
 * if (E.isRight(p)) p.right.run([yData, wData], [out]);
 */
export const bufferProgram = (
  evaluator: F64Evaluator, roots: readonly Node[], inputs: readonly VarNode[], sizes: ReadonlyMap<string, number>,
): E.Either<string, BufferProgram> => {
  if (evaluator === kernelEvaluator) {
    const k = compileKernel(roots, inputs, sizes);
    if (E.isLeft(k)) return E.left(formatKernelError(k.left));
    return E.right({ run: k.right.runUnchecked, inputSizes: k.right.inputSizes, outputSizes: k.right.outputSizes });
  }
  const shapeOf = (s: Shape): E.Either<string, readonly number[]> => {
    const r = resolveShape(s, sizes);
    return r === undefined ? E.left(`a dim of ${formatShape(s)} has no size`) : E.right(r);
  };
  const inShapes: (readonly number[])[] = [];
  for (const v of inputs) {
    const r = shapeOf(v.shape);
    if (E.isLeft(r)) return r;
    inShapes.push(r.right);
  }
  const outShapes: (readonly number[])[] = [];
  for (const n of roots) {
    const r = shapeOf(n.shape);
    if (E.isLeft(r)) return r;
    outShapes.push(r.right);
  }
  const prog = evaluator(roots);
  const run = (ins: readonly Float64Array[], outs: readonly Float64Array[]): void => {
    const env: Record<string, F64Tensor> = {};
    inputs.forEach((v, i) => { env[v.name] = { shape: inShapes[i] as readonly number[], data: ins[i] as Float64Array }; });
    const r = prog(env);
    if (E.isLeft(r)) throw new Error(`bug: a checked buffer program failed: ${r.left}`);
    r.right.forEach((t, j) => (outs[j] as Float64Array).set(t.data));
  };
  return E.right({ run, inputSizes: inShapes.map(sizeOf), outputSizes: outShapes.map(sizeOf) });
};
