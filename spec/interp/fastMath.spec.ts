/**
 * Fluxion's exp, tanh, sigmoid and softplus (src/interp/fastMath.ts) against exact values
 * computed with BigInt fixed point (error in ulps of the exact result), against V8's Math.*
 * (distance in representable doubles), and on the special values: ±0, ±Infinity, NaN, overflow,
 * underflow into subnormals and to 0, tanh saturating to exactly ±1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fastExp, fastSigmoid, fastSoftplus, fastTanh } from '../../src/interp/fastMath.ts';

// --- exact references: fixed point with 320 fraction bits ---
const P = 320n;
const ONE = 1n << P;
const mul = (a: bigint, b: bigint): bigint => (a * b) >> P;
/** ln 2 = 2·atanh(1/3). */
const LN2 = (() => {
  let s = 0n, pw = ONE / 3n;
  const ninth = ONE / 9n;
  for (let n = 0n; pw !== 0n; n++) {
    s += pw / (2n * n + 1n);
    pw = mul(pw, ninth);
  }
  return 2n * s;
})();
/** A double as exact fixed point (|x| ≥ 2^-320 or 0). */
const toFixed = (x: number): bigint => {
  let a = Math.abs(x), e = 0;
  while (a !== Math.floor(a)) { a *= 2; e++; }
  const v = (BigInt(a) << P) >> BigInt(e);
  return x < 0 ? -v : v;
};
/** e^x = mant·2^k with mant in fixed point. */
const expParts = (x: number): { k: number; mant: bigint } => {
  const X = toFixed(x);
  const k = X / LN2;
  const r = X - k * LN2;
  let sum = ONE, term = ONE;
  for (let n = 1n; term !== 0n; n++) {
    term = mul(term, r) / n;
    sum += term;
  }
  return { k: Number(k), mant: sum };
};
/** The exact value as a BigInt scaled by 2^S (S fraction bits, S ≥ P), from fixed point v·2^k. */
const scaled = (v: bigint, k: number, S: number): bigint => {
  const s = BigInt(S) - P + BigInt(k);
  return s >= 0n ? v << s : v >> -s;
};
/** A double scaled by 2^S, exactly. */
const dbl = (x: number, S: number): bigint => {
  let a = Math.abs(x), e = 0;
  while (a !== Math.floor(a)) { a *= 2; e++; }
  const v = e <= S ? BigInt(a) << BigInt(S - e) : BigInt(a) >> BigInt(e - S);
  return x < 0 ? -v : v;
};
/** |got − exact| in ulps of the (normal) exact value v·2^k. */
const ulps = (got: number, v: bigint, k: number): number => {
  const e = Math.floor(Math.log2(Math.abs(Number(v >> (P - 60n))))) - 60 + k;
  const S = 52 - e + 8; // 8 extra bits below the ulp
  const d = dbl(got, S) - scaled(v, k, S);
  return Math.abs(Number(d)) / 256;
};

const expUlps = (x: number): number => {
  const { k, mant } = expParts(x);
  return ulps(fastExp(x), mant, k);
};
const tanhUlps = (x: number): number => {
  const { k, mant } = expParts(2 * x); // tanh x = (e^{2x} − 1)/(e^{2x} + 1)
  const e2 = k >= 0 ? mant << BigInt(k) : mant >> BigInt(-k);
  return ulps(fastTanh(x), ((e2 - ONE) << P) / (e2 + ONE), 0);
};

/** Distance between two doubles in representable steps (0 when equal, ±0 equal). */
const steps = (a: number, b: number): number => {
  const key = (x: number): bigint => {
    const v = new BigInt64Array(Float64Array.of(x).buffer)[0] as bigint;
    return v < 0n ? -(v & 0x7fffffffffffffffn) : v;
  };
  const d = key(a) - key(b);
  return Number(d < 0n ? -d : d);
};

const seeded = { seed: 20261129, numRuns: 400 };

test('exp is within 0.51 ulp of the exact value on the normal range', () => {
  let worst = 0;
  fc.assert(fc.property(fc.double({ min: -708, max: 709.7, noNaN: true }), (x) => {
    const u = expUlps(x);
    worst = Math.max(worst, u);
    assert.ok(u <= 0.51, `exp(${x}): ${u} ulp`);
  }), seeded);
  for (const x of [1e-300, -1e-300, 1e-17, 0.5, -0.5, 1, 2, 10, -10, 700, -700]) assert.ok(expUlps(x) <= 0.51, `exp(${x})`);
  assert.ok(worst > 0, 'the reference is not trivially equal');
});

