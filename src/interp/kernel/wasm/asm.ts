/**
 * A tiny assembler for one WebAssembly function body: opcodes as data, locals handed out by
 * type, and the structured pieces the kernel generator repeats (counted loops that advance
 * pointer locals, loads and stores at a pointer plus a constant byte offset).
 */
import { byteBuf, type FuncDef, type ValType } from './encode.ts';

/** Core opcodes used by the generator. */
export const op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, call: 0x10, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22, f64Load: 0x2b, f64Store: 0x39, i32Const: 0x41, f64Const: 0x44,
  i32Eqz: 0x45, i32Ne: 0x47, i32LtS: 0x48, f64Eq: 0x61, f64Ne: 0x62, f64Lt: 0x63, f64Gt: 0x64, f64Le: 0x65,
  i32Add: 0x6a, i32Sub: 0x6b, i32And: 0x71, i32Shl: 0x74, i32ShrS: 0x75,
  f64Abs: 0x99, f64Neg: 0x9a, f64Sqrt: 0x9f, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2, f64Div: 0xa3,
  f64Min: 0xa4, f64Max: 0xa5, i32TruncSatPrefix: 0xfc,
} as const;

/** SIMD opcodes (after the 0xfd prefix). */
export const simd = {
  load: 0, load64Splat: 10, store: 11, const: 12, shuffle: 13, f64x2Splat: 20, i32x4ExtractLane: 27, f64x2ExtractLane: 33, f64x2ReplaceLane: 34,
  f64x2Eq: 71, f64x2Lt: 73, f64x2Gt: 74, f64x2Le: 75, not: 77, and: 78, or: 80, bitselect: 82, anyTrue: 83,
  i64x2AllTrue: 195, i64x2Bitmask: 196, i64x2ExtendLowI32x4S: 199, i64x2Shl: 203, i64x2ShrS: 204, i64x2Add: 206, f64x2Abs: 236, f64x2Neg: 237, f64x2Sqrt: 239, f64x2Add: 240, f64x2Sub: 241,
  f64x2Mul: 242, f64x2Div: 243, f64x2Min: 244, f64x2Max: 245, i32x4TruncSatF64x2SZero: 252,
} as const;

/** A pointer local and how many bytes a loop advances it per iteration. */
export interface Step {
  readonly local: number;
  readonly bytes: number;
}

/** The assembler: append instructions, allocate locals, then `done()` gives the function. */
export interface Asm {
  readonly emit: (...bytes: readonly number[]) => void;
  readonly local: (t: ValType) => number;
  readonly get: (l: number) => void;
  readonly set: (l: number) => void;
  readonly tee: (l: number) => void;
  readonly i32: (n: number) => void;
  readonly f64: (x: number) => void;
  readonly v: (simdOp: number, ...imm: readonly number[]) => void;
  /** `call` of function index `f`. */
  readonly call: (f: number) => void;
  /** `f64.load` from the address on the stack plus `offset` bytes. */
  readonly load: (offset: number) => void;
  /** `f64.store` of (address, value) on the stack, at address + `offset` bytes. */
  readonly store: (offset: number) => void;
  readonly vload: (offset: number) => void;
  readonly vsplat: (offset: number) => void;
  readonly vstore: (offset: number) => void;
  /**
   * `body` run `count` times (nothing when 0); after each run the `steps` pointers advance. The
   * pointers are advanced after the last run too, so code after the loop sees them past the end.
   */
  readonly repeat: (count: number, steps: readonly Step[], body: () => void) => void;
  /**
   * Pushes the float64 `c` in both lanes, from a local set once at the function's start (so a
   * loop does not rebuild its constants every iteration).
   */
  readonly vconst: (c: number) => void;
  /** A new i32 local set to `base` (a local or none) plus `bytes`. */
  readonly pointer: (base: number | undefined, bytes: number) => number;
  readonly done: () => FuncDef;
  /** Bytes emitted so far. */
  readonly size: () => number;
}

/**
 * A fresh assembler for a function without parameters.
 * @example const a = asm(); a.i32(1); a.emit(op.end); a.done()
 */
export const asm = (): Asm => {
  const code = byteBuf();
  const locals: ValType[] = [];
  // Keyed by the constant itself (Object.is semantics keep −0 and 0 apart; NaN never occurs).
  const consts = new Map<number, number>();
  let negZero: number | undefined;
  const emit = (...bytes: readonly number[]): void => { for (let i = 0; i < bytes.length; i++) code.byte(bytes[i] as number); };
  const mem = (prefixed: boolean, opc: number, align: number, offset: number): void => {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`bug: negative or fractional memory offset ${String(offset)}`);
    if (prefixed) { code.byte(0xfd); code.u32(opc); } else code.byte(opc);
    code.byte(align);
    code.u32(offset);
  };
  const a: Asm = {
    emit,
    local: (t) => { locals.push(t); return locals.length - 1; },
    get: (l) => { code.byte(op.localGet); code.u32(l); },
    set: (l) => { code.byte(op.localSet); code.u32(l); },
    tee: (l) => { code.byte(op.localTee); code.u32(l); },
    i32: (n) => { code.byte(op.i32Const); code.s32(n); },
    f64: (x) => { code.byte(op.f64Const); code.f64(x); },
    v: (s, ...imm) => { code.byte(0xfd); code.u32(s); emit(...imm); },
    call: (f) => { code.byte(op.call); code.u32(f); },
    load: (offset) => mem(false, op.f64Load, 3, offset),
    store: (offset) => mem(false, op.f64Store, 3, offset),
    vload: (offset) => mem(true, simd.load, 3, offset),
    vsplat: (offset) => mem(true, simd.load64Splat, 3, offset),
    vstore: (offset) => mem(true, simd.store, 3, offset),
    repeat: (count, steps, body) => {
      if (count <= 0) return;
      const advance = (): void => {
        for (const s of steps) {
          if (s.bytes === 0) continue;
          a.get(s.local); a.i32(s.bytes); code.byte(op.i32Add); a.set(s.local);
        }
      };
      if (count === 1) { body(); advance(); return; }
      const c = a.local('i32');
      a.i32(count); a.set(c);
      code.byte(op.loop); code.byte(0x40);
      body();
      advance();
      a.get(c); a.i32(1); code.byte(op.i32Sub); a.tee(c); code.byte(op.brIf); code.byte(0);
      code.byte(op.end);
    },
    pointer: (base, bytes) => {
      const p = a.local('i32');
      if (base === undefined) a.i32(bytes);
      else {
        a.get(base);
        if (bytes !== 0) { a.i32(bytes); code.byte(op.i32Add); }
      }
      a.set(p);
      return p;
    },
    vconst: (c) => {
      let l = Object.is(c, -0) ? negZero : consts.get(c);
      if (l === undefined) {
        l = a.local('v128');
        if (Object.is(c, -0)) negZero = l;
        else consts.set(c, l);
      }
      a.get(l);
    },
    done: () => {
      const init = byteBuf();
      const put = (c: number, l: number): void => {
        init.byte(op.f64Const); init.f64(c); init.byte(0xfd); init.u32(simd.f64x2Splat); init.byte(op.localSet); init.u32(l);
      };
      for (const [c, l] of consts) put(c, l);
      if (negZero !== undefined) put(-0, negZero);
      init.append(code.bytes());
      return { locals: locals.slice(), code: init.bytes() };
    },
    size: () => code.length(),
  };
  return a;
};
