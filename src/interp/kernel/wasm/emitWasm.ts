/**
 * Code generation to WebAssembly: a placed tape becomes function bodies over one linear memory
 * that holds the math tables, constants, inputs, outputs, the arena and a packing scratch.
 * Elementwise loops whose innermost dimension is contiguous run two float64 lanes at a time
 * (SIMD), their odd element in scalar code; matmuls run register tiles of rows × lane pairs
 * over a contiguous (packed if need be) right operand. Every output still sums its products over
 * k in increasing order from 0, and every elementwise op is the same IEEE operation sequence as
 * the JavaScript kernel's, so the two agree bit for bit. Only numbers from the tape reach the
 * binary; there is no source text at all.
 */
import { sizeOf, stridesOf } from '../../tensor.ts';
import type { Loc } from '../alloc.ts';
import type { AccumulateInstr, CopyInstr, Instr, MapInstr, MapStep, ReduceInstr, Tape, ValueId } from '../tape.ts';
import { asm, op, simd, type Asm } from './asm.ts';
import type { FuncDef } from './encode.ts';
import { levelsOf } from '../levels.ts';
import { ptr, walk, type Addr } from './loops.ts';
import { emitMatmul } from './matmul.ts';
import { fn, scalarBinary, scalarUnary, vectorBinary, vectorizable, vectorUnary, wasmImports } from './ops.ts';
import { splat, type VMathEnv } from './vmath.ts';

/** Where each region of the memory starts, in float64 elements. */
export interface Layout {
  readonly twoPow: number;
  readonly pow2: number;
  readonly consts: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly arena: number;
  readonly scratch: number;
}

interface Ctx extends VMathEnv {
  readonly addr: (v: ValueId, extra?: number) => Addr;
  readonly scratchBytes: number;
}

/** One element (or lane pair) of a fused loop: leaves loaded, steps computed, result stored. */
const mapBody = (c: Ctx, ins: MapInstr, lanes: 1 | 2, hoisted: readonly (number | undefined)[], streamed: readonly number[], ptrs: readonly number[], innerStrides: readonly number[]): void => {
  const { a } = c;
  const t = lanes === 2 ? 'v128' : 'f64';
  const leaves = ins.leaves.map((_, i) => hoisted[i]);
  streamed.forEach((li, k) => {
    const l = a.local(t);
    a.get(ptrs[k + 1] as number);
    if (lanes === 1) a.load(0);
    else if (innerStrides[k + 1] === 0) a.vsplat(0);
    else a.vload(0);
    a.set(l);
    leaves[li] = l;
  });
  const steps: number[] = [];
  const operand = (o: MapStep['a']): number => {
    const l = o.kind === 'leaf' ? leaves[o.index] : steps[o.index];
    if (l === undefined) throw new Error('bug: wasm map operand without a local');
    return l;
  };
  for (const st of ins.steps) {
    if (st.kind === 'unary') {
      if (lanes === 2) (vectorUnary[st.op] as (c: VMathEnv, x: number) => void)(c, operand(st.a));
      else scalarUnary[st.op](a, operand(st.a));
    } else {
      a.get(operand(st.a)); a.get(operand(st.b));
      if (lanes === 2) a.v(vectorBinary[st.op] as number);
      else scalarBinary[st.op](a);
    }
    const e = a.local(t);
    a.set(e);
    steps.push(e);
  }
  a.get(ptrs[0] as number); a.get(steps[steps.length - 1] as number);
  if (lanes === 2) a.vstore(0);
  else a.store(0);
};