test('tanh is within one ulp of the exact value, near 0 too (below 2^-27 it returns x, checked with the specials)', () => {
  fc.assert(fc.property(fc.double({ min: -20, max: 20, noNaN: true }).filter((x) => Math.abs(x) > 1e-12), (x) => {
    const u = tanhUlps(x);
    assert.ok(u <= 1, `tanh(${x}): ${u} ulp`);
  }), seeded);
  fc.assert(fc.property(fc.double({ min: 1e-12, max: 1.5, noNaN: true }), (x) => {
    assert.ok(tanhUlps(x) <= 1, `tanh(${x})`);
  }), seeded);
  for (const x of [0.85, -0.85, 0.8499999999999999, 0.625, 1, 3, 21.9]) assert.ok(tanhUlps(x) <= 1, `tanh(${x})`);
});

test('exp, tanh, sigmoid, softplus stay within a few representable steps of Math.*', () => {
  const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
  const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
  fc.assert(fc.property(fc.double({ min: -745, max: 709.7, noNaN: true }), (x) => {
    assert.ok(steps(fastExp(x), Math.exp(x)) <= 2, `exp(${x}) ${fastExp(x)} vs ${Math.exp(x)}`);
  }), seeded);
  fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
    assert.ok(steps(fastTanh(x), Math.tanh(x)) <= 3, `tanh(${x})`);
    assert.ok(steps(fastSigmoid(x), sigmoid(x)) <= 4, `sigmoid(${x})`);
    assert.ok(steps(fastSoftplus(x), softplus(x)) <= 4, `softplus(${x})`);
  }), seeded);
  fc.assert(fc.property(fc.double({ min: -40, max: 40, noNaN: true }), (x) => {
    assert.ok(steps(fastTanh(x), Math.tanh(x)) <= 3, `tanh(${x})`);
    assert.ok(steps(fastSigmoid(x), sigmoid(x)) <= 4, `sigmoid(${x})`);
    assert.ok(steps(fastSoftplus(x), softplus(x)) <= 4, `softplus(${x})`);
  }), seeded);
});

test('special values: signed zeros, infinities, NaN, overflow, underflow, saturation', () => {
  assert.ok(Object.is(fastTanh(0), 0) && Object.is(fastTanh(-0), -0));
  for (const x of [5e-324, -5e-324, 1e-300, -1e-200, 1e-9]) assert.ok(Object.is(fastTanh(x), x), `tanh(${x}) = x`);
  assert.equal(fastTanh(Infinity), 1);
  assert.equal(fastTanh(-Infinity), -1);
  for (const x of [22, 30, 1e10, Number.MAX_VALUE]) {
    assert.equal(fastTanh(x), 1);
    assert.equal(fastTanh(-x), -1);
  }
  assert.equal(fastTanh(19.5), 1, 'rounds to 1 before the cutoff too');
  for (const f of [fastExp, fastTanh, fastSigmoid, fastSoftplus]) assert.ok(Number.isNaN(f(NaN)));
  assert.equal(fastExp(0), 1);
  assert.equal(fastExp(-0), 1);
  assert.equal(fastExp(Infinity), Infinity);
  assert.ok(Object.is(fastExp(-Infinity), 0));
  assert.equal(fastExp(709.78), Math.exp(709.78));
  assert.equal(fastExp(709.8), Infinity);
  assert.equal(fastExp(1000), Infinity);
  assert.equal(fastExp(-746), 0);
  assert.equal(fastExp(-1e10), 0);
  // Subnormal results: one rounding, so at most one subnormal step from Math.exp.
  for (let x = -745.13; x < -708; x += 0.37) assert.ok(steps(fastExp(x), Math.exp(x)) <= 1, `exp(${x})`);
  assert.equal(fastExp(-745.1332191019411), 5e-324);
  assert.equal(fastSigmoid(0), 0.5);
  assert.equal(fastSigmoid(Infinity), 1);
  assert.equal(fastSigmoid(-Infinity), 0);
  assert.equal(fastSigmoid(-800), 0);
  assert.equal(fastSoftplus(-Infinity), 0);
  assert.equal(fastSoftplus(Infinity), Infinity);
  assert.equal(fastSoftplus(800), 800);
  assert.equal(fastSoftplus(0), Math.LN2);
});
