/**
 * A placed tape as a WebAssembly instance: lays out the memory, assembles the module, and
 * wraps its entry so it reads and writes the caller's Float64Arrays like the JavaScript kernel
 * (inputs are copied in and outputs out on every call, a few microseconds next to the work).
 */
import { fastMath } from '../../fastMath.ts';
import { sizeOf } from '../../tensor.ts';
import type { Loc } from '../alloc.ts';
import type { Tape } from '../tape.ts';
import { module } from './encode.ts';
import { emitWasm, type Layout } from './emitWasm.ts';
import { wasmImports } from './ops.ts';

/** The largest memory a kernel takes, in bytes (wasm32 allows 4 GiB; engines may refuse more than 2). */
export const maxWasmBytes = 2 ** 31;

/**
 * The largest module generated, in bytes of code: beyond, compiling it would cost more than it
 * saves (elementwise chains of tanh are the bulky case: about 0.5 KB per fused tanh).
 */
export const maxModuleBytes = 2 ** 21;

/** What the generic kernel wrapper needs from a compiled WebAssembly kernel. */
export interface WasmKernel {
  /** Copies `inputs` in, runs, copies the results into `outputs`. */
  readonly run: (inputs: readonly Float64Array[], outputs: readonly Float64Array[]) => void;
  /** Size of the binary module in bytes. */
  readonly moduleBytes: number;
  readonly functions: number;
  readonly memoryBytes: number;
}

const even = (n: number): number => n + (n % 2);

/** The part of the engine's WebAssembly API used here (the project's type libraries lack it). */
export interface WasmApi {
  readonly validate: (bytes: Uint8Array) => boolean;
  readonly Memory: new (d: { readonly initial: number; readonly maximum: number }) => { readonly buffer: ArrayBuffer };
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (m: object, imports: object) => { readonly exports: Readonly<Record<string, unknown>> };
}
/**
 * The engine's WebAssembly object, if it has one.
 * @example wasmApi?.validate(bytes)
 */
export const wasmApi: WasmApi | undefined = (globalThis as { readonly WebAssembly?: WasmApi }).WebAssembly;
const api = wasmApi;

/**
 * Whether this engine runs WebAssembly with 128-bit SIMD (Node 16.4 and later do): validates a
 * one-function module that uses `f64x2.splat`.
 * @example wasmSimdAvailable // true on Node 20
 */
export const wasmSimdAvailable: boolean = (() => {
  try {
    // A module whose one function returns f64x2.splat(0): valid only with SIMD.
    const probe = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 68, 0, 0, 0, 0, 0, 0, 0, 0, 253, 20, 11);
    return api !== undefined && api.validate(probe);
  } catch {
    return false;
  }
})();

/**
 * Compiles a placed tape to WebAssembly; `undefined` when its memory would exceed `maxWasmBytes`,
 * its code `maxModuleBytes`, or the engine lacks SIMD (the caller keeps the JavaScript kernel then).
 * @example compileWasm(tape, locs, arenaSize)?.run([yData, wData], [out])
 */
export const compileWasm = (tape: Tape, locs: readonly Loc[], arenaSize: number): WasmKernel | undefined => {
  if (!wasmSimdAvailable || api === undefined) return undefined;
  const inSizes = tape.inputShapes.map(sizeOf);
  const outSizes = tape.outputShapes.map(sizeOf);
  let at = 0;
  const take = (n: number): number => { const s = at; at = even(at + n); return s; };
  const twoPow = take(fastMath.twoPow.length);
  const pow2 = take(fastMath.pow2.length);
  const consts = take(tape.consts.length);
  const inputs = inSizes.map(take);
  const outputs = outSizes.map(take);
  const arena = take(arenaSize);
  const scratch = take(tape.instrs.reduce((mx, ins) =>
    (ins.kind === 'matmul' && ins.n >= 2 && ins.yStrides[1] !== 1 ? Math.max(mx, ins.k * ins.n) : mx), 0));
  const bytes = at * 8;
  if (bytes > maxWasmBytes) return undefined;
  const layout: Layout = { twoPow, pow2, consts, inputs, outputs, arena, scratch };
  const funcs = emitWasm(tape, locs, layout, maxModuleBytes);
  if (funcs === undefined) return undefined;
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  const binary = module(pages, wasmImports, funcs, wasmImports.length + funcs.length - 1);
  const memory = new api.Memory({ initial: pages, maximum: pages });
  const view = new Float64Array(memory.buffer);
  view.set(fastMath.twoPow, twoPow);
  view.set(fastMath.pow2, pow2);
  view.set(tape.consts, consts);
  const env = {
    mem: memory, exp: fastMath.exp, tanh: fastMath.tanh, sigmoid: fastMath.sigmoid, softplus: fastMath.softplus,
    log: Math.log, log1p: Math.log1p, sin: Math.sin, cos: Math.cos, mexp: Math.exp, pow: Math.pow,
  };
  const instance = new api.Instance(new api.Module(binary), { env });
  const entry = instance.exports['run'];
  if (typeof entry !== 'function') throw new Error('bug: wasm kernel has no entry');
  const go = entry as () => void;
  const outViews = outputs.map((o, j) => view.subarray(o, o + (outSizes[j] as number)));
  return {
    run: (ins, outs) => {
      for (let i = 0; i < ins.length; i++) view.set(ins[i] as Float64Array, inputs[i] as number);
      go();
      for (let j = 0; j < outs.length; j++) (outs[j] as Float64Array).set(outViews[j] as Float64Array);
    },
    moduleBytes: binary.length,
    functions: funcs.length,
    memoryBytes: pages * 65536,
  };
};
