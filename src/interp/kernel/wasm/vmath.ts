/**
 * exp and tanh on two float64 lanes, the same arithmetic as `fastExp` and `fastTanh`
 * (`../../fastMath.ts`) operation for operation, so every lane equals the scalar result bit for
 * bit. The table reads of exp are per lane; lanes off the fast path (NaN, ±Infinity, overflow,
 * subnormal results, |x| ≥ 22 for tanh) are recomputed by calling the imported scalar function,
 * after the vector code ran on clamped inputs (so no lane reads outside the tables).
 */
import { op, simd, type Asm } from './asm.ts';

/** Where the vector math finds its tables and scalar fallbacks. */
export interface VMathEnv {
  readonly a: Asm;
  /** Byte address of `twoPow` (head, tail pairs) and of `pow2` (2^m at m + 1074). */
  readonly twoPowBytes: number;
  readonly pow2Bytes: number;
  /** Function indices of the imported scalar exp and tanh. */
  readonly expFn: number;
  readonly tanhFn: number;
}

/**
 * Pushes the constant `c` in both lanes (from a local hoisted to the function's start).
 * @example splat(a, 0.5) // stack: [..., v128 [0.5, 0.5]]
 */
export const splat = (a: Asm, c: number): void => a.vconst(c);

/** Pushes the 64-bit integer `n` in both lanes. */
const i64x2Const = (a: Asm, n: number): void => {
  const lane = Array.from(new Uint8Array(BigInt64Array.of(BigInt(n)).buffer));
  a.v(simd.const, ...lane, ...lane);
};

/** Pushes `x op c` for a vector local `x`. */
const withConst = (a: Asm, x: number, simdOp: number, c: number): void => { a.get(x); splat(a, c); a.v(simdOp); };

/**
 * e^y for a vector local `y` already clamped into [−708, 709]; returns the local with the result.
 * @example const e = expCore(env, y) // e holds [e^y0, e^y1]
 */
const expCore = (env: VMathEnv, y: number): number => {
  const { a } = env;
  const kf = a.local('v128'), k = a.local('v128'), r = a.local('v128'), r2 = a.local('v128'), q = a.local('v128');
  withConst(a, y, simd.f64x2Mul, 184.6649652337873); splat(a, 6755399441055744); a.v(simd.f64x2Add);
  splat(a, 6755399441055744); a.v(simd.f64x2Sub); a.set(kf);
  a.get(kf); a.v(simd.i32x4TruncSatF64x2SZero); a.set(k);
  a.get(y); withConst(a, kf, simd.f64x2Mul, 0.00541521234663378); a.v(simd.f64x2Sub);
  withConst(a, kf, simd.f64x2Mul, 1.4907929134926466e-12); a.v(simd.f64x2Sub); a.set(r);
  a.get(r); a.get(r); a.v(simd.f64x2Mul); a.set(r2);
  // q = r + r2·((0.5 + r·c3) + r2·(c4 + r·c5))
  a.get(r); a.get(r2);
  splat(a, 0.5); withConst(a, r, simd.f64x2Mul, 0.16666666666666666); a.v(simd.f64x2Add);
  a.get(r2); splat(a, 0.041666666666666664); withConst(a, r, simd.f64x2Mul, 0.008333333333333333); a.v(simd.f64x2Add);
  a.v(simd.f64x2Mul); a.v(simd.f64x2Add); a.v(simd.f64x2Mul); a.v(simd.f64x2Add); a.set(q);
  // 2^(k >> 7) from its bits: every lane that is kept has a normal result (k >> 7 ≥ −1022).
  const pw = a.local('v128');
  a.get(k); a.v(simd.i64x2ExtendLowI32x4S); a.i32(7); a.v(simd.i64x2ShrS);
  i64x2Const(a, 1023); a.v(simd.i64x2Add); a.i32(52); a.v(simd.i64x2Shl); a.set(pw);
  // Each lane's (head, tail) pair of 2^(j/128) in one load, then heads and tails regrouped.
  const pairs = [0, 1].map((l) => {
    const pr = a.local('v128');
    a.get(k); a.v(simd.i32x4ExtractLane, l); a.i32(127); a.emit(op.i32And); a.i32(4); a.emit(op.i32Shl);
    a.vload(env.twoPowBytes); a.set(pr);
    return pr;
  });
  const t = a.local('v128'), tt = a.local('v128');
  a.get(pairs[0] as number); a.get(pairs[1] as number); a.v(simd.shuffle, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23); a.set(t);
  a.get(pairs[0] as number); a.get(pairs[1] as number); a.v(simd.shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31); a.set(tt);
  const out = a.local('v128');
  a.get(t); a.get(tt); a.get(t); a.get(q); a.v(simd.f64x2Mul); a.v(simd.f64x2Add); a.v(simd.f64x2Add);
  a.get(pw); a.v(simd.f64x2Mul); a.set(out);
  return out;
};

