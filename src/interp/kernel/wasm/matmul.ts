/**
 * Matmul schedules in WebAssembly. Every output sums its products over k in increasing order
 * from 0, in one accumulator, so results equal the JavaScript kernel's and `evalF64`'s bit for
 * bit whatever the schedule: register tiles of rows × lane pairs over contiguous rows of y
 * (packed into a scratch block first when y is read across), lane pairs over pairs of rows when x
 * is stored transposed and n is small (parameter gradients), scalar rows otherwise.
 */
import type { MatmulInstr, ValueId } from '../tape.ts';
import { op, simd, type Asm, type Step } from './asm.ts';
import { levelsOf } from '../levels.ts';
import { ptr, walk, type Addr } from './loops.ts';
import { splat } from './vmath.ts';

/** What the matmul emitter needs from its context. */
export interface MatmulCtx {
  readonly a: Asm;
  readonly addr: (v: ValueId) => Addr;
  /** Byte address of the packing scratch block. */
  readonly scratchBytes: number;
}

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
    // The odd column, y column n−1 (pyc and poc now point at it), in scalar registers.
    if (n % 2 === 1) scalarCols(a, rowsHere, k, 1, n, { x: px0, xr, xc }, { y: pyc, yr, yc: 1 }, poc);
  };
  const pxr = a.pointer(x, 0), por = a.pointer(out, 0);
  a.repeat(Math.floor(m / R), [{ local: pxr, bytes: R * xr * 8 }, { local: por, bytes: R * n * 8 }], () => tile(R, pxr, por));
  if (m % R !== 0) tile(m % R, pxr, por);
};

/**
 * `out[m,n] = x·y` for x stored transposed (rows of x adjacent, as in a parameter gradient
 * `hᵀ·g`) and few columns: lane pairs run over pairs of rows, in blocks of up to 8 rows, each
 * output still summed over k in order. An odd last row runs in scalar registers.
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
  if (rest % 2 === 1) scalarCols(a, 1, k, n, n, { x: pxr, xr: 1, xc }, { y, yr, yc }, por);
};

/** An operand's pointer local and its (row, column) strides in elements. */
interface XOperand { readonly x: number; readonly xr: number; readonly xc: number }
interface YOperand { readonly y: number; readonly yr: number; readonly yc: number }

/**
 * `rows` rows by `cols` columns of `out = x·y` in scalar registers, one column at a time; output
 * row r, column j at `po0` + (r·`outRow` + j)·8 bytes.
 */
const scalarCols = (a: Asm, rows: number, k: number, cols: number, outRow: number, x: XOperand, y: YOperand, po0: number): void => {
  for (let j = 0; j < cols; j++) {
    const acc = Array.from({ length: rows }, () => a.local('f64'));
    for (const l of acc) { a.f64(0); a.set(l); }
    const px = a.pointer(x.x, 0), py = a.pointer(y.y, j * y.yc * 8);
    a.repeat(k, [{ local: px, bytes: x.xc * 8 }, { local: py, bytes: y.yr * 8 }], () => {
      const yv = a.local('f64');
      a.get(py); a.load(0); a.set(yv);
      acc.forEach((s, r) => { a.get(s); a.get(px); a.load(r * x.xr * 8); a.get(yv); a.emit(op.f64Mul, op.f64Add); a.set(s); });
    });
    acc.forEach((s, r) => { a.get(po0); a.get(s); a.store((r * outRow + j) * 8); });
  }
};

/** One product of a matmul, from address locals of x, y and out. */
const emitProduct = (c: MatmulCtx, ins: MatmulInstr, x: number, y: number, out: number): void => {
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
  const pxr = a.pointer(x, 0), por = a.pointer(out, 0);
  const block = (rows: number): void => scalarCols(a, rows, k, 1, 1, { x: pxr, xr, xc }, { y, yr, yc }, por);
  a.repeat(Math.floor(m / 8), [{ local: pxr, bytes: 8 * xr * 8 }, { local: por, bytes: 64 }], () => block(8));
  if (m % 8 !== 0) block(m % 8);
};

/**
 * A matmul instruction (a loop over the products of a batched one).
 * @example emitMatmul(ctx, ins) // appends the loops to ctx.a
 */
export const emitMatmul = (c: MatmulCtx, ins: MatmulInstr): void => {
  const { a } = c;
  const x = ptr(a, c.addr(ins.x)), y = ptr(a, c.addr(ins.y)), out = ptr(a, c.addr(ins.out));
  if (ins.batch === 1) { emitProduct(c, ins, x, y, out); return; }
  a.repeat(ins.batch, [{ local: x, bytes: ins.xStep * 8 }, { local: y, bytes: ins.yStep * 8 }, { local: out, bytes: ins.m * ins.n * 8 }],
    () => emitProduct(c, ins, x, y, out));
};
