import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { seedRng, type RngState } from '../../src/random/prng.ts';
import {
  formatBatchError, initShuffler, nextBatch, randomBelow, sampleBatch, shuffle, ShufflerStateC, type ShufflerState,
} from '../../src/train/batches.ts';
import { assertProperty } from '../support/property.ts';

const right = <A>(r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  return r.right;
};

/** `count` batches from a seed, threading the state. */
const batches = (seed: number, count: number, n: number, size: number, replace: boolean): { out: number[][]; rng: RngState } => {
  let rng = seedRng(seed);
  const out: number[][] = [];
  for (let k = 0; k < count; k++) {
    const b = right(sampleBatch(rng, n, size, { replace }));
    out.push([...b.indices]);
    rng = b.rng;
  }
  return { out, rng };
};

describe('mini-batches', () => {
  it('same seed, same batches, same final state; another seed differs', () => {
    assert.deepEqual(batches(7, 50, 990, 20, false), batches(7, 50, 990, 20, false));
    assert.notDeepEqual(batches(7, 5, 990, 20, false).out, batches(8, 5, 990, 20, false).out);
  });

  it('without replacement: distinct, in range, uniform-ish', () =>
    assertProperty(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 500 }), fc.nat(500), (seed, n, k) => {
      const size = Math.min(k, n);
      const b = right(sampleBatch(seedRng(seed), n, size, { replace: false }));
      assert.equal(b.indices.length, size);
      assert.equal(new Set(b.indices).size, size);
      assert.ok(b.indices.every((i) => Number.isInteger(i) && i >= 0 && i < n));
    }), { seed: 1, numRuns: 200 }));

  it('a full draw without replacement is a permutation; counts per index are roughly equal', () => {
    const counts = new Array<number>(10).fill(0);
    let rng = seedRng(3);
    for (let k = 0; k < 3000; k++) {
      const b = right(sampleBatch(rng, 10, 3, { replace: false }));
      b.indices.forEach((i) => { counts[i] = (counts[i] ?? 0) + 1; });
      rng = b.rng;
    }
    assert.ok(counts.every((c) => Math.abs(c - 900) < 120), counts.join(' '));
    assert.deepEqual([...right(sampleBatch(seedRng(1), 6, 6, { replace: false })).indices].sort(), [0, 1, 2, 3, 4, 5]);
  });

  it('with replacement: independent uniform draws (unbiased for n not a power of 2)', () => {
    const { out } = batches(11, 200, 3, 150, true);
    const counts = [0, 0, 0];
    for (const i of out.flat()) counts[i] = (counts[i] ?? 0) + 1;
    assert.ok(counts.every((c) => Math.abs(c - 10000) < 400), counts.join(' '));
    const [x] = randomBelow(seedRng(0), 2 ** 32);
    assert.ok(x >= 0 && x < 2 ** 32);
  });

  it('impossible requests are errors', () => {
    const msg = (r: E.Either<Parameters<typeof formatBatchError>[0], unknown>): string => (E.isLeft(r) ? formatBatchError(r.left) : 'ok');
    assert.match(msg(sampleBatch(seedRng(0), 5, 6, { replace: false })), /cannot draw 6 distinct indices from 5/);
    assert.match(msg(sampleBatch(seedRng(0), 0, 1, { replace: true })), /empty population/);
    assert.match(msg(sampleBatch(seedRng(0), 5, 1.5, { replace: true })), /batch size/);
    assert.equal(msg(sampleBatch(seedRng(0), 0, 0, { replace: false })), 'ok');
    assert.match(msg(initShuffler(seedRng(0), 5, 6, { dropLast: true })), /never yield/);
  });

  it('shuffle is a Fisher–Yates permutation, reproducible from the seed', () => {
    const [p, s] = shuffle(seedRng(5), 100);
    assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(shuffle(seedRng(5), 100), [p, s]);
    assert.notDeepEqual(p, Array.from({ length: 100 }, (_, i) => i));
  });

  it('shuffler: each epoch visits every index once; the last batch holds the remainder', () => {
    let sh = right(initShuffler(seedRng(9), 10, 4));
    const epochs: number[][] = [[], [], []];
    const sizes: number[] = [];
    for (let k = 0; k < 9; k++) {
      const r = nextBatch(sh);
      epochs[r.shuffler.epoch]?.push(...r.indices);
      sizes.push(r.indices.length);
      sh = r.shuffler;
    }
    assert.deepEqual(sizes, [4, 4, 2, 4, 4, 2, 4, 4, 2]);
    for (const e of epochs) assert.deepEqual([...e].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.notDeepEqual(epochs[0], epochs[1]);
  });

  it('shuffler with dropLast serves whole batches only', () => {
    let sh = right(initShuffler(seedRng(9), 10, 4, { dropLast: true }));
    const sizes: number[] = [];
    for (let k = 0; k < 6; k++) {
      const r = nextBatch(sh);
      sizes.push(r.indices.length);
      sh = r.shuffler;
    }
    assert.deepEqual(sizes, [4, 4, 4, 4, 4, 4]);
    assert.equal(sh.epoch, 2);
  });

  it('shuffler state survives JSON and resumes the identical sequence', () => {
    const take = (s0: ShufflerState, k: number): { seq: number[][]; s: ShufflerState } => {
      let s = s0;
      const seq: number[][] = [];
      for (let i = 0; i < k; i++) {
        const r = nextBatch(s);
        seq.push([...r.indices]);
        s = r.shuffler;
      }
      return { seq, s };
    };
    const s0 = right(initShuffler(seedRng(21), 37, 5));
    const straight = take(s0, 20).seq;
    const first = take(s0, 7);
    const restored = right(ShufflerStateC.decode(JSON.parse(JSON.stringify(first.s))));
    assert.deepEqual([...first.seq, ...take(restored, 13).seq], straight);
    const bad = { ...JSON.parse(JSON.stringify(first.s)), order: [0, 0, ...first.s.order.slice(2)] };
    assert.ok(E.isLeft(ShufflerStateC.decode(bad)));
  });
});
