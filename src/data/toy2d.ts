/**
 * The 2-D toy densities of FFJORD (Grathwohl et al. 2019, `lib/toy_data.py`), with the same
 * shapes, scales and noise levels, drawn from the project's seeded generator: every generator
 * takes a generator state and returns `[n × 2 points, next state]`, so the same state gives the
 * same points bit for bit. Points are an `F64Tensor` of shape `[n, 2]`, row-major.
 *
 * Differences from the Python, by design: each returns exactly `n` points (FFJORD's pinwheel and
 * two spirals return a multiple of 5 or 2), and the randomness is ours (not NumPy's streams).
 */
import type { F64Tensor } from '../interp/tensor.ts';
import { nextNormal, nextUniform, type RngState } from '../random/prng.ts';

/** The names of the toy densities (FFJORD's, `moons` for sklearn's two moons). */
export const toy2dNames = ['moons', '8gaussians', 'pinwheel', 'checkerboard', 'circles', '2spirals'] as const;
export type Toy2dName = (typeof toy2dNames)[number];

/** A toy generator: `n` points from a state, and the state after them. */
export type Toy2dGenerator = (n: number, rng: RngState) => readonly [F64Tensor, RngState];

/** A small mutable cursor over the immutable generator state, local to one generator call. */
const cursor = (s0: RngState) => {
  let s = s0;
  const take = (next: (st: RngState) => readonly [number, RngState]): number => {
    const [v, s1] = next(s);
    s = s1;
    return v;
  };
  return {
    uniform: (): number => take(nextUniform),
    normal: (): number => take(nextNormal),
    /** Uniform integer in [0, k). */
    below: (k: number): number => Math.min(k - 1, Math.floor(take(nextUniform) * k)),
    state: (): RngState => s,
  };
};
type Cursor = ReturnType<typeof cursor>;

/** Fisher–Yates shuffle of the rows of `xy` (sklearn shuffles moons and circles). */
const shuffleRows = (xy: Float64Array, c: Cursor): void => {
  for (let i = xy.length / 2 - 1; i > 0; i--) {
    const j = c.below(i + 1);
    for (const k of [0, 1]) {
      const a = xy[2 * i + k] as number;
      xy[2 * i + k] = xy[2 * j + k] as number;
      xy[2 * j + k] = a;
    }
  }
};

const generator = (fill: (xy: Float64Array, n: number, c: Cursor) => void): Toy2dGenerator => (n, rng) => {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`toy2d: n must be a non-negative integer, got ${n}`);
  const c = cursor(rng);
  const xy = new Float64Array(2 * n);
  fill(xy, n, c);
  return [{ shape: [n, 2], data: xy }, c.state()];
};

/** `numpy.linspace(a, b, n, endpoint)`. */
const linspace = (a: number, b: number, n: number, endpoint: boolean, i: number): number => {
  const steps = endpoint ? n - 1 : n;
  return steps <= 0 ? a : a + ((b - a) * i) / steps;
};

/**
 * sklearn's `make_moons(n, noise=0.1)` (⌊n/2⌋ points on the upper moon, evenly spaced, then
 * Gaussian noise and a shuffle), mapped by FFJORD to `2·p + (−1, −0.2)`.
 * @example const [xs, rng1] = twoMoons(200, seedRng(0)) // xs.shape: [200, 2]
 * @throws RangeError when `n` is not a non-negative integer
 */
export const twoMoons: Toy2dGenerator = generator((xy, n, c) => {
  const nOut = Math.floor(n / 2), nIn = n - nOut;
  for (let i = 0; i < n; i++) {
    const outer = i < nOut;
    const a = outer ? linspace(0, Math.PI, nOut, true, i) : linspace(0, Math.PI, nIn, true, i - nOut);
    const x = outer ? Math.cos(a) : 1 - Math.cos(a);
    const y = outer ? Math.sin(a) : 1 - Math.sin(a) - 0.5;
    xy[2 * i] = 2 * (x + 0.1 * c.normal()) - 1;
    xy[2 * i + 1] = 2 * (y + 0.1 * c.normal()) - 0.2;
  }
  shuffleRows(xy, c);
});

/**
 * FFJORD's 8 Gaussian centres: the unit-circle directions scaled by 4, then divided by 1.414.
 * @example eightGaussianCenters[0] // [2.8288…, 0]
 */
export const eightGaussianCenters: readonly (readonly [number, number])[] = (() => {
  const r = Math.SQRT1_2;
  const dirs: readonly (readonly [number, number])[] = [[1, 0], [-1, 0], [0, 1], [0, -1], [r, r], [r, -r], [-r, r], [-r, -r]];
  return dirs.map(([x, y]) => [(4 * x) / 1.414, (4 * y) / 1.414] as const);
})();

/**
 * A mixture of 8 Gaussians (std 0.5/1.414 ≈ 0.354) centred on a circle of radius 4/1.414 ≈ 2.83,
 * each picked uniformly.
 * @example eightGaussians(1000, seedRng(1))[0].shape // [1000, 2]
 * @throws RangeError when `n` is not a non-negative integer
 */
