/**
 * The latent-ODE spirals: shapes and split, the Archimedean geometry and orientation of the
 * clean paths, the noise level, the irregular subsample, determinism, and the batch helpers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seedRng } from '../../src/random/prng.ts';
import {
  observationsOf, observedMask, paperObservationCounts, spiralPoint, spirals, spiralTimeStep, timeMajor,
  type SpiralSet,
} from '../../src/latent/spirals.ts';
import { assertProperty } from '../support/property.ts';

const sizeOf = (s: SpiralSet): number => s.theta0.length;

/** Checks every invariant of one set; `T` times, `K` observed points. */
const checkSet = (s: SpiralSet, a: number, b: number): void => {
  const N = sizeOf(s), T = s.times.length, K = s.observedCount, To = s.observeSteps;
  assert.deepEqual(s.clean.shape, [N, T, 2]);
  assert.deepEqual(s.noisy.shape, [N, T, 2]);
  assert.equal(s.observed.length, N * K);
  assert.equal(s.mask.length, N * T);
  for (let i = 0; i < N; i++) {
    const idx = Array.from(s.observed.subarray(i * K, (i + 1) * K));
    idx.forEach((k, j) => {
      assert.ok(k >= 0 && k < To, `index ${k} outside the observation region`);
      if (j > 0) assert.ok(k > (idx[j - 1] as number), 'indices must be sorted and distinct');
    });
    const m = Array.from(s.mask.subarray(i * T, (i + 1) * T));
    assert.deepEqual(m.flatMap((v, k) => (v === 1 ? [k] : [])), idx);
    const cw = s.clockwise[i] === 1;
    for (let k = 0; k < T; k++) {
      const o = (i * T + k) * 2;
      const [x, y] = spiralPoint({ a, b }, s.theta0[i] as number, s.times[k] as number, cw);
      assert.equal(s.clean.data[o], x);
      assert.equal(s.clean.data[o + 1], y);
      // On the Archimedean spiral: |p| = a + b·θ.
      assert.ok(Math.abs(Math.hypot(x, y) - (a + b * ((s.theta0[i] as number) + (s.times[k] as number)))) < 1e-12);
      if (k > 0) {
        // Orientation: the angular momentum x·dy − y·dx is negative exactly for clockwise paths.
        const px = s.clean.data[o - 2] as number, py = s.clean.data[o - 1] as number;
        assert.equal(px * (y - py) - py * (x - px) < 0, cw);
      }
    }
  }
};

test('defaults: 1000 spirals (800/200), 200 times (100 observed region + 100 extrapolation), half clockwise', () => {
  const [d, next] = spirals({}, seedRng(0));
  assert.equal(sizeOf(d.train), 800);
  assert.equal(sizeOf(d.test), 200);
  assert.equal(d.train.times.length, 200);
  assert.equal(d.train.observeSteps, 100);
  assert.equal(d.train.observedCount, 100);
  assert.equal(d.train.times[1], spiralTimeStep);
  assert.ok(Math.abs((d.train.times[199] as number) - 199 * spiralTimeStep) < 1e-12);
  const cw = [...d.train.clockwise, ...d.test.clockwise].reduce((p, q) => p + q, 0);
  assert.equal(cw, 500);
  // Both orientations in both sets (a shuffled list, not a split by orientation).
  const cwTest = d.test.clockwise.reduce((p, q) => p + q, 0);
  assert.ok(cwTest > 60 && cwTest < 140, `${cwTest} clockwise in the test set`);
  checkSet(d.train, 0, 0.3);
  checkSet(d.test, 0, 0.3);
  // Start angles within [0.6π, 6π − 199Δ], so every window lies on the spiral.
  for (const th of [...d.train.theta0, ...d.test.theta0]) assert.ok(th >= 0.6 * Math.PI && th <= 6 * Math.PI - 199 * spiralTimeStep);
  assert.notDeepEqual(next, seedRng(0));
});

test('noise: noisy − clean is N(0, noiseStd²) within sampling error', () => {
  const [d] = spirals({ count: 300, noiseStd: 0.25 }, seedRng(1));
  let n = 0, s1 = 0, s2 = 0;
  for (const set of [d.train, d.test])
    set.noisy.data.forEach((v, i) => {
      const e = v - (set.clean.data[i] as number);
      n++;
      s1 += e;
      s2 += e * e;
    });
  const mean = s1 / n, std = Math.sqrt(s2 / n - mean * mean);
  // n = 120,000: the std of the sample mean is 0.25/√n ≈ 7e-4, of the sample std ≈ 5e-4.
  assert.ok(Math.abs(mean) < 4e-3, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.25) < 3e-3, `std ${std}`);
  const [quiet] = spirals({ count: 4, noiseStd: 0, testCount: 1 }, seedRng(1));
  assert.deepEqual(quiet.train.noisy.data, quiet.train.clean.data);
});

