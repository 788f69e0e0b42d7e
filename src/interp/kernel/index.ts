/**
 * The generated CPU kernel: a fourth interpreter that flattens the DAG into a tape and
 * generates one specialised JavaScript function per (roots, sizes).
 * @example
 * const k = compileKernel([f.node], [y.node], new Map([['batch', 1]]));
 */
export { compileKernel, type Kernel } from './compile.ts';
export { defaultKernelTarget, kernelTargets, type KernelTarget } from './target.ts';
export { kernelFn, kernelCacheLimit, type KernelFn } from './kernelFn.ts';
export { formatKernelError, type KernelError, type KernelFnError } from './tape.ts';