export const eightGaussians: Toy2dGenerator = generator((xy, n, c) => {
  for (let i = 0; i < n; i++) {
    const px = 0.5 * c.normal(), py = 0.5 * c.normal();
    const [cx, cy] = eightGaussianCenters[c.below(8)] as readonly [number, number];
    xy[2 * i] = px / 1.414 + cx;
    xy[2 * i + 1] = py / 1.414 + cy;
  }
});

/**
 * A pinwheel of 5 arms: radial N(1, 0.3²), tangential N(0, 0.1²), each arm rotated by its base
 * angle plus `0.25·exp(radial)`, scaled by 2; arms as balanced as `n` allows, rows shuffled.
 * @example pinwheel(500, seedRng(2))[0].shape // [500, 2]
 * @throws RangeError when `n` is not a non-negative integer
 */
export const pinwheel: Toy2dGenerator = generator((xy, n, c) => {
  for (let i = 0; i < n; i++) {
    const r = 1 + 0.3 * c.normal(), s = 0.1 * c.normal();
    const angle = (2 * Math.PI * (i % 5)) / 5 + 0.25 * Math.exp(r);
    const cos = Math.cos(angle), sin = Math.sin(angle);
    xy[2 * i] = 2 * (r * cos + s * sin);
    xy[2 * i + 1] = 2 * (-r * sin + s * cos);
  }
  shuffleRows(xy, c);
});

/**
 * A 4 × 4 checkerboard on [−4, 4]²: 8 uniformly filled unit-2 squares of alternating colour.
 * @example checkerboard(100, seedRng(3))[0].shape // [100, 2]
 * @throws RangeError when `n` is not a non-negative integer
 */
export const checkerboard: Toy2dGenerator = generator((xy, n, c) => {
  for (let i = 0; i < n; i++) {
    const x1 = 4 * c.uniform() - 2;
    const x2 = c.uniform() - 2 * c.below(2);
    const parity = ((Math.floor(x1) % 2) + 2) % 2;
    xy[2 * i] = 2 * x1;
    xy[2 * i + 1] = 2 * (x2 + parity);
  }
});

/**
 * sklearn's `make_circles(n, factor=0.5, noise=0.08)` (⌊n/2⌋ evenly spaced points on the outer
 * circle), scaled by 3: radii 3 and 1.5, noise std 0.24, rows shuffled.
 * @example circles(200, seedRng(4))[0].shape // [200, 2]
 * @throws RangeError when `n` is not a non-negative integer
 */
export const circles: Toy2dGenerator = generator((xy, n, c) => {
  const nOut = Math.floor(n / 2), nIn = n - nOut;
  for (let i = 0; i < n; i++) {
    const outer = i < nOut;
    const a = outer ? linspace(0, 2 * Math.PI, nOut, false, i) : linspace(0, 2 * Math.PI, nIn, false, i - nOut);
    const r = outer ? 1 : 0.5;
    xy[2 * i] = 3 * (r * Math.cos(a) + 0.08 * c.normal());
    xy[2 * i + 1] = 3 * (r * Math.sin(a) + 0.08 * c.normal());
  }
  shuffleRows(xy, c);
});

/**
 * Two interleaved spirals: `n' = √u · 3π`, `d = (−cos n'·n' + u₁/2, sin n'·n' + u₂/2)`, the
 * first ⌈n/2⌉ rows `d/3`, the rest the mirrored `−d/3`, plus N(0, 0.1²) noise (radius ≲ 3.4).
 * @example twoSpirals(400, seedRng(5))[0].shape // [400, 2]
 * @throws RangeError when `n` is not a non-negative integer
 */
export const twoSpirals: Toy2dGenerator = generator((xy, n, c) => {
  const half = Math.ceil(n / 2);
  const base = new Float64Array(2 * half);
  for (let i = 0; i < half; i++) {
    const t = Math.sqrt(c.uniform()) * 3 * Math.PI;
    base[2 * i] = -Math.cos(t) * t + 0.5 * c.uniform();
    base[2 * i + 1] = Math.sin(t) * t + 0.5 * c.uniform();
  }
  for (let i = 0; i < n; i++) {
    const sign = i < half ? 1 : -1;
    const j = i < half ? i : i - half;
    xy[2 * i] = (sign * (base[2 * j] as number)) / 3 + 0.1 * c.normal();
    xy[2 * i + 1] = (sign * (base[2 * j + 1] as number)) / 3 + 0.1 * c.normal();
  }
});

/** Every toy generator by name. */
export const toy2dGenerators: { readonly [K in Toy2dName]: Toy2dGenerator } = {
  moons: twoMoons,
  '8gaussians': eightGaussians,
  pinwheel,
  checkerboard,
  circles,
  '2spirals': twoSpirals,
};

/**
 * `n` points of the named toy density, and the generator state after them.
 * @example const [x, rng1] = toy2d('8gaussians', 512, seedRng(0))
 * @throws RangeError when `n` is not a non-negative integer
 */
export const toy2d = (name: Toy2dName, n: number, rng: RngState): readonly [F64Tensor, RngState] =>
  toy2dGenerators[name](n, rng);
