/**
 * A seeded, splittable pseudo-random generator with an explicit immutable state (xoshiro128**),
 * so a checkpoint can store it and a resumed run draws exactly the same numbers.
 */

/** Generator state: four uint32 words. Never all zero. */
export type RngState = readonly [number, number, number, number];

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** SplitMix32-style mixer, used to expand seeds. */
const mix = (z: number): number => {
  z = (z + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
};

/**
 * The state for an integer seed (and an optional stream label, e.g. a parameter name).
 * @example const s = seedRng(42, 'W1')
 */
export const seedRng = (seed: number, stream = ''): RngState => {
  let h = mix(seed >>> 0) ^ mix(Math.floor(seed / 2 ** 32) >>> 0);
  for (let i = 0; i < stream.length; i++) h = mix(h ^ stream.charCodeAt(i));
  const a = mix(h), b = mix(a), c = mix(b), d = mix(c);
  return a | b | c | d ? [a, b, c, d] : [1, 2, 3, 4];
};

/**
 * Next uint32 and the next state.
 * @example const [u, s1] = nextU32(seedRng(1))
 */
export const nextU32 = (s: RngState): readonly [number, RngState] => {
  const [s0, s1, s2, s3] = s;
  const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
  const t = (s1 << 9) >>> 0;
  let n2 = (s2 ^ s0) >>> 0;
  let n3 = (s3 ^ s1) >>> 0;
  const n1 = (s1 ^ n2) >>> 0;
  const n0 = (s0 ^ n3) >>> 0;
  n2 = (n2 ^ t) >>> 0;
  n3 = rotl(n3, 11);
  return [result, [n0, n1, n2, n3]];
};

/** A uniform float64 in [0, 1) with 53 random bits. @example const [u, s1] = nextUniform(s) */
export const nextUniform = (s: RngState): readonly [number, RngState] => {
  const [a, s1] = nextU32(s);
  const [b, s2] = nextU32(s1);
  return [((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992, s2];
};

/** A standard normal draw (Box–Muller, one value per call). @example const [z, s1] = nextNormal(s) */
export const nextNormal = (s: RngState): readonly [number, RngState] => {
  const [u1, s1] = nextUniform(s);
  const [u2, s2] = nextUniform(s1);
  return [Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2), s2];
};

/**
 * `n` draws from a sampler, and the state after them.
 * @example const [xs, s1] = draw(nextNormal, seedRng(0), 10)
 */
export const draw = (
  next: (s: RngState) => readonly [number, RngState],
  s: RngState,
  n: number,
): readonly [Float64Array, RngState] => {
  const out = new Float64Array(n);
  let st = s;
  for (let i = 0; i < n; i++) {
    const [v, s1] = next(st);
    out[i] = v;
    st = s1;
  }
  return [out, st];
};
