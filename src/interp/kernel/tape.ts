/**
 * The tape: a flat list of instructions over numbered values, the form between the expression
 * DAG and generated code (CasADi's "algorithm"). Every size, stride and offset in it is a
 * resolved integer; values say where their data lives, and the allocator places temporaries.
 */
import type { BinaryOp, ReduceOp, UnaryOp } from '../../dsl/ops.ts';
import { formatBindError, type BindError } from '../bind.ts';

/** Index of a value in `Tape.values`. */
export type ValueId = number;

/** Where a value's elements live (row-major, contiguous). */
export type Value =
  | { readonly kind: 'input'; readonly index: number; readonly size: number }
  | { readonly kind: 'const'; readonly offset: number; readonly size: number }
  | { readonly kind: 'temp'; readonly size: number }
  | { readonly kind: 'output'; readonly index: number; readonly size: number };

/** An operand of a fused step: a leaf (loaded from a value) or an earlier step. */
export type Operand = { readonly kind: 'leaf'; readonly index: number } | { readonly kind: 'step'; readonly index: number };

/** One elementwise operation inside a fused loop. */
export type MapStep =
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly a: Operand }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly a: Operand; readonly b: Operand };

/** A value read inside a fused loop, with its (broadcast) strides over the loop's dims. */
export interface Leaf {
  readonly value: ValueId;
  readonly strides: readonly number[];
}

/** A fused elementwise loop: `steps` per element, the last one stored to `out`. */
export interface MapInstr {
  readonly kind: 'map';
  readonly out: ValueId;
  readonly dims: readonly number[];
  readonly leaves: readonly Leaf[];
  readonly steps: readonly MapStep[];
}
/**
 * `out[M,N] = x[M,K] × y[K,N]`; `xStrides`/`yStrides` are (row, column) strides of the operands
 * in their buffers, so a transposed operand is read in place (`[1, M]` for `xᵀ` stored as `[K,M]`).
 */
export interface MatmulInstr {
  readonly kind: 'matmul';
  readonly out: ValueId;
  readonly x: ValueId;
  readonly y: ValueId;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly xStrides: readonly [number, number];
  readonly yStrides: readonly [number, number];
  /**
   * Number of products (leading dims of a batched matmul; 1 otherwise): product `l` reads `x`
   * from `l·xStep` and `y` from `l·yStep` (a step of 0 shares the operand) and writes `out`
   * from `l·m·n`.
   */
  readonly batch: number;
  readonly xStep: number;
  readonly yStep: number;
}
/** A reduction: for each kept position (row-major), reduce over the reduced dims. */
export interface ReduceInstr {
  readonly kind: 'reduce';
  readonly op: ReduceOp;
  readonly out: ValueId;
  readonly x: ValueId;
  readonly keptDims: readonly number[];
  readonly keptStrides: readonly number[];
  readonly redDims: readonly number[];
  readonly redStrides: readonly number[];
  readonly count: number;
}
/** A strided copy `out[outBase + Σ i·outStrides] = x[xBase + Σ i·xStrides]` over `dims`. */
export interface CopyInstr {
  readonly kind: 'copy';
  readonly out: ValueId;
  readonly x: ValueId;
  readonly dims: readonly number[];
  readonly outBase: number;
  readonly outStrides: readonly number[];
  readonly xBase: number;
  readonly xStrides: readonly number[];
}

/** `copy` that adds instead of storing: `out[…] = out[…] + x[…]` (col2im's scatter-add). */
export interface AccumulateInstr extends Omit<CopyInstr, 'kind'> {
  readonly kind: 'accumulate';
}

export type Instr = MapInstr | MatmulInstr | ReduceInstr | CopyInstr | AccumulateInstr;
export type InstrKind = Instr['kind'];

/** A lowered program. */
export interface Tape {
  readonly values: readonly Value[];
  readonly instrs: readonly Instr[];
  /** All constants, concatenated; `const` values index into it. */
  readonly consts: Float64Array;
  readonly inputShapes: readonly (readonly number[])[];
  readonly outputShapes: readonly (readonly number[])[];
}

/**
 * The values an instruction reads.
 * @example reads({ kind: 'matmul', out: 2, x: 0, y: 1, m: 1, k: 2, n: 3, xStrides: [2, 1], yStrides: [3, 1], batch: 1, xStep: 0, yStep: 0 })
 * // [0, 1]
 */
export const reads = (ins: Instr): readonly ValueId[] => {
  switch (ins.kind) {
    case 'map': return ins.leaves.map((l) => l.value);
    case 'matmul': return [ins.x, ins.y];
    case 'reduce':
    case 'copy':
    case 'accumulate': return [ins.x];
  }
};

/** Why a kernel cannot be compiled. */
export type KernelError =
  | { readonly _tag: 'UnboundDim'; readonly dim: string }
  | { readonly _tag: 'InvalidSize'; readonly dim: string; readonly size: number }
  | { readonly _tag: 'NotAnInput'; readonly name: string }
  | { readonly _tag: 'DuplicateInput'; readonly name: string }
  | { readonly _tag: 'TooLarge'; readonly elements: number }
  | { readonly _tag: 'BadKernelTarget'; readonly message: string };

/** Why a `kernelFn` call failed: compilation, binding, or a data buffer of the wrong length. */
export type KernelFnError =
  | KernelError
  | BindError
  | { readonly _tag: 'BufferLength'; readonly name: string; readonly expected: number; readonly actual: number };

/** Largest number of float64 elements one buffer may hold. */
export const maxElements = 2 ** 31 - 1;

/**
 * A one-line message for a kernel error.
 * @example formatKernelError({ _tag: 'UnboundDim', dim: 'batch' }) // 'dim batch has no size'
 */
export const formatKernelError = (e: KernelFnError): string => {
  switch (e._tag) {
    case 'UnboundDim': return `dim ${e.dim} has no size`;
    case 'InvalidSize': return `dim ${e.dim} has size ${e.size}; sizes must be integers in [0, ${maxElements}]`;
    case 'NotAnInput': return `variable ${e.name} is used but is not among the kernel inputs`;
    case 'DuplicateInput': return `variable ${e.name} is listed twice among the kernel inputs`;
    case 'TooLarge': return `a buffer of ${e.elements} elements exceeds the limit of ${maxElements}`;
    case 'BadKernelTarget': return e.message;
    case 'BufferLength': return `input ${e.name} has ${e.actual} values, its shape needs ${e.expected}`;
    case 'MissingInput':
    case 'ShapeMismatch':
    case 'DimConflict':
    case 'DuplicateName':
      return formatBindError(e);
  }
};