const emitMap = (c: Ctx, ins: MapInstr): void => {
  const { a } = c;
  if (sizeOf(ins.dims) === 0) return;
  const streamed: number[] = [];
  const strides: (readonly number[])[] = [stridesOf(ins.dims)];
  const bases: Addr[] = [c.addr(ins.out)];
  ins.leaves.forEach((l, i) => {
    if (!l.strides.every((s) => s === 0)) {
      streamed.push(i);
      strides.push(l.strides);
      bases.push(c.addr(l.value));
    }
  });
  const levels = levelsOf(ins.dims, strides);
  const inner = levels[levels.length - 1];
  const vec = inner !== undefined && inner.d >= 2 && inner.s.every((s) => s === 0 || s === 1) && vectorizable(ins.steps);
  const hoist = (lanes: 1 | 2): (number | undefined)[] => ins.leaves.map((l) => {
    if (!l.strides.every((s) => s === 0)) return undefined;
    const h = a.local(lanes === 2 ? 'v128' : 'f64');
    const p = ptr(a, c.addr(l.value));
    a.get(p);
    if (lanes === 2) a.vsplat(0);
    else a.load(0);
    a.set(h);
    return h;
  });
  const scalarHoisted = hoist(1);
  const ptrs0 = bases.map((b) => ptr(a, b));
  if (inner === undefined) { mapBody(c, ins, 1, scalarHoisted, streamed, ptrs0, []); return; }
  const vecHoisted = vec ? hoist(2) : [];
  walk(a, levels.slice(0, -1), ptrs0, (outer) => {
    const ps = outer.map((p) => a.pointer(p, 0));
    if (vec) {
      a.repeat(Math.floor(inner.d / 2), ps.map((p, k) => ({ local: p, bytes: (inner.s[k] as number) * 16 })),
        () => mapBody(c, ins, 2, vecHoisted, streamed, ps, inner.s));
      if (inner.d % 2 === 1) mapBody(c, ins, 1, scalarHoisted, streamed, ps, inner.s);
    } else {
      a.repeat(inner.d, ps.map((p, k) => ({ local: p, bytes: (inner.s[k] as number) * 8 })),
        () => mapBody(c, ins, 1, scalarHoisted, streamed, ps, inner.s));
    }
  });
};

/** Reductions, as `emitReduce` in the JavaScript emitter (row-major order from 0). */
const emitReduce = (c: Ctx, ins: ReduceInstr): void => {
  const { a } = c;
  const outer = levelsOf(ins.keptDims, [stridesOf(ins.keptDims), ins.keptStrides]);
  const red = levelsOf(ins.redDims, [ins.redStrides]);
  const empty = ins.redDims.some((d) => d === 0);
  if (ins.keptDims.some((d) => d === 0)) return;
  const last = outer[outer.length - 1];
  if (ins.op !== 'logsumexp' && last !== undefined && last.d >= 2 && last.s[1] === 1) {
    // Neighbouring outputs read neighbouring inputs (a column sum): two outputs per lane pair,
    // each still summed in row-major order from 0; blocks of up to 8 pairs walk the reduced
    // rows together, so each row's block is one or two cache lines, not 8 separate walks.
    walk(a, outer.slice(0, -1), [ptr(a, c.addr(ins.out)), ptr(a, c.addr(ins.x))], ([o0, x0]) => {
      const o = a.pointer(o0 as number, 0), xr = a.pointer(x0 as number, 0);
      const block = (vecs: number): void => {
        const acc = Array.from({ length: vecs }, () => a.local('v128'));
        for (const l of acc) { splat(a, 0); a.set(l); }
        if (!empty) walk(a, red, [a.pointer(xr, 0)], ([xo]) => {
          acc.forEach((l, v) => { a.get(l); a.get(xo as number); a.vload(v * 16); a.v(simd.f64x2Add); a.set(l); });
        });
        acc.forEach((l, v) => {
          a.get(o); a.get(l);
          if (ins.op === 'mean') { splat(a, ins.count); a.v(simd.f64x2Div); }
          a.vstore(v * 16);
        });
      };
      const pairs = Math.floor(last.d / 2);
      a.repeat(Math.floor(pairs / 8), [{ local: o, bytes: 128 }, { local: xr, bytes: 128 }], () => block(8));
      if (pairs % 8 !== 0) a.repeat(1, [{ local: o, bytes: (pairs % 8) * 16 }, { local: xr, bytes: (pairs % 8) * 16 }], () => block(pairs % 8));
      if (last.d % 2 === 1) {
        const sc = a.local('f64');
        a.f64(0); a.set(sc);
        if (!empty) walk(a, red, [a.pointer(xr, 0)], ([xo]) => { a.get(sc); a.get(xo as number); a.load(0); a.emit(op.f64Add); a.set(sc); });
        a.get(o); a.get(sc);
        if (ins.op === 'mean') { a.f64(ins.count); a.emit(op.f64Div); }
        a.store(0);
      }
    });
    return;
  }
  walk(a, outer, [ptr(a, c.addr(ins.out)), ptr(a, c.addr(ins.x))], ([o, xr]) => {
    const inner = (body: (xo: number) => void): void => {
      if (!empty) walk(a, red, [a.pointer(xr as number, 0)], ([xo]) => body(xo as number));
    };
    const s = a.local('f64');
    const sum = (): void => {
      a.f64(0); a.set(s);
      inner((xo) => { a.get(s); a.get(xo); a.load(0); a.emit(op.f64Add); a.set(s); });
    };
    switch (ins.op) {
      case 'sum': sum(); a.get(o as number); a.get(s); a.store(0); return;
      case 'mean': sum(); a.get(o as number); a.get(s); a.f64(ins.count); a.emit(op.f64Div); a.store(0); return;
      case 'logsumexp': {
        const m = a.local('f64'), v = a.local('f64'), fin = a.local('i32');
        a.f64(-Infinity); a.set(m);
        // if (!(v <= m)) m = v
        inner((xo) => { a.get(xo); a.load(0); a.set(v); a.get(m); a.get(v); a.get(v); a.get(m); a.emit(op.f64Le, op.select); a.set(m); });
        // finite: m − m == 0
        a.get(m); a.get(m); a.emit(op.f64Sub); a.f64(0); a.emit(op.f64Eq); a.set(fin);
        a.f64(0); a.set(s);
        inner((xo) => {
          a.get(xo); a.load(0); a.set(v);
          a.get(s);
          a.get(fin);
          a.emit(op.if, valTypeF64);
          a.get(v); a.get(m); a.emit(op.f64Sub); a.call(fn.mexp);
          a.emit(op.else);
          a.f64(1); a.f64(0); a.get(v); a.get(m); a.emit(op.f64Eq, op.select);
          a.emit(op.end);
          a.emit(op.f64Add); a.set(s);
        });
        // NaN ? NaN : m === −∞ ? −∞ : m + log s
        a.get(o as number);
        a.get(m); a.f64(-Infinity); a.get(m); a.get(s); a.call(fn.log); a.emit(op.f64Add);
        a.get(m); a.f64(-Infinity); a.emit(op.f64Eq, op.select);
        a.get(m); a.get(m); a.emit(op.f64Ne, op.select);
        a.store(0);
        return;
      }
    }
  });
};
const valTypeF64 = 0x7c;

