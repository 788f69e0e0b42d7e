/**
 * FFJORD's 2-D toy densities: deterministic per generator state, exactly n points, and the
 * ranges, modes and symmetries of the Python originals after FFJORD's scaling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkerboard, circles, eightGaussianCenters, eightGaussians, pinwheel, toy2d, toy2dGenerators, toy2dNames,
  twoMoons, twoSpirals,
} from '../../src/data/toy2d.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { seedRng } from '../../src/random/prng.ts';

const rows = (t: F64Tensor): [number, number][] =>
  Array.from({ length: t.shape[0] ?? 0 }, (_, i) => [t.data[2 * i] as number, t.data[2 * i + 1] as number]);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const radius = ([x, y]: readonly [number, number]): number => Math.hypot(x, y);

test('every generator is deterministic per state, returns n points and advances the state', () => {
  for (const name of toy2dNames) {
    for (const n of [0, 1, 7, 200]) {
      const [a, s1] = toy2d(name, n, seedRng(42));
      const [b, s2] = toy2dGenerators[name](n, seedRng(42));
      assert.deepEqual(a.shape, [n, 2], name);
      assert.deepEqual(b.data, a.data, `${name}: same state, same points`);
      assert.deepEqual(s2, s1);
      assert.ok(a.data.every(Number.isFinite), name);
      if (n > 1) {
        assert.notDeepEqual(s1, seedRng(42), `${name}: the state advances`);
        assert.notDeepEqual(toy2d(name, n, s1)[0].data, a.data, `${name}: the next draw differs`);
      }
    }
  }
  assert.throws(() => toy2d('moons', -1, seedRng(0)), RangeError);
  assert.throws(() => toy2d('moons', 2.5, seedRng(0)), RangeError);
});

test('8 Gaussians: centred on the 8 points of a circle of radius 4/1.414 ≈ 2.83, std ≈ 0.354, balanced', () => {
  assert.equal(eightGaussianCenters.length, 8);
  for (const c of eightGaussianCenters) assert.ok(Math.abs(radius(c) - 4 / 1.414) < 1e-12);
  const pts = rows(eightGaussians(8000, seedRng(1))[0]);
  const counts = new Array<number>(8).fill(0);
  const offsets: number[] = [];
  for (const p of pts) {
    const dist = eightGaussianCenters.map((c) => Math.hypot(p[0] - c[0], p[1] - c[1]));
    const k = dist.indexOf(Math.min(...dist));
    counts[k] = (counts[k] as number) + 1;
    offsets.push(p[0] - (eightGaussianCenters[k]?.[0] as number));
  }
  for (const c of counts) assert.ok(Math.abs(c - 1000) < 120, `counts ${counts}`);
  const sd = Math.sqrt(mean(offsets.map((o) => o * o)));
  assert.ok(Math.abs(sd - 0.5 / 1.414) < 0.02, `per-axis std ${sd}`);
  assert.ok(Math.abs(mean(pts.map(radius)) - 2.83) < 0.1);
});

test('two moons: FFJORD\'s 2·moons + (−1, −0.2), half the points on each moon', () => {
  const pts = rows(twoMoons(2000, seedRng(2))[0]);
  assert.ok(pts.every(([x, y]) => x > -3.8 && x < 3.8 && y > -2 && y < 2.6));
  assert.ok(Math.abs(mean(pts.map((p) => p[0]))) < 0.05, 'x is centred');
  assert.ok(Math.abs(mean(pts.map((p) => p[1])) - 0.3) < 0.05, 'y mean (2·(2/π) − 0.2 − 0.473)/2 ≈ 0.3');
  // Upper moon: centre (−1, −0.2), radius 2; lower moon: centre (1, 0.8), radius 2.
  const onUpper = pts.filter(([x, y]) => Math.abs(Math.hypot(x + 1, y + 0.2) - 2) < 0.6 && y > -0.2 - 0.6);
  assert.ok(Math.abs(onUpper.length - 1000) < 150, `${onUpper.length} points on the upper moon`);
});

test('circles: radii 3 and 1.5 with noise 0.24, half each', () => {
  const r = rows(circles(2000, seedRng(3))[0]).map(radius);
  const outer = r.filter((x) => x > 2.25);
  assert.equal(outer.length, 1000);
  assert.ok(Math.abs(mean(outer) - 3) < 0.05 && Math.abs(mean(r.filter((x) => x <= 2.25)) - 1.5) < 0.05);
});

test('checkerboard: on [−4, 4]², only the cells where ⌊x/2⌋ + ⌊y/2⌋ is even, roughly uniformly', () => {
  const pts = rows(checkerboard(4000, seedRng(4))[0]);
  const cells = new Map<string, number>();
  for (const [x, y] of pts) {
    assert.ok(x >= -4 && x < 4 && y >= -4 && y < 4, `${x}, ${y}`);
    const i = Math.floor(x / 2), j = Math.floor(y / 2);
    assert.equal((((i + j) % 2) + 2) % 2, 0, `point ${x}, ${y} in a white cell`);
    cells.set(`${i},${j}`, (cells.get(`${i},${j}`) ?? 0) + 1);
  }
  assert.equal(cells.size, 8);
  for (const c of cells.values()) assert.ok(Math.abs(c - 500) < 90, `cell counts ${[...cells.values()]}`);
});

test('pinwheel: 5 arms around radius ≈ 2, centred', () => {
  const pts = rows(pinwheel(5000, seedRng(5))[0]);
  assert.ok(Math.abs(mean(pts.map((p) => p[0]))) < 0.1 && Math.abs(mean(pts.map((p) => p[1]))) < 0.1);
  const r = pts.map(radius).sort((a, b) => a - b);
  assert.ok(Math.abs((r[2500] as number) - 2) < 0.15, `median radius ${r[2500]}`);
  // Rotating by 2π/5 maps the density to itself: compare angular histograms of 5 sectors.
  const sector = (p: readonly [number, number]): number => Math.floor(((Math.atan2(p[1], p[0]) + 2 * Math.PI) % (2 * Math.PI)) / (2 * Math.PI / 5));
  const counts = new Array<number>(5).fill(0);
  for (const p of pts) counts[sector(p)] = (counts[sector(p)] as number) + 1;
  for (const c of counts) assert.ok(Math.abs(c - 1000) < 120, `sector counts ${counts}`);
});

test('two spirals: mirror images of each other, within radius ≈ π + 0.5', () => {
  const pts = rows(twoSpirals(1000, seedRng(6))[0]);
  assert.ok(pts.every((p) => radius(p) < 3.9));
  const sums = pts.slice(0, 500).map((p, i) => Math.hypot(p[0] + (pts[500 + i]?.[0] as number), p[1] + (pts[500 + i]?.[1] as number)));
  assert.ok(mean(sums) < 0.25, `mirror pairs differ by noise only (${mean(sums)})`);
  assert.ok(mean(pts.map(radius)) > 1, 'spread along the arms');
});
