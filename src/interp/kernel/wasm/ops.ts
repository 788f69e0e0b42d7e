/**
 * Elementwise ops in WebAssembly: one record per op family and lane count, keyed by the op
 * literal like the JavaScript templates (`../jsOps.ts`), each the same IEEE operation sequence as
 * `unaryF64` / `binaryF64`. Scalar forms use the native instruction where WebAssembly has it and
 * call the imported JavaScript function otherwise; vector forms (two lanes) exist for the ops a
 * fused loop can run without calls.
 */
import type { BinaryOp, UnaryOp } from '../../../dsl/ops.ts';
import type { MapStep } from '../tape.ts';
import { op, simd, type Asm } from './asm.ts';
import type { FuncImport } from './encode.ts';
import { splat, vexp, vtanh, type VMathEnv } from './vmath.ts';

/** The imported scalar functions, in import order (their function indices). */
export const wasmImports: readonly FuncImport[] = [
  { name: 'exp', arity: 1 }, { name: 'tanh', arity: 1 }, { name: 'sigmoid', arity: 1 }, { name: 'softplus', arity: 1 },
  { name: 'log', arity: 1 }, { name: 'log1p', arity: 1 }, { name: 'sin', arity: 1 }, { name: 'cos', arity: 1 },
  { name: 'mexp', arity: 1 }, { name: 'pow', arity: 2 },
];
/** Function indices of the imports. */
export const fn = { exp: 0, tanh: 1, sigmoid: 2, softplus: 3, log: 4, log1p: 5, sin: 6, cos: 7, mexp: 8, pow: 9 } as const;

/** Two-lane forms (pushing a v128 computed from the v128 local `x`). */
export const vectorUnary: { readonly [K in UnaryOp]?: (c: VMathEnv, x: number) => void } = {
  neg: ({ a }, x) => { a.get(x); a.v(simd.f64x2Neg); },
  square: ({ a }, x) => { a.get(x); a.get(x); a.v(simd.f64x2Mul); },
  sqrt: ({ a }, x) => { a.get(x); a.v(simd.f64x2Sqrt); },
  abs: ({ a }, x) => { a.get(x); a.v(simd.f64x2Abs); },
  // x > 0 ? x : x <= 0 ? 0 : x (NaN passes through)
  relu: ({ a }, x) => {
    a.get(x); splat(a, 0); a.get(x); a.get(x); splat(a, 0); a.v(simd.f64x2Le); a.v(simd.bitselect);
    a.get(x); splat(a, 0); a.v(simd.f64x2Gt); a.v(simd.bitselect);
  },
  sign: ({ a }, x) => {
    splat(a, 1); splat(a, -1); splat(a, 0); a.get(x);
    a.get(x); splat(a, 0); a.v(simd.f64x2Eq); a.v(simd.bitselect);
    a.get(x); splat(a, 0); a.v(simd.f64x2Lt); a.v(simd.bitselect);
    a.get(x); splat(a, 0); a.v(simd.f64x2Gt); a.v(simd.bitselect);
  },
  step: ({ a }, x) => {
    splat(a, 1); splat(a, 0); a.get(x); a.get(x); splat(a, 0); a.v(simd.f64x2Le); a.v(simd.bitselect);
    a.get(x); splat(a, 0); a.v(simd.f64x2Gt); a.v(simd.bitselect);
  },
  exp: (c, x) => vexp(c, x),
  tanh: (c, x) => vtanh(c, x),
};

/** Two-lane binary ops (SIMD opcodes). */
export const vectorBinary: { readonly [K in BinaryOp]?: number } = {
  add: simd.f64x2Add, sub: simd.f64x2Sub, mul: simd.f64x2Mul, div: simd.f64x2Div, maximum: simd.f64x2Max, minimum: simd.f64x2Min,
};

const call = (a: Asm, f: number): void => a.call(f);

/** Scalar forms (mirror `unaryF64`): native where WebAssembly has the IEEE op, else the import. */
export const scalarUnary: { readonly [K in UnaryOp]: (a: Asm, x: number) => void } = {
  neg: (a, x) => { a.get(x); a.emit(op.f64Neg); },
  exp: (a, x) => { a.get(x); call(a, fn.exp); },
  log: (a, x) => { a.get(x); call(a, fn.log); },
  log1p: (a, x) => { a.get(x); call(a, fn.log1p); },
  sqrt: (a, x) => { a.get(x); a.emit(op.f64Sqrt); },
  square: (a, x) => { a.get(x); a.get(x); a.emit(op.f64Mul); },
  sin: (a, x) => { a.get(x); call(a, fn.sin); },
  cos: (a, x) => { a.get(x); call(a, fn.cos); },
  tanh: (a, x) => { a.get(x); call(a, fn.tanh); },
  sigmoid: (a, x) => { a.get(x); call(a, fn.sigmoid); },
  softplus: (a, x) => { a.get(x); call(a, fn.softplus); },
  relu: (a, x) => {
    a.get(x); a.f64(0); a.get(x); a.get(x); a.f64(0); a.emit(op.f64Le, op.select);
    a.get(x); a.f64(0); a.emit(op.f64Gt, op.select);
  },
  abs: (a, x) => { a.get(x); a.emit(op.f64Abs); },
  sign: (a, x) => {
    a.f64(1); a.f64(-1); a.f64(0); a.get(x); a.get(x); a.f64(0); a.emit(op.f64Eq, op.select);
    a.get(x); a.f64(0); a.emit(op.f64Lt, op.select);
    a.get(x); a.f64(0); a.emit(op.f64Gt, op.select);
  },
  step: (a, x) => {
    a.f64(1); a.f64(0); a.get(x); a.get(x); a.f64(0); a.emit(op.f64Le, op.select);
    a.get(x); a.f64(0); a.emit(op.f64Gt, op.select);
  },
};

/** Scalar binary ops on the two f64 values on the stack. */
export const scalarBinary: { readonly [K in BinaryOp]: (a: Asm) => void } = {
  add: (a) => a.emit(op.f64Add), sub: (a) => a.emit(op.f64Sub), mul: (a) => a.emit(op.f64Mul), div: (a) => a.emit(op.f64Div),
  pow: (a) => call(a, fn.pow), maximum: (a) => a.emit(op.f64Max), minimum: (a) => a.emit(op.f64Min),
};

/**
 * Whether every step of a fused loop has a two-lane form.
 * @example vectorizable([{ kind: 'unary', op: 'tanh', a: { kind: 'leaf', index: 0 } }]) // true
 */
export const vectorizable = (steps: readonly MapStep[]): boolean =>
  steps.every((s) => (s.kind === 'unary' ? Object.hasOwn(vectorUnary, s.op) : Object.hasOwn(vectorBinary, s.op)));