const emitCopy = (c: Ctx, ins: CopyInstr | AccumulateInstr): void => {
  const { a } = c;
  if (ins.dims.some((d) => d === 0)) return;
  const levels = levelsOf(ins.dims, [ins.outStrides, ins.xStrides]);
  walk(a, levels, [ptr(a, c.addr(ins.out, ins.outBase)), ptr(a, c.addr(ins.x, ins.xBase))], ([o, x]) => {
    a.get(o as number);
    if (ins.kind === 'accumulate') { a.get(o as number); a.load(0); a.get(x as number); a.load(0); a.emit(op.f64Add); }
    else { a.get(x as number); a.load(0); }
    a.store(0);
  });
};

const emitInstr = (c: Ctx, ins: Instr): void => {
  switch (ins.kind) {
    case 'map': return emitMap(c, ins);
    case 'matmul': return emitMatmul(c, ins);
    case 'reduce': return emitReduce(c, ins);
    case 'copy':
    case 'accumulate': return emitCopy(c, ins);
  }
};

/** A function body is closed after about this many bytes, so each compiles quickly. */
export const chunkBytes = 24_000;

/**
 * The functions of a placed tape: chunk functions of the instructions in order, then the entry
 * that calls them (the last function). Function indices count after `wasmImports`. `undefined`
 * once the code passes `maxBytes`.
 * @example emitWasm(tape, allocate(tape).locs, layout, 1 << 21)?.length // 2 for a small tape
 */
export const emitWasm = (tape: Tape, locs: readonly Loc[], layout: Layout, maxBytes: number): FuncDef[] | undefined => {
  const regionOf = (l: Loc): number => {
    switch (l.space) {
      case 'arena': return layout.arena;
      case 'const': return layout.consts;
      case 'input': return layout.inputs[l.index] as number;
      case 'output': return layout.outputs[l.index] as number;
    }
  };
  const funcs: FuncDef[] = [];
  let a = asm();
  const ctxOf = (cur: Asm): Ctx => ({
    a: cur,
    twoPowBytes: layout.twoPow * 8,
    pow2Bytes: layout.pow2 * 8,
    expFn: fn.exp,
    tanhFn: fn.tanh,
    scratchBytes: layout.scratch * 8,
    addr: (v, extra = 0) => {
      const l = locs[v];
      if (l === undefined) throw new Error('bug: wasm kernel value without a location');
      return { bytes: (regionOf(l) + l.base + extra) * 8 };
    },
  });
  let ctx = ctxOf(a);
  let total = 0;
  for (const ins of tape.instrs) {
    emitInstr(ctx, ins);
    if (total + a.size() > maxBytes) return undefined;
    if (a.size() > chunkBytes) {
      total += a.size();
      funcs.push(a.done());
      a = asm();
      ctx = ctxOf(a);
    }
  }
  if (a.size() > 0 || funcs.length === 0) funcs.push(a.done());
  const entry = asm();
  funcs.forEach((_, i) => entry.call(wasmImports.length + i));
  funcs.push(entry.done());
  return funcs;
};