test('the paper\'s observation counts 30 / 50 / 100: sorted distinct subsamples of the first 100 times', () => {
  for (const K of paperObservationCounts) {
    const [d] = spirals({ count: 40, observed: K, testCount: 10 }, seedRng(K));
    assert.equal(d.train.observedCount, K);
    checkSet(d.train, 0, 0.3);
    checkSet(d.test, 0, 0.3);
  }
  // Subsamples differ between trajectories.
  const [d] = spirals({ count: 10, observed: 30, testCount: 0 }, seedRng(3));
  const first = Array.from(d.train.observed.subarray(0, 30)), second = Array.from(d.train.observed.subarray(30, 60));
  assert.notDeepEqual(first, second);
});

test('property: every invariant holds for random sizes, shapes and seeds; equal states give equal data', () => {
  assertProperty(
    fc.property(
      fc.record({
        count: fc.integer({ min: 1, max: 12 }), observeSteps: fc.integer({ min: 1, max: 30 }), extrapolateSteps: fc.integer({ min: 0, max: 20 }),
        a: fc.double({ min: 0, max: 1, noNaN: true }), b: fc.double({ min: 0.05, max: 1, noNaN: true }), seed: fc.integer({ min: 0, max: 2 ** 31 }),
        k: fc.double({ min: 0, max: 1, noNaN: true }), test: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
      (o) => {
        const observed = 1 + Math.floor(o.k * (o.observeSteps - 1));
        const testCount = Math.floor(o.test * o.count);
        const opts = { count: o.count, observeSteps: o.observeSteps, extrapolateSteps: o.extrapolateSteps, a: o.a, b: o.b, observed, testCount };
        const [d, s1] = spirals(opts, seedRng(o.seed));
        assert.equal(sizeOf(d.train) + sizeOf(d.test), o.count);
        assert.equal(sizeOf(d.test), testCount);
        checkSet(d.train, o.a, o.b);
        checkSet(d.test, o.a, o.b);
        const cw = [...d.train.clockwise, ...d.test.clockwise].reduce((p, q) => p + q, 0);
        assert.equal(cw, Math.floor(o.count / 2));
        const [again, s2] = spirals(opts, seedRng(o.seed));
        assert.deepEqual(again, d);
        assert.deepEqual(s2, s1);
      },
    ),
    { seed: 5, numRuns: 60 },
  );
});

test('options out of range throw RangeError with a message', () => {
  const rng = seedRng(0);
  assert.throws(() => spirals({ observed: 101 }, rng), /observed must be an integer in \[1, 100\]/);
  assert.throws(() => spirals({ count: 0 }, rng), RangeError);
  assert.throws(() => spirals({ testCount: 1001 }, rng), RangeError);
  assert.throws(() => spirals({ noiseStd: -1 }, rng), RangeError);
  assert.throws(() => spirals({ extrapolateSteps: 2000 }, rng), /does not fit/);
});

test('batch helpers: observations, time-major values and the mask agree with the set', () => {
  const [d] = spirals({ count: 20, observed: 7, testCount: 5 }, seedRng(9));
  const s = d.train, rows = [4, 0, 11], T = s.times.length, K = 7;
  const obs = observationsOf(s, rows);
  assert.equal(obs.rows, 3);
  rows.forEach((r, b) => {
    for (let j = 0; j < K; j++) {
      const k = s.observed[r * K + j] as number;
      assert.equal(obs.times[b * K + j], s.times[k]);
      assert.equal(obs.values[(b * K + j) * 2 + 1], s.noisy.data[(r * T + k) * 2 + 1]);
    }
  });
  const xs = timeMajor(s, s.noisy, rows);
  assert.deepEqual(xs.shape, [100, 3, 2]);
  assert.equal(xs.data[(5 * 3 + 2) * 2], s.noisy.data[(11 * T + 5) * 2]);
  const ext = timeMajor(s, s.clean, rows, 100, 100);
  assert.equal(ext.data[(0 * 3 + 1) * 2 + 1], s.clean.data[(0 * T + 100) * 2 + 1]);
  const m = observedMask(s, rows);
  assert.deepEqual(m.shape, [100, 3, 1]);
  assert.equal(m.data.reduce((p, q) => p + q, 0), 3 * K);
  for (let j = 0; j < K; j++) assert.equal(m.data[(s.observed[4 * K + j] as number) * 3 + 0], 1);
  assert.throws(() => observationsOf(s, [15]), RangeError);
  assert.throws(() => timeMajor(s, s.clean, [0], 150, 100), RangeError);
});
