/**
 * `compileKernel`: roots → tape → placement → generated JavaScript → one specialised function
 * per (roots, inputs, sizes). The kernel reads caller-provided input buffers and writes
 * caller-provided output buffers; its temporaries live in one arena allocated here, once.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Node, VarNode } from '../../dsl/node.ts';
import { fastMath, type FastMath } from '../fastMath.ts';
import { sizeOf } from '../tensor.ts';
import { allocate } from './alloc.ts';
import { emitKernel } from './emit.ts';
import { auditSource } from './js.ts';
import { lower } from './lower.ts';
import { maxElements, type KernelError } from './tape.ts';
import { defaultKernelTarget, type KernelTarget } from './target.ts';
import { compileWasm } from './wasm/compileWasm.ts';

/** A compiled kernel and what it was compiled to. */
export interface Kernel {
  /**
   * Evaluates the roots: reads `inputs` (in the order given to `compileKernel`) and writes
   * `outputs` (one per root, row-major). Allocates nothing. Outputs must not alias inputs or
   * each other. Not re-entrant (the arena is shared), which JavaScript's single thread ensures.
   * @throws RangeError when the number of buffers or a buffer's length is wrong
   */
  readonly run: (inputs: readonly Float64Array[], outputs: readonly Float64Array[]) => void;
  /**
   * `run` without the buffer checks, for hot loops whose buffers were checked once (wrong
   * lengths read or write out of bounds silently: undefined values become NaN, writes are lost).
   */
  readonly runUnchecked: (inputs: readonly Float64Array[], outputs: readonly Float64Array[]) => void;
  /** Input and output buffer lengths, in the order of `run`'s arguments. */
  readonly inputSizes: readonly number[];
  readonly outputSizes: readonly number[];
  /** Fresh zeroed output buffers of the right sizes (a convenience; allocates). */
  readonly allocOutputs: () => Float64Array[];
  readonly inputShapes: readonly (readonly number[])[];
  readonly outputShapes: readonly (readonly number[])[];
  /** Length in float64s of the temporaries' arena. */
  readonly arenaSize: number;
  /** Number of float64 constants held by the kernel. */
  readonly constSize: number;
  /** Number of tape instructions (fused loops, matmuls, reductions, copies). */
  readonly instructionCount: number;
  /** The generated factory body, for inspection (for WebAssembly, a one-line description). */
  readonly source: string;
  /** What runs: generated JavaScript, or WebAssembly with SIMD generated from the same tape. */
  readonly target: KernelTarget;
  /** Size of the generated code: characters of JavaScript source, or bytes of the WebAssembly module. */
  readonly codeSize: number;
}


type Generated = (inputs: readonly Float64Array[], outputs: readonly Float64Array[]) => void;
type Factory = (consts: Float64Array, arena: Float64Array, math: FastMath) => Generated;

const checkBuffers = (what: string, bufs: readonly Float64Array[], sizes: readonly number[]): void => {
  if (bufs.length !== sizes.length) throw new RangeError(`kernel: ${bufs.length} ${what} buffers, expected ${sizes.length}`);
  for (let i = 0; i < sizes.length; i++) {
    const b = bufs[i];
    if (!(b instanceof Float64Array) || b.length !== sizes[i])
      throw new RangeError(`kernel: ${what} ${i} must be a Float64Array of length ${sizes[i] as number}`);
  }
};

/**
 * Compiles `roots` into a generated kernel for fixed named-dim `sizes`.
 * @example
 * const y = X.state('y', [B, 2]), W = X.variable('W', 'param', [2, 3]);
 * const k = compileKernel([X.tanh(X.matmul(y, W)).node], [y.node, W.node], new Map([['batch', 4]]));
 * if (E.isRight(k)) { const out = k.right.allocOutputs(); k.right.run([yData, wData], out); }
 */
export const compileKernel = (
  roots: readonly Node[], inputs: readonly VarNode[], sizes: ReadonlyMap<string, number>,
  options: { readonly target?: KernelTarget } = {},
): E.Either<KernelError, Kernel> => {
  const target = options.target !== undefined ? E.right(options.target) : defaultKernelTarget();
  if (E.isLeft(target)) return E.left({ _tag: 'BadKernelTarget', message: target.left });
  const lowered = lower(roots, inputs, sizes);
  if (E.isLeft(lowered)) return lowered;
  const tape = lowered.right;
  const { locs, arenaSize } = allocate(tape);
  if (arenaSize > maxElements) return E.left({ _tag: 'TooLarge', elements: arenaSize });
  const inSizes = tape.inputShapes.map(sizeOf);
  const outSizes = tape.outputShapes.map(sizeOf);
  const common = {
    inputSizes: inSizes,
    outputSizes: outSizes,
    allocOutputs: () => outSizes.map((n) => new Float64Array(n)),
    inputShapes: tape.inputShapes,
    outputShapes: tape.outputShapes,
    arenaSize,
    constSize: tape.consts.length,
    instructionCount: tape.instrs.length,
  };
  // The JavaScript kernel stays the fallback when the engine, the memory size or the code size
  // (compiling a huge module would take longer than it saves) rules WebAssembly out.
  const wasm = target.right === 'wasm' ? compileWasm(tape, locs, arenaSize) : undefined;
  if (wasm !== undefined) {
    return E.right({
      ...common,
      run: (ins, outs) => {
        checkBuffers('input', ins, inSizes);
        checkBuffers('output', outs, outSizes);
        wasm.run(ins, outs);
      },
      runUnchecked: wasm.run,
      source: `// WebAssembly kernel: ${wasm.moduleBytes} bytes in ${wasm.functions} functions, ${wasm.memoryBytes} bytes of memory`,
      target: 'wasm',
      codeSize: wasm.moduleBytes,
    });
  }
  const source = emitKernel(tape, locs);
  auditSource(source);
  // The one audited cast: the source was built by `emitKernel` from trusted fragments only.
  const factory = new Function('K', 'A', 'F', source) as Factory;
  const gen = factory(tape.consts, new Float64Array(arenaSize), fastMath);
  return E.right({
    ...common,
    run: (ins, outs) => {
      checkBuffers('input', ins, inSizes);
      checkBuffers('output', outs, outSizes);
      gen(ins, outs);
    },
    runUnchecked: gen,
    source,
    target: 'js',
    codeSize: source.length,
  });
};