/** Replaces the lanes of `out` flagged in the i32 local `mask` (bit per lane) by `fn(x lane)`. */
const fixLanes = (a: Asm, mask: number, x: number, out: number, fn: number): void => {
  a.get(mask); a.emit(op.if, 0x40);
  for (const l of [0, 1]) {
    a.get(mask); a.i32(1 << l); a.emit(op.i32And); a.emit(op.if, 0x40);
    a.get(out); a.get(x); a.v(simd.f64x2ExtractLane, l); a.call(fn); a.v(simd.f64x2ReplaceLane, l); a.set(out);
    a.emit(op.end);
  }
  a.emit(op.end);
};

/**
 * Pushes e^x for the vector local `x` (lanes as `fastExp`).
 * @example vexp(env, x) // stack: [..., v128]
 */
export const vexp = (env: VMathEnv, x: number): void => {
  const { a } = env;
  const y = a.local('v128'), mask = a.local('i32');
  withConst(a, x, simd.f64x2Max, -708); splat(a, 709); a.v(simd.f64x2Min); a.set(y);
  const out = expCore(env, y);
  // Lanes not in (−708, 709), NaN included.
  withConst(a, x, simd.f64x2Gt, -708); withConst(a, x, simd.f64x2Lt, 709); a.v(simd.and); a.v(simd.not);
  a.v(simd.i64x2Bitmask); a.set(mask);
  fixLanes(a, mask, x, out, env.expFn);
  a.get(out);
};

/** Lambert's convergent for |x| < 0.85, as `fastTanh`; pushes the result. */
const rational = (a: Asm, x: number): void => {
  const z = a.local('v128'), z2 = a.local('v128'), s = a.local('v128'), p = a.local('v128');
  a.get(x); a.get(x); a.v(simd.f64x2Mul); a.set(z);
  a.get(z); a.get(z); a.v(simd.f64x2Mul); a.set(z2);
  splat(a, 11486475); withConst(a, z, simd.f64x2Mul, 810810); a.v(simd.f64x2Add);
  a.get(z2); splat(a, 12870); withConst(a, z, simd.f64x2Mul, 44); a.v(simd.f64x2Add); a.v(simd.f64x2Mul);
  a.v(simd.f64x2Add); a.set(s);
  splat(a, 34459425); withConst(a, z, simd.f64x2Mul, 16216200); a.v(simd.f64x2Add);
  a.get(z2); splat(a, 945945); withConst(a, z, simd.f64x2Mul, 13860); a.v(simd.f64x2Add);
  withConst(a, z2, simd.f64x2Mul, 45); a.v(simd.f64x2Add); a.v(simd.f64x2Mul);
  a.v(simd.f64x2Add); a.set(p);
  // x === 0 ? x : x − x·((z·s)/p)
  a.get(x);
  a.get(x); a.get(x); a.get(z); a.get(s); a.v(simd.f64x2Mul); a.get(p); a.v(simd.f64x2Div); a.v(simd.f64x2Mul); a.v(simd.f64x2Sub);
  withConst(a, x, simd.f64x2Eq, 0);
  a.v(simd.bitselect);
};

/**
 * Pushes tanh x for the vector local `x` (lanes as `fastTanh`). When both lanes are below 0.85,
 * only the rational form runs; otherwise both forms run and a mask picks per lane.
 * @example vtanh(env, x) // stack: [..., v128]
 */
export const vtanh = (env: VMathEnv, x: number): void => {
  const { a } = env;
  const ab = a.local('v128'), small = a.local('v128'), out = a.local('v128'), y = a.local('v128'), mask = a.local('i32');
  a.get(x); a.v(simd.f64x2Abs); a.set(ab);
  withConst(a, ab, simd.f64x2Lt, 0.85); a.set(small);
  a.get(small); a.v(simd.i64x2AllTrue);
  a.emit(op.if, 0x40);
  rational(a, x); a.set(out);
  a.emit(op.else);
  splat(a, 2); a.get(ab); a.v(simd.f64x2Mul); splat(a, 709); a.v(simd.f64x2Min); a.set(y);
  const e = expCore(env, y);
  // (1 − 2/(e + 1))·(x/|x|): the factor is positive and x/|x| is ±1, so the product is the
  // factor with x's sign bit, exactly; a bit select instead of a division and a multiply.
  a.get(x);
  splat(a, 1); splat(a, 2); withConst(a, e, simd.f64x2Add, 1); a.v(simd.f64x2Div); a.v(simd.f64x2Sub);
  splat(a, -0); a.v(simd.bitselect); a.set(out);
  a.get(small); a.v(simd.anyTrue);
  a.emit(op.if, 0x40);
  rational(a, x); a.get(out); a.get(small); a.v(simd.bitselect); a.set(out);
  a.emit(op.end);
  withConst(a, ab, simd.f64x2Lt, 22); a.v(simd.not); a.v(simd.i64x2Bitmask); a.set(mask);
  fixLanes(a, mask, x, out, env.tanhFn);
  a.emit(op.end);
  a.get(out);
};
