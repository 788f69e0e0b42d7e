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
import type { BinaryOp, UnaryOp } from '../../../dsl/ops.ts';
import { sizeOf, stridesOf } from '../../tensor.ts';
import type { Loc } from '../alloc.ts';
import type { AccumulateInstr, CopyInstr, Instr, MapInstr, MapStep, MatmulInstr, ReduceInstr, Tape, ValueId } from '../tape.ts';
import { asm, op, simd, type Asm, type Step } from './asm.ts';
import type { FuncDef, FuncImport } from './encode.ts';
import { splat, vexp, vtanh, type VMathEnv } from './vmath.ts';

/** The imported scalar functions, in import order (their function indices). */
export const wasmImports: readonly FuncImport[] = [
  { name: 'exp', arity: 1 }, { name: 'tanh', arity: 1 }, { name: 'sigmoid', arity: 1 }, { name: 'softplus', arity: 1 },
  { name: 'log', arity: 1 }, { name: 'log1p', arity: 1 }, { name: 'sin', arity: 1 }, { name: 'cos', arity: 1 },
  { name: 'mexp', arity: 1 }, { name: 'pow', arity: 2 },
];
const fn = { exp: 0, tanh: 1, sigmoid: 2, softplus: 3, log: 4, log1p: 5, sin: 6, cos: 7, mexp: 8, pow: 9 } as const;

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

/** A run-time byte address: an optional i32 local plus a constant. */
interface Addr {
  readonly local?: number;
  readonly bytes: number;
}

interface Ctx extends VMathEnv {
  readonly addr: (v: ValueId, extra?: number) => Addr;
  readonly scratchBytes: number;
}

const ptr = (a: Asm, b: Addr): number => a.pointer(b.local, b.bytes);

/** Dims merged as the JavaScript emitter merges them: unit dims dropped, contiguous runs fused. */
const levelsOf = (dims: readonly number[], strides: readonly (readonly number[])[]): { d: number; s: number[] }[] => {
  const levels: { d: number; s: number[] }[] = [];
  for (let ax = 0; ax < dims.length; ax++) {
    const d = dims[ax] as number;
    if (d === 1) continue;
    const s = strides.map((st) => st[ax] as number);
    const prev = levels[levels.length - 1];
    if (prev !== undefined && prev.s.every((ps, k) => ps === (s[k] as number) * d)) {
      prev.d *= d;
      prev.s = s;
    } else levels.push({ d, s });
  }
  return levels;
};

/** Loops over `levels`, handing `body` one pointer local per stream (pointing at the element). */
const walk = (a: Asm, levels: readonly { d: number; s: readonly number[] }[], bases: readonly number[], body: (ptrs: readonly number[]) => void): void => {
  const rec = (lv: number, cur: readonly number[]): void => {
    const level = levels[lv];
    if (level === undefined) { body(cur); return; }
    const ps = cur.map((c) => a.pointer(c, 0));
    a.repeat(level.d, ps.map((p, k) => ({ local: p, bytes: (level.s[k] as number) * 8 })), () => rec(lv + 1, ps));
  };
  rec(0, bases);
};

