/**
 * `kernelFn`: the generated kernel as a drop-in for `compileF64` — inputs by variable name as
 * `F64Tensor`s, results as fresh tensors. Kernels are compiled lazily, one per distinct set of
 * named-dim sizes (in practice, per batch size), and kept in a small cache.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Node } from '../../dsl/node.ts';
import { bindVars } from '../bind.ts';
import type { F64Env } from '../evalF64.ts';
import { sizeOf, type F64Tensor } from '../tensor.ts';
import { freeVars } from '../traverse.ts';
import { compileKernel, type Kernel } from './compile.ts';
import type { KernelError, KernelFnError } from './tape.ts';
import type { KernelTarget } from './target.ts';

/** Evaluates the roots on named inputs through a generated kernel. */
export type KernelFn = (env: F64Env) => E.Either<KernelFnError, readonly F64Tensor[]>;

/** How many kernels (distinct size sets) `kernelFn` keeps; the oldest is dropped beyond. */
export const kernelCacheLimit = 16;

/**
 * A float64 evaluator for `roots` backed by generated kernels, compiled per batch size.
 * @example
 * const f = kernelFn([X.add(x, 1).node]);
 * f({ x: f64([1, 2], [2]) }) // right([{ shape: [2], data: Float64Array [2, 3] }])
 * kernelFn(roots, { target: 'js' }) // generated JavaScript whatever FLUXION_KERNEL says
 */
export const kernelFn = (roots: readonly Node[], options: { readonly target?: KernelTarget } = {}): KernelFn => {
  const vars = freeVars(roots);
  const cache = new Map<string, E.Either<KernelError, Kernel>>();
  // The last successful call's input shapes and kernel: a call with the same shapes (the common
  // case inside a solver) skips binding and the cache lookup.
  let lastShapes: (readonly number[])[] | undefined;
  let lastKernel: Kernel | undefined;
  const data: Float64Array[] = vars.map(() => new Float64Array(0));
  const sameAsLast = (env: F64Env): boolean => {
    if (lastShapes === undefined) return false;
    for (let i = 0; i < vars.length; i++) {
      const name = (vars[i] as (typeof vars)[number]).name;
      if (!Object.prototype.hasOwnProperty.call(env, name)) return false;
      const t = env[name] as F64Tensor | undefined;
      const prev = lastShapes[i] as readonly number[];
      if (t === undefined || t.shape.length !== prev.length) return false;
      for (let d = 0; d < prev.length; d++) if (t.shape[d] !== prev[d]) return false;
    }
    return true;
  };
  return (env) => {
    if (lastKernel !== undefined && sameAsLast(env)) {
      const kernel = lastKernel;
      for (let i = 0; i < vars.length; i++) {
        const v = vars[i] as (typeof vars)[number];
        const t = env[v.name] as F64Tensor;
        const expected = kernel.inputSizes[i] as number;
        if (t.data.length !== expected) return E.left({ _tag: 'BufferLength', name: v.name, expected, actual: t.data.length });
        data[i] = t.data;
      }
      const outs = kernel.allocOutputs();
      kernel.runUnchecked(data, outs);
      return E.right(outs.map((d, j) => ({ shape: kernel.outputShapes[j] as readonly number[], data: d })));
    }
    const bound = bindVars(vars, env, (t) => t.shape);
    if (E.isLeft(bound)) return bound;
    for (let i = 0; i < vars.length; i++) {
      const v = vars[i] as (typeof vars)[number];
      const t = env[v.name] as F64Tensor;
      const expected = sizeOf(t.shape);
      if (t.data.length !== expected)
        return E.left({ _tag: 'BufferLength', name: v.name, expected, actual: t.data.length });
      data[i] = t.data;
    }
    // A map key only; never part of generated code.
    const key = [...bound.right].map(([d, s]) => `${d}=${s}`).join(',');
    let k = cache.get(key);
    if (k === undefined) {
      k = compileKernel(roots, vars, bound.right, options);
      if (cache.size >= kernelCacheLimit) cache.delete(cache.keys().next().value as string);
      cache.set(key, k);
    }
    if (E.isLeft(k)) return k;
    const kernel = k.right;
    const outs = kernel.allocOutputs();
    kernel.run(data, outs);
    lastKernel = kernel;
    lastShapes = vars.map((v) => (env[v.name] as F64Tensor).shape.slice());
    return E.right(outs.map((d, j) => ({ shape: kernel.outputShapes[j] as readonly number[], data: d })));
  };
};
