/**
 * Float64 evaluators behind one signature, so callers pick the reference `evalF64` or the
 * generated kernel without caring which: roots in, a reusable function of named inputs out.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Node } from '../dsl/node.ts';
import { formatBindError } from './bind.ts';
import { compileF64, type F64Env } from './evalF64.ts';
import { formatKernelError, kernelFn } from './kernel/index.ts';
import type { F64Tensor } from './tensor.ts';

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