const vectorUnary: { readonly [K in UnaryOp]?: (c: Ctx, x: number) => void } = {
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

const vectorBinary: { readonly [K in BinaryOp]?: number } = {
  add: simd.f64x2Add, sub: simd.f64x2Sub, mul: simd.f64x2Mul, div: simd.f64x2Div, maximum: simd.f64x2Max, minimum: simd.f64x2Min,
};

const call = (a: Asm, f: number): void => a.call(f);

/** Scalar forms (mirror `unaryF64`): native where WebAssembly has the IEEE op, else the import. */
const scalarUnary: { readonly [K in UnaryOp]: (a: Asm, x: number) => void } = {
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

const scalarBinary: { readonly [K in BinaryOp]: (a: Asm) => void } = {
  add: (a) => a.emit(op.f64Add), sub: (a) => a.emit(op.f64Sub), mul: (a) => a.emit(op.f64Mul), div: (a) => a.emit(op.f64Div),
  pow: (a) => call(a, fn.pow), maximum: (a) => a.emit(op.f64Max), minimum: (a) => a.emit(op.f64Min),
};

const vectorizable = (steps: readonly MapStep[]): boolean =>
  steps.every((s) => (s.kind === 'unary' ? Object.hasOwn(vectorUnary, s.op) : Object.hasOwn(vectorBinary, s.op)));

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
      if (lanes === 2) (vectorUnary[st.op] as (c: Ctx, x: number) => void)(c, operand(st.a));
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

/** Register-tile size: `cols` lane pairs by `rows` rows, at most 8 accumulators. */
const tileOf = (m: number, pairs: number): { rows: number; cols: number } => {
  const cols = Math.max(1, Math.min(pairs, m >= 4 ? 2 : 4));
  return { rows: Math.max(1, Math.min(m, Math.floor(8 / cols))), cols };
};

/**
 * `out[m,n] = x·y` with y rows contiguous (column stride 1) in tiles of rows × lane pairs, an
 * odd last column in scalar registers. Addresses are pointer locals.
 */
const matmulTiles = (a: Asm, m: number, k: number, n: number, x: number, xr: number, xc: number, y: number, yr: number, out: number): void => {
  const pairs = Math.floor(n / 2);
  const { rows: R, cols: C } = tileOf(m, pairs);
  const tile = (rowsHere: number, px0: number, po0: number): void => {
    const colTile = (vecs: number, py0: number, poc: number): void => {
      const acc = Array.from({ length: rowsHere * vecs }, () => a.local('v128'));
      for (const l of acc) { splat(a, 0); a.set(l); }
      const px = a.pointer(px0, 0), py = a.pointer(py0, 0);
      const yv = Array.from({ length: vecs }, () => a.local('v128'));
      const xs = a.local('v128');
      a.repeat(k, [{ local: px, bytes: xc * 8 }, { local: py, bytes: yr * 8 }], () => {
        yv.forEach((v, j) => { a.get(py); a.vload(j * 16); a.set(v); });
        for (let r = 0; r < rowsHere; r++) {
          a.get(px); a.vsplat(r * xr * 8); a.set(xs);
          yv.forEach((v, j) => {
            const s = acc[r * vecs + j] as number;
            a.get(s); a.get(xs); a.get(v); a.v(simd.f64x2Mul); a.v(simd.f64x2Add); a.set(s);
          });
        }
      });
      for (let r = 0; r < rowsHere; r++) for (let j = 0; j < vecs; j++) {
        a.get(poc); a.get(acc[r * vecs + j] as number); a.vstore((r * n + 2 * j) * 8);
      }
    };
    const pyc = a.pointer(y, 0), poc = a.pointer(po0, 0);
    const steps: Step[] = [{ local: pyc, bytes: 2 * C * 8 }, { local: poc, bytes: 2 * C * 8 }];
    a.repeat(Math.floor(pairs / C), steps, () => colTile(C, pyc, poc));
    const rest = pairs % C;
    if (rest !== 0) a.repeat(1, [{ local: pyc, bytes: 2 * rest * 8 }, { local: poc, bytes: 2 * rest * 8 }], () => colTile(rest, pyc, poc));
    if (n % 2 === 1) {
      // The odd column: scalar registers, y column n−1 (pointers pyc/poc now point at it).
      const acc = Array.from({ length: rowsHere }, () => a.local('f64'));
      for (const l of acc) { a.f64(0); a.set(l); }
      const px = a.pointer(px0, 0), py = a.pointer(pyc, 0);
      a.repeat(k, [{ local: px, bytes: xc * 8 }, { local: py, bytes: yr * 8 }], () => {
        const yv = a.local('f64');
        a.get(py); a.load(0); a.set(yv);
        acc.forEach((s, r) => { a.get(s); a.get(px); a.load(r * xr * 8); a.get(yv); a.emit(op.f64Mul, op.f64Add); a.set(s); });
      });
      acc.forEach((s, r) => { a.get(poc); a.get(s); a.store(r * n * 8); });
    }
  };
  const pxr = a.pointer(x, 0), por = a.pointer(out, 0);
  a.repeat(Math.floor(m / R), [{ local: pxr, bytes: R * xr * 8 }, { local: por, bytes: R * n * 8 }], () => tile(R, pxr, por));
  if (m % R !== 0) tile(m % R, pxr, por);
};

/**
 * `out[m,n] = x·y` for x stored transposed (rows of x adjacent, as in a parameter gradient
 * `hᵀ·g`) and few columns: lane pairs run over pairs of rows, in blocks of up to 8 rows, each
 * output still summed over k in order. An odd last row goes through `matmulTiles`' scalar path.
 */
const matmulRowPairs = (a: Asm, m: number, k: number, n: number, x: number, xc: number, y: number, yr: number, yc: number, out: number): void => {
  const block = (rows: number, px0: number, po0: number): void => {
    const vecs = rows / 2;
    const acc = Array.from({ length: vecs * n }, () => a.local('v128'));
    for (const l of acc) { splat(a, 0); a.set(l); }
    const px = a.pointer(px0, 0), py = a.pointer(y, 0);
    const xv = Array.from({ length: vecs }, () => a.local('v128'));
    const ys = a.local('v128');
    a.repeat(k, [{ local: px, bytes: xc * 8 }, { local: py, bytes: yr * 8 }], () => {
      xv.forEach((v, r) => { a.get(px); a.vload(r * 16); a.set(v); });
      for (let j = 0; j < n; j++) {
        a.get(py); a.vsplat(j * yc * 8); a.set(ys);
        xv.forEach((v, r) => {
          const s = acc[r * n + j] as number;
          a.get(s); a.get(v); a.get(ys); a.v(simd.f64x2Mul); a.v(simd.f64x2Add); a.set(s);
        });
      }
    });
    for (let r = 0; r < vecs; r++) for (let j = 0; j < n; j++) for (const lane of [0, 1]) {
      a.get(po0); a.get(acc[r * n + j] as number); a.v(simd.f64x2ExtractLane, lane); a.store(((2 * r + lane) * n + j) * 8);
    }
  };
  const pxr = a.pointer(x, 0), por = a.pointer(out, 0);
  a.repeat(Math.floor(m / 8), [{ local: pxr, bytes: 64 }, { local: por, bytes: 8 * n * 8 }], () => block(8, pxr, por));
  const rest = m % 8;
  if (rest >= 2) a.repeat(1, [{ local: pxr, bytes: (rest - rest % 2) * 8 }, { local: por, bytes: (rest - rest % 2) * n * 8 }], () => block(rest - rest % 2, pxr, por));
  if (rest % 2 === 1) scalarRows(a, 1, k, n, pxr, 1, xc, y, yr, yc, por);
};

/** `rows` rows of `out = x·y` with scalar accumulators, one column at a time. */
const scalarRows = (a: Asm, rows: number, k: number, n: number, px0: number, xr: number, xc: number, y: number, yr: number, yc: number, po0: number): void => {
  for (let j = 0; j < n; j++) {
    const acc = Array.from({ length: rows }, () => a.local('f64'));
    for (const l of acc) { a.f64(0); a.set(l); }
    const px = a.pointer(px0, 0), py = a.pointer(y, j * yc * 8);
    a.repeat(k, [{ local: px, bytes: xc * 8 }, { local: py, bytes: yr * 8 }], () => {
      const yv = a.local('f64');
      a.get(py); a.load(0); a.set(yv);
      acc.forEach((s, r) => { a.get(s); a.get(px); a.load(r * xr * 8); a.get(yv); a.emit(op.f64Mul, op.f64Add); a.set(s); });
    });
    acc.forEach((s, r) => { a.get(po0); a.get(s); a.store((r * n + j) * 8); });
  }
};

/** One product of a matmul, from address locals of x, y and out. */
const emitProduct = (c: Ctx, ins: MatmulInstr, x: number, y: number, out: number): void => {
  const { a } = c;
  const { m, k, n } = ins;
  const [xr, xc] = ins.xStrides;
  const [yr, yc] = ins.yStrides;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    walk(a, levelsOf([m * n], [[1]]), [out], ([o]) => { a.get(o as number); a.f64(0); a.store(0); });
    return;
  }
  if (xr === 1 && m >= 4 && n <= 4) { matmulRowPairs(a, m, k, n, x, xc, y, yr, yc, out); return; }
  if (n >= 2) {
    if (yc === 1) { matmulTiles(a, m, k, n, x, xr, xc, y, yr, out); return; }
    // Pack y into [k, n] rows so that lane pairs are contiguous.
    const s = a.pointer(undefined, c.scratchBytes);
    walk(a, levelsOf([k, n], [[n, 1], [yr, yc]]), [s, a.pointer(y, 0)], ([d, src]) => {
      a.get(d as number); a.get(src as number); a.load(0); a.store(0);
    });
    matmulTiles(a, m, k, n, x, xr, xc, a.pointer(undefined, c.scratchBytes), n, out);
    return;
  }
  // A single column: rows in register blocks of 8.
  const block = (rows: number, px0: number, po0: number): void => {
    const acc = Array.from({ length: rows }, () => a.local('f64'));
    for (const l of acc) { a.f64(0); a.set(l); }
    const px = a.pointer(px0, 0), py = a.pointer(y, 0);
    a.repeat(k, [{ local: px, bytes: xc * 8 }, { local: py, bytes: yr * 8 }], () => {
      const yv = a.local('f64');
      a.get(py); a.load(0); a.set(yv);
      acc.forEach((s, r) => { a.get(s); a.get(px); a.load(r * xr * 8); a.get(yv); a.emit(op.f64Mul, op.f64Add); a.set(s); });
    });
    acc.forEach((s, r) => { a.get(po0); a.get(s); a.store(r * 8); });
  };
  const pxr = a.pointer(x, 0), por = a.pointer(out, 0);
  a.repeat(Math.floor(m / 8), [{ local: pxr, bytes: 8 * xr * 8 }, { local: por, bytes: 64 }], () => block(8, pxr, por));
  if (m % 8 !== 0) block(m % 8, pxr, por);
};

const emitMatmul = (c: Ctx, ins: MatmulInstr): void => {
  const { a } = c;
  const x = ptr(a, c.addr(ins.x)), y = ptr(a, c.addr(ins.y)), out = ptr(a, c.addr(ins.out));
  if (ins.batch === 1) { emitProduct(c, ins, x, y, out); return; }
  a.repeat(ins.batch, [{ local: x, bytes: ins.xStep * 8 }, { local: y, bytes: ins.yStep * 8 }, { local: out, bytes: ins.m * ins.n * 8 }],
    () => emitProduct(c, ins, x, y, out));
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
    // each still summed in row-major order from 0.
    walk(a, outer.slice(0, -1), [ptr(a, c.addr(ins.out)), ptr(a, c.addr(ins.x))], ([o0, x0]) => {
      const o = a.pointer(o0 as number, 0), xr = a.pointer(x0 as number, 0);
      const acc = a.local('v128');
      a.repeat(Math.floor(last.d / 2), [{ local: o, bytes: 16 }, { local: xr, bytes: 16 }], () => {
        splat(a, 0); a.set(acc);
        if (!empty) walk(a, red, [a.pointer(xr, 0)], ([xo]) => { a.get(acc); a.get(xo as number); a.vload(0); a.v(simd.f64x2Add); a.set(acc); });
        a.get(o); a.get(acc);
        if (ins.op === 'mean') { splat(a, ins.count); a.v(simd.f64x2Div); }
        a.vstore(0);
      });
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
          a.get(v); a.get(m); a.emit(op.f64Sub); call(a, fn.mexp);
          a.emit(op.else);
          a.f64(1); a.f64(0); a.get(v); a.get(m); a.emit(op.f64Eq, op.select);
          a.emit(op.end);
          a.emit(op.f64Add); a.set(s);
        });
        // NaN ? NaN : m === −∞ ? −∞ : m + log s
        a.get(o as number);
        a.get(m); a.f64(-Infinity); a.get(m); a.get(s); call(a, fn.log); a.emit(op.f64Add);
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
