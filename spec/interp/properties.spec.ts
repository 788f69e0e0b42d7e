/**
 * Cross-interpreter properties over random well-shaped expressions (fixed seeds):
 * toTfjs agrees with evalF64 within float32 tolerance; simplify preserves values with NaN and ±∞
 * among the inputs; interning is canonical; printing is linear in the DAG size.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import * as tf from '@tensorflow/tfjs';
import * as C from '../../src/dsl/construct.ts';
import { children, type Node } from '../../src/dsl/node.ts';
import { evalF64, type F64Env } from '../../src/interp/evalF64.ts';
import { compileTfjs } from '../../src/interp/toTfjs.ts';
import { selectBackend } from '../../src/interp/backend.ts';
import { simplify } from '../../src/interp/simplify.ts';
import { printText } from '../../src/interp/printText.ts';
import { dagSize, topoOrder } from '../../src/interp/traverse.ts';
import { anyExpr, exprVars } from '../arbitraries/expr.ts';
import { assertProperty } from '../support/property.ts';
import { froundConsts, rebuild } from '../support/rebuild.ts';
import { seedRng, nextUniform, type RngState } from '../../src/random/prng.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';

const BATCH = 4;
const shapes: Record<string, number[]> = { s: [], a: [3], M: [2, 3], Z: [BATCH, 3], Q: [3, 3] };

/** Inputs in [-2, 2]; with `special`, some entries are NaN, ±∞, 0 or -0. */
const inputsFor = (seed: number, special: boolean): F64Env => {
  let s: RngState = seedRng(seed);
  const u = (): number => {
    const [v, s1] = nextUniform(s);
    s = s1;
    return v;
  };
  const specials = [NaN, Infinity, -Infinity, 0, -0];
  return Object.fromEntries(Object.values(exprVars).map((v) => {
    const shape = shapes[v.name]!;
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float64Array.from({ length: n }, () => (special && u() < 0.25 ? specials[Math.floor(u() * specials.length)]! : 4 * u() - 2));
    return [v.name, { shape, data } satisfies F64Tensor];
  }));
};

const ev = (n: Node, env: F64Env): Float64Array => {
  const r = evalF64([n], env, { batch: BATCH });
  if (E.isLeft(r)) throw new Error(`evalF64 failed: ${r.left._tag}`);
  return r.right[0]!.data;
};

before(async () => {
  const b = await selectBackend({ backend: 'cpu' });
  assert.ok(E.isRight(b));
});

test('toTfjs agrees with evalF64 within float32 tolerance', () => {
  assertProperty(
    fc.property(anyExpr, fc.integer({ min: 0, max: 1e6 }), (e0, seed) => {
      const e = froundConsts(e0);
      const env = Object.fromEntries(Object.entries(inputsFor(seed, false)).map(([k, v]) => [k, { shape: v.shape, data: v.data.map(Math.fround) }]));
      const want = ev(e, env);
      const prog = compileTfjs([e]);
      const tenv = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, tf.tensor(Float32Array.from(v.data), [...v.shape], 'float32')]));
      const r = prog.run(tenv, { batch: BATCH });
      assert.ok(E.isRight(r));
      const got = r.right[0]!.dataSync();
      r.right.forEach((t) => t.dispose());
      Object.values(tenv).forEach((t) => t.dispose());
      prog.dispose();
      // Float32 rounding grows with the magnitudes the expression passes through; scale by them.
      const scale = Math.max(1, ...Array.from(want, Math.abs).filter(Number.isFinite));
      for (let i = 0; i < want.length; i++) {
        const w = want[i]!, g = got[i]!;
        if (Number.isNaN(w)) continue; // float32 overflow/underflow paths may differ only where f64 is NaN
        assert.ok(Math.abs(w - g) <= 2e-3 * scale || (w === g), `element ${i}: f64 ${w} vs tfjs ${g} for ${printText(e)}`);
      }
    }),
    { seed: 20261128, numRuns: 150 },
  );
});

/** Random identity decorations (x+0, 1·x, --x, x/1, x^1, reshape/transpose round trips, constant subtrees). */
const decorate = (root: Node, seed: number): Node => {
  let s = seedRng(seed, 'decorate');
  const u = (): number => {
    const [v, s1] = nextUniform(s);
    s = s1;
    return v;
  };
  const ok = (r: E.Either<string, Node>): Node => (E.isRight(r) ? r.right : (() => { throw new Error(r.left); })());
  const memo = new Map<number, Node>();
  for (const n of topoOrder([root])) {
    const kids = children(n).map((k) => memo.get(k.id)!);
    let m = rebuild(n, kids);
    if (u() < 0.35) {
      const pick = Math.floor(u() * 8);
      const zero = C.scalar(u() < 0.5 ? 0 : -0), one = C.scalar(1);
      m = pick === 0 ? ok(C.binary('add', m, zero))
        : pick === 1 ? ok(C.binary('mul', one, m))
        : pick === 2 ? ok(C.unary('neg', ok(C.unary('neg', m))))
        : pick === 3 ? ok(C.binary('div', m, one))
        : pick === 4 ? ok(C.binary('pow', m, one))
        : pick === 5 ? ok(C.reshape(m, m.shape))
        : pick === 6 ? ok(C.transpose(ok(C.transpose(m))))
        : ok(C.binary('add', m, ok(C.binary('mul', C.scalar(u()), C.scalar(0)))));
    }
    memo.set(n.id, m);
  }
  return memo.get(root.id)!;
};

/** Same value, with NaN = NaN and 0 = -0 (x + 0 → x may flip the sign of a zero). */
const sameValue = (a: number, b: number): boolean => (Number.isNaN(a) && Number.isNaN(b)) || a === b;

test('simplify preserves values, NaN and ±∞ included', () => {
  let rewrote = 0;
  assertProperty(
    fc.property(anyExpr, fc.integer({ min: 0, max: 1e6 }), (e0, seed) => {
      const e = decorate(e0, seed);
      const [s] = simplify([e]);
      if (dagSize([s!]) < dagSize([e])) rewrote++;
      assert.deepEqual(s!.shape, e.shape);
      for (const special of [false, true]) {
        const env = inputsFor(seed, special);
        const a = ev(e, env), b = ev(s!, env);
        for (let i = 0; i < a.length; i++) assert.ok(sameValue(a[i]!, b[i]!), `element ${i}: ${a[i]} became ${b[i]}\n${printText(e)}\n→ ${printText(s!)}`);
      }
    }),
    { seed: 42, numRuns: 200 },
  );
  assert.ok(rewrote > 100, `simplify shrank only ${rewrote} of 200 decorated expressions`);
});

test('interning is canonical: rebuilding any expression node by node gives the same node', () => {
  assertProperty(
    fc.property(anyExpr, (e) => {
      const memo = new Map<number, Node>();
      for (const n of topoOrder([e])) memo.set(n.id, rebuild(n, children(n).map((k) => memo.get(k.id)!)));
      assert.equal(memo.get(e.id), e);
    }),
    { seed: 7, numRuns: 200 },
  );
});

test('printing is linear in the DAG size', () => {
  assertProperty(
    fc.property(anyExpr, (e) => {
      const text = printText(e);
      // Each node prints in bounded space; a small constant prints each of its elements.
      const constElems = topoOrder([e]).reduce((k, n) => k + (n.kind === 'const' && n.value.length <= 8 ? n.value.length : 0), 0);
      assert.ok(text.length <= 80 * dagSize([e]) + 30 * constElems + 40, `${text.length} chars for ${dagSize([e])} nodes`);
    }),
    { seed: 11, numRuns: 200 },
  );
});
