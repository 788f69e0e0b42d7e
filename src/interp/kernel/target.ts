/**
 * Which code the generated kernel becomes: WebAssembly with SIMD where the engine has it (every
 * Node.js since 16.4), else JavaScript. `FLUXION_KERNEL=js|wasm` overrides the choice, for
 * comparison and as an escape hatch.
 */
import * as E from 'fp-ts/lib/Either.js';
import { wasmSimdAvailable } from './wasm/compileWasm.ts';

/** Where a kernel runs: generated JavaScript, or WebAssembly (SIMD) generated from the same tape. */
export type KernelTarget = 'js' | 'wasm';

/** The valid values of `FLUXION_KERNEL`. */
export const kernelTargets: readonly KernelTarget[] = ['js', 'wasm'];

/**
 * The target for kernels compiled without an explicit one: `FLUXION_KERNEL` when set, else
 * `wasm` when this engine supports WebAssembly SIMD, else `js`. `Left` names a bad variable value.
 * @example defaultKernelTarget({ FLUXION_KERNEL: 'js' }) // E.right('js')
 */
export const defaultKernelTarget = (env: Readonly<Record<string, string | undefined>> = process.env): E.Either<string, KernelTarget> => {
  const v = env['FLUXION_KERNEL'];
  if (v === undefined || v === '') return E.right(wasmSimdAvailable ? 'wasm' : 'js');
  const t = kernelTargets.find((k) => k === v);
  return t === undefined ? E.left(`FLUXION_KERNEL=${v} is not a kernel target; valid values: ${kernelTargets.join(', ')}`) : E.right(t);
};
