/**
 * Mini-batches from the seeded generator, with the generator state passed explicitly: the same
 * state gives the same indices, bit for bit, and a checkpoint that stores the state resumes the
 * exact sequence. Two ways to draw: independent random batches (`sampleBatch`, like
 * torchdiffeq's `np.random.choice(N − batch_time, batch_size, replace=False)`), and epochs that
 * visit every index once in a shuffled order (`initShuffler` / `nextBatch`).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { nextU32, type RngState } from '../random/prng.ts';

/** A batch request that cannot be met. */
export interface BatchError {
  readonly _tag: 'InvalidBatch';
  readonly reason: string;
}

/** Formats a batch error. @example formatBatchError({ _tag: 'InvalidBatch', reason: 'x' }) // 'invalid batch: x' */
export const formatBatchError = (e: BatchError): string => `invalid batch: ${e.reason}`;

const invalid = (reason: string): E.Either<BatchError, never> => E.left({ _tag: 'InvalidBatch', reason });

/** The largest population the integer sampler supports (one uint32 per draw). */
export const maxPopulation = 2 ** 32;

/**
 * A uniform integer in [0, n) for 1 ≤ n ≤ 2³², unbiased (uint32 draws at or above the largest
 * multiple of n are rejected and redrawn), and the next state.
 * @example const [i, s1] = randomBelow(seedRng(0), 10) // 0 ≤ i < 10
 */
export const randomBelow = (rng: RngState, n: number): readonly [number, RngState] => {
  const limit = maxPopulation - (maxPopulation % n);
  let s = rng;
  for (;;) {
    const [u, s1] = nextU32(s);
    s = s1;
    if (u < limit) return [u % n, s];
  }
};

/** Indices drawn and the generator state after them. */
export interface Batch {
  readonly indices: readonly number[];
  readonly rng: RngState;
}

const isCount = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

/**
 * `batchSize` indices from [0, n). With `replace: false` they are distinct, in random order
 * (a partial Fisher–Yates shuffle over a sparse map: O(batchSize) time and memory whatever n is);
 * with `replace: true` they are independent uniform draws.
 * @example
 * const r = sampleBatch(seedRng(7), 1000 - 10, 20, { replace: false })
 * // right({ indices: [20 distinct numbers < 990], rng: … })
 */
export const sampleBatch = (
  rng: RngState,
  n: number,
  batchSize: number,
  opts: { readonly replace: boolean },
): E.Either<BatchError, Batch> => {
  if (!isCount(n) || n > maxPopulation) return invalid(`population size must be an integer in [0, 2^32], got ${n}`);
  if (!isCount(batchSize)) return invalid(`batch size must be an integer ≥ 0, got ${batchSize}`);
  if (batchSize > 0 && n === 0) return invalid('cannot draw from an empty population');
  if (!opts.replace && batchSize > n) return invalid(`cannot draw ${batchSize} distinct indices from ${n} without replacement`);
  const indices: number[] = [];
  let s = rng;
  if (opts.replace) {
    for (let k = 0; k < batchSize; k++) {
      const [j, s1] = randomBelow(s, n);
      indices.push(j);
      s = s1;
    }
    return E.right({ indices, rng: s });
  }
  // Virtual array a[i] = i; `moved` holds only the positions a swap changed.
  const moved = new Map<number, number>();
  for (let k = 0; k < batchSize; k++) {
    const [r, s1] = randomBelow(s, n - k);
    s = s1;
    const j = k + r;
    const aj = moved.get(j) ?? j;
    moved.set(j, moved.get(k) ?? k);
    indices.push(aj);
  }
  return E.right({ indices, rng: s });
};

/**
 * A uniformly random permutation of 0..n−1 (Fisher–Yates, from the top) and the next state.
 * @example const [perm, s1] = shuffle(seedRng(1), 5) // e.g. [3, 0, 4, 1, 2]
 */
export const shuffle = (rng: RngState, n: number): readonly [number[], RngState] => {
  const a = Array.from({ length: n }, (_, i) => i);
  let s = rng;
  for (let i = n - 1; i > 0; i--) {
    const [j, s1] = randomBelow(s, i + 1);
    s = s1;
    const tmp = a[i] as number;
    a[i] = a[j] as number;
    a[j] = tmp;
  }
  return [a, s];
};

/**
 * Epoch-wise batching state: JSON data (numbers and arrays), so a trainer can keep it in a
 * checkpoint's `config` and decode it back with `ShufflerStateC`. `order` is the current epoch's
 * permutation, `position` the next index into it, `rng` the state for the next epoch's shuffle.
 */
export interface ShufflerState {
  readonly n: number;
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly epoch: number;
  readonly position: number;
  readonly order: readonly number[];
  readonly rng: RngState;
}

/** How many indices of an epoch are served (all, or only whole batches with `dropLast`). */
const epochLength = (s: Pick<ShufflerState, 'n' | 'batchSize' | 'dropLast'>): number =>
  s.dropLast ? s.n - (s.n % s.batchSize) : s.n;

/**
 * A shuffler at the start of epoch 0 (its permutation already drawn).
 * @example const sh = initShuffler(seedRng(3), 100, 32, { dropLast: true }) // right(…)
 */
export const initShuffler = (
  rng: RngState,
  n: number,
  batchSize: number,
  opts: { readonly dropLast?: boolean } = {},
): E.Either<BatchError, ShufflerState> => {
  const dropLast = opts.dropLast ?? false;
  if (!isCount(n) || n < 1 || n > maxPopulation) return invalid(`population size must be an integer in [1, 2^32], got ${n}`);
  if (!isCount(batchSize) || batchSize < 1) return invalid(`batch size must be an integer ≥ 1, got ${batchSize}`);
  if (dropLast && batchSize > n) return invalid(`dropLast with batch size ${batchSize} > ${n} items would never yield a batch`);
  const [order, s] = shuffle(rng, n);
  return E.right({ n, batchSize, dropLast, epoch: 0, position: 0, order, rng: s });
};

/**
 * The next batch, starting a new epoch (a fresh permutation) when the current one is used up.
 * Without `dropLast`, an epoch's last batch holds the remainder (it may be smaller).
 * @example const { indices, shuffler } = nextBatch(sh) // indices.length ≤ sh.batchSize
 */
export const nextBatch = (sh: ShufflerState): { readonly indices: readonly number[]; readonly shuffler: ShufflerState } => {
  const len = epochLength(sh);
  const cur = sh.position < len ? sh : (() => {
    const [order, rng] = shuffle(sh.rng, sh.n);
    return { ...sh, epoch: sh.epoch + 1, position: 0, order, rng };
  })();
  const end = Math.min(cur.position + cur.batchSize, len);
  return { indices: cur.order.slice(cur.position, end), shuffler: { ...cur, position: end } };
};

const u32 = new t.Type<number, number, unknown>(
  'uint32', (u): u is number => Number.isInteger(u) && (u as number) >= 0 && (u as number) < 2 ** 32,
  (u, c) => (Number.isInteger(u) && (u as number) >= 0 && (u as number) < 2 ** 32 ? t.success(u as number) : t.failure(u, c)), t.identity,
);
const count = new t.Type<number, number, unknown>(
  'integer ≥ 0', (u): u is number => Number.isSafeInteger(u) && (u as number) >= 0,
  (u, c) => (Number.isSafeInteger(u) && (u as number) >= 0 ? t.success(u as number) : t.failure(u, c)), t.identity,
);
const rawShuffler = t.type({
  n: count, batchSize: count, dropLast: t.boolean, epoch: count, position: count,
  order: t.readonlyArray(count), rng: t.tuple([u32, u32, u32, u32]),
});

const isPermutation = (order: readonly number[], n: number): boolean => {
  if (order.length !== n) return false;
  const seen = new Uint8Array(n);
  for (const i of order) {
    if (i >= n || seen[i] === 1) return false;
    seen[i] = 1;
  }
  return true;
};

/**
 * Decodes a shuffler state from JSON, checking that `order` is a permutation of 0..n−1, the
 * position lies within the epoch and the generator state is not all zero.
 * @example ShufflerStateC.decode(JSON.parse(JSON.stringify(sh))) // right(sh)
 */
export const ShufflerStateC = new t.Type<ShufflerState, ShufflerState, unknown>(
  'ShufflerState',
  (u): u is ShufflerState => rawShuffler.is(u),
  (u, c) => {
    const r = rawShuffler.validate(u, c);
    if (E.isLeft(r)) return r;
    const s = r.right;
    if (s.n < 1 || s.batchSize < 1) return t.failure(u, c, 'n and batchSize must be ≥ 1');
    if (!isPermutation(s.order, s.n)) return t.failure(s.order, t.appendContext(c, 'order', t.unknown, s.order), `order must be a permutation of 0..${s.n - 1}`);
    if (s.position > epochLength(s)) return t.failure(s.position, t.appendContext(c, 'position', count, s.position), `position must be ≤ ${epochLength(s)}`);
    if (s.rng.every((w) => w === 0)) return t.failure(s.rng, t.appendContext(c, 'rng', t.unknown, s.rng), 'generator state must not be all zero');
    return t.success(s);
  },
  t.identity,
);
