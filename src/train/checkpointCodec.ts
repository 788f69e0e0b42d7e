/**
 * The checkpoint document: its types, its JSON form and the io-ts codecs that read it back,
 * reporting every problem with its JSON path (`params.W1.data[7]`).
 *
 * Numbers: finite float64 values are written as JSON numbers (JavaScript prints the shortest
 * representation that parses back to the same double, so they round-trip exactly). JSON has no
 * NaN, infinities or negative zero, so in tensors, optimizer buffers and metrics those are
 * written as the strings "NaN", "Infinity", "-Infinity" and "-0" (the convention of the JSON spec
 * format) and read back as the same values; -0 is preserved. NaN payload bits are not: every NaN
 * reads back as the canonical NaN. `config` is stored as given and must therefore be exact JSON:
 * saving refuses NaN, ±Infinity and -0 there (with their paths).
 *
 * Layout (format version 1), small fields first so `head` shows them:
 * `{ "format": "fluxion-checkpoint", "version": 1, "iteration", "rng", "config", "metrics"?,
 *    "params": { name: { "shape", "data": [flat row-major] } },
 *    "optimizer": { "kind", "step", <buffers>: { name: [flat] } } }`.
 * Unknown extra fields are ignored.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import type { ParamValues } from '../dsl/params.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import type { RngState } from '../random/prng.ts';
import { stateIssues, type Buffers, type OptState } from './optimizers.ts';

/** Any JSON value. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** Named metrics: single values or histories. NaN and infinities are kept. */
export type Metrics = Readonly<Record<string, number | readonly number[]>>;

/** The `format` tag every checkpoint document starts with. */
export const checkpointFormat = 'fluxion-checkpoint';
/** The document version this code reads and writes. */
export const checkpointVersion = 1;

/** Everything needed to resume training exactly. */
export interface Checkpoint {
  readonly version: typeof checkpointVersion;
  /** Optimizer steps completed. */
  readonly iteration: number;
  readonly params: ParamValues;
  readonly optimizer: OptState;
  readonly rng: RngState;
  /** Whatever the trainer wants to keep (model spec, options, shuffler state): exact JSON. */
  readonly config: Json;
  readonly metrics?: Metrics;
}

/** One problem in a document, at a JSON path (`(root)` for the whole document). */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** A number as JSON: non-finite values and -0 as strings. */
export type RawNumber = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

/**
 * Writes one float64 for JSON. @example encodeNumber(-0) // '-0'
 */
export const encodeNumber = (v: number): RawNumber =>
  Object.is(v, -0) ? '-0' : v !== v ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;

const specials: ReadonlyMap<unknown, number> = new Map<unknown, number>([['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['-0', -0]]);

/** Reads one float64 written by `encodeNumber`, or `undefined`. @example decodeNumber('-Infinity') // -Infinity */
export const decodeNumber = (u: unknown): number | undefined => (typeof u === 'number' ? u : specials.get(u));

/** A short rendering of a value for messages. @example preview([1, 2]) // 'an array of 2' */
export const preview = (u: unknown): string => {
  if (u === undefined) return 'nothing';
  if (typeof u === 'number') return String(u);
  if (Array.isArray(u)) return `an array of ${u.length}`;
  if (typeof u === 'object' && u !== null) return 'an object';
  const s = JSON.stringify(u) ?? String(u);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u);
const identRe = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A JSON path from segments. @example formatJsonPath(['a', 'b', 3, 'odd key']) // 'a.b[3]["odd key"]' */
export const formatJsonPath = (segs: readonly (string | number)[]): string => {
  let out = '';
  for (const s of segs)
    out += typeof s === 'number' ? `[${s}]` : identRe.test(s) ? (out === '' ? s : `.${s}`) : `[${JSON.stringify(s)}]`;
  return out === '' ? '(root)' : out;
};

/**
 * io-ts errors as issues: the path from the context, the codec's message or "expected X, got Y".
 * @example issuesOf(TensorC.decode({ shape: [2], data: [1] }).left) // [{ path: 'data', message: 'has 1 values but shape [2] needs 2' }]
 */
export const issuesOf = (errors: t.Errors): Issue[] =>
  errors.map((e) => {
    const segs = e.context.slice(1).map((entry, i) => (Array.isArray(e.context[i]?.actual) ? Number(entry.key) : entry.key));
    const expected = e.context[e.context.length - 1]?.type.name ?? 'a value';
    const message = e.message ?? (e.value === undefined ? `missing: expected ${expected}` : `expected ${expected}, got ${preview(e.value)}`);
    return { path: formatJsonPath(segs), message };
  });

const refine = <A>(name: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity);

const NatC = refine('an integer ≥ 0', (u): u is number => Number.isSafeInteger(u) && (u as number) >= 0);
const U32C = refine('a uint32', (u): u is number => Number.isInteger(u) && (u as number) >= 0 && (u as number) < 2 ** 32);
const numberName = 'a number (or "NaN", "Infinity", "-Infinity", "-0")';
const ElementC = refine(numberName, (u): u is number => decodeNumber(u) !== undefined);
const MAX_ELEMENT_ERRORS = 8;

/** Decodes an array of numbers, reporting at most 8 bad elements. */
const decodeNumbers = (u: unknown, c: t.Context): t.Validation<Float64Array> => {
  if (!Array.isArray(u)) return t.failure(u, c, `expected an array of numbers, got ${preview(u)}`);
  const out = new Float64Array(u.length);
  const errors: t.ValidationError[] = [];
  for (let i = 0; i < u.length && errors.length < MAX_ELEMENT_ERRORS; i++) {
    const x = decodeNumber(u[i]);
    if (x === undefined) errors.push({ value: u[i], context: t.appendContext(c, String(i), ElementC, u[i]), message: `expected ${numberName}, got ${preview(u[i])}` });
    else out[i] = x;
  }
  return errors.length > 0 ? t.failures(errors) : t.success(out);
};

/** Float64 values as a flat JSON array (specials as strings). @example F64ArrayC.encode(Float64Array.of(1, -0)) // [1, '-0'] */
export const F64ArrayC = new t.Type<Float64Array, RawNumber[], unknown>(
  'an array of numbers', (u): u is Float64Array => u instanceof Float64Array, decodeNumbers, (a) => {
    const out = new Array<RawNumber>(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i] as number;
      out[i] = v !== 0 && Math.abs(v) < Infinity ? v : encodeNumber(v);
    }
    return out;
  });

/** A JSON object whose every value satisfies `codec`; built with own properties only. */
const recordOf = <A, O>(codec: t.Type<A, O, unknown>): t.Type<Readonly<Record<string, A>>, Record<string, O>, unknown> =>
  new t.Type<Readonly<Record<string, A>>, Record<string, O>, unknown>(
    `an object of ${codec.name}`,
    (u): u is Readonly<Record<string, A>> => isRecord(u) && Object.values(u).every(codec.is),
    (u, c) => {
      if (!isRecord(u)) return t.failure(u, c, `expected an object, got ${preview(u)}`);
      const errors: t.ValidationError[] = [];
      const entries: [string, A][] = [];
      for (const k of Object.keys(u)) {
        const r = codec.validate(u[k], t.appendContext(c, k, codec, u[k]));
        if (E.isLeft(r)) errors.push(...r.left);
        else entries.push([k, r.right]);
      }
      return errors.length > 0 ? t.failures(errors) : t.success(Object.fromEntries(entries));
    },
    (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, codec.encode(v)])),
  );

const BuffersC = recordOf(F64ArrayC);
const TensorRawC = t.type({ shape: t.readonlyArray(NatC), data: F64ArrayC });

/**
 * A tensor as `{ shape, data }` with `data.length` equal to the product of `shape`.
 * @example TensorC.decode({ shape: [2], data: [1, 'NaN'] }) // right({ shape: [2], data: [1, NaN] })
 */
export const TensorC = new t.Type<F64Tensor, { shape: readonly number[]; data: RawNumber[] }, unknown>(
  'a tensor { shape, data }',
  (u): u is F64Tensor => TensorRawC.is(u) && u.data.length === u.shape.reduce((a, b) => a * b, 1),
  (u, c) => {
    const r = TensorRawC.validate(u, c);
    if (E.isLeft(r)) return r;
    const { shape, data } = r.right;
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length === size) return t.success({ shape, data });
    const raw = (u as { data: unknown }).data;
    return t.failure(raw, t.appendContext(c, 'data', F64ArrayC, raw), `has ${data.length} values but shape [${shape.join(', ')}] needs ${size}`);
  },
  (x) => ({ shape: x.shape, data: F64ArrayC.encode(x.data) }),
);

const stateCodecs = {
  sgd: t.type({ kind: t.literal('sgd'), step: NatC, momentumBuffer: BuffersC }),
  adam: t.type({ kind: t.literal('adam'), step: NatC, expAvg: BuffersC, expAvgSq: BuffersC }),
  adamw: t.type({ kind: t.literal('adamw'), step: NatC, expAvg: BuffersC, expAvgSq: BuffersC }),
  rmsprop: t.type({ kind: t.literal('rmsprop'), step: NatC, squareAvg: BuffersC, momentumBuffer: BuffersC, gradAvg: BuffersC }),
};
const kinds = Object.keys(stateCodecs);

const encodeBuffers = (b: Buffers): Record<string, RawNumber[]> => BuffersC.encode(b);
const encodeState = (s: OptState): Record<string, unknown> => {
  switch (s.kind) {
    case 'sgd': return { kind: s.kind, step: s.step, momentumBuffer: encodeBuffers(s.momentumBuffer) };
    case 'adam':
    case 'adamw': return { kind: s.kind, step: s.step, expAvg: encodeBuffers(s.expAvg), expAvgSq: encodeBuffers(s.expAvgSq) };
    case 'rmsprop': return {
      kind: s.kind, step: s.step, squareAvg: encodeBuffers(s.squareAvg),
      momentumBuffer: encodeBuffers(s.momentumBuffer), gradAvg: encodeBuffers(s.gradAvg),
    };
  }
};

/** An optimizer state, chosen by its `kind`. @example OptStateC.decode({ kind: 'sgd', step: 0, momentumBuffer: {} }) // right(…) */
export const OptStateC = new t.Type<OptState, Record<string, unknown>, unknown>(
  'an optimizer state',
  (u): u is OptState => Object.values(stateCodecs).some((codec) => codec.is(u)),
  (u, c) => {
    if (!isRecord(u)) return t.failure(u, c, `expected an optimizer state object, got ${preview(u)}`);
    const kind = u['kind'];
    if (kind === 'sgd' || kind === 'adam' || kind === 'adamw' || kind === 'rmsprop') return stateCodecs[kind].validate(u, c);
    return t.failure(kind, t.appendContext(c, 'kind', t.unknown, kind), `expected one of ${kinds.map((k) => JSON.stringify(k)).join(', ')}, got ${preview(kind)}`);
  },
  encodeState,
);

const RngC = new t.Type<RngState, RngState, unknown>(
  'a generator state (4 uint32s, not all zero)',
  (u): u is RngState => Array.isArray(u) && u.length === 4 && u.every(U32C.is) && u.some((w) => w !== 0),
  (u, c) => {
    const r = t.tuple([U32C, U32C, U32C, U32C]).validate(u, c);
    if (E.isLeft(r)) return r;
    return r.right.some((w) => w !== 0) ? t.success(r.right) : t.failure(u, c, 'a generator state must not be all zero');
  },
  t.identity,
);

const MetricC = new t.Type<number | readonly number[], RawNumber | RawNumber[], unknown>(
  'a metric (a number or an array of numbers)',
  (u): u is number | readonly number[] => typeof u === 'number' || (Array.isArray(u) && u.every((x) => typeof x === 'number')),
  (u, c) => {
    if (Array.isArray(u)) return E.map((a: Float64Array) => Array.from(a))(decodeNumbers(u, c));
    const x = decodeNumber(u);
    return x === undefined ? t.failure(u, c, `expected ${numberName} or an array of them, got ${preview(u)}`) : t.success(x);
  },
  (m) => (typeof m === 'number' ? encodeNumber(m) : m.map(encodeNumber)),
);
const MetricsC = recordOf(MetricC);

const FormatC = refine(`"${checkpointFormat}"`, (u): u is typeof checkpointFormat => u === checkpointFormat);
const HeaderC = t.type({
  format: FormatC, version: t.literal(checkpointVersion), iteration: NatC, rng: RngC,
  config: t.unknown, params: recordOf(TensorC), optimizer: OptStateC,
});

/** Why a document is not a checkpoint this version reads. */
export type DecodeFailure =
  | { readonly _tag: 'UnknownVersion'; readonly version: unknown }
  | { readonly _tag: 'Issues'; readonly issues: readonly Issue[] };

/**
 * Decodes a parsed JSON document into a checkpoint, collecting every problem: wrong types,
 * tensors whose data length is not the product of their shape, optimizer buffers that name no
 * parameter or have the wrong length. A document of another format version fails with
 * `UnknownVersion` before anything else is checked.
 * @example decodeCheckpoint(JSON.parse(text)) // right(checkpoint) or left({ _tag: 'Issues', … })
 */
export const decodeCheckpoint = (u: unknown): E.Either<DecodeFailure, Checkpoint> => {
  if (!isRecord(u)) return E.left({ _tag: 'Issues', issues: [{ path: '(root)', message: `expected a checkpoint object, got ${preview(u)}` }] });
  if (u['format'] === checkpointFormat && u['version'] !== checkpointVersion)
    return E.left({ _tag: 'UnknownVersion', version: u['version'] });
  if (u['format'] !== checkpointFormat)
    return E.left({ _tag: 'Issues', issues: [{ path: 'format', message: `expected "${checkpointFormat}", got ${preview(u['format'])}: this is not a Fluxion checkpoint` }] });
  const head = HeaderC.validate(u, [{ key: '', type: HeaderC, actual: u }]);
  const hasMetrics = Object.hasOwn(u, 'metrics');
  const metrics = hasMetrics ? MetricsC.validate(u['metrics'], [{ key: '', type: HeaderC, actual: u }, { key: 'metrics', type: MetricsC, actual: u['metrics'] }]) : t.success(undefined);
  const issues = [...(E.isLeft(head) ? issuesOf(head.left) : []), ...(E.isLeft(metrics) ? issuesOf(metrics.left) : [])];
  if (E.isLeft(head) || E.isLeft(metrics)) return E.left({ _tag: 'Issues', issues });
  const h = head.right;
  const cross = stateIssues(h.optimizer, h.params).map((i) => ({ path: `optimizer.${i.path}`, message: i.message }));
  if (cross.length > 0) return E.left({ _tag: 'Issues', issues: cross });
  return E.right({
    version: checkpointVersion, iteration: h.iteration, params: h.params, optimizer: h.optimizer, rng: h.rng,
    config: h.config as Json, ...(metrics.right === undefined ? {} : { metrics: metrics.right }),
  });
};

/**
 * Where `config` is not exact JSON: non-finite numbers, -0, undefined, functions, typed arrays,
 * class instances, cycles. Iterative, so deep values are fine.
 * @example jsonIssues({ a: [1, NaN] }) // [{ path: 'config.a[1]', message: … }]
 */
export const jsonIssues = (value: unknown, root = 'config'): Issue[] => {
  const issues: Issue[] = [];
  const onPath = new Set<object>();
  type Frame = { readonly v: unknown; readonly path: readonly (string | number)[]; readonly exit?: object };
  const stack: Frame[] = [{ v: value, path: [root] }];
  while (stack.length > 0) {
    const { v, path, exit } = stack.pop() as Frame;
    if (exit !== undefined) {
      onPath.delete(exit);
      continue;
    }
    const at = formatJsonPath(path);
    if (v === null || typeof v === 'boolean' || typeof v === 'string') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || Object.is(v, -0)) issues.push({ path: at, message: `${Object.is(v, -0) ? '-0' : String(v)} cannot be stored exactly in JSON` });
      continue;
    }
    const plain = typeof v === 'object' && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
    if (!plain) {
      issues.push({ path: at, message: `${typeof v === 'object' ? `a ${v.constructor?.name ?? 'non-plain object'}` : typeof v} is not JSON` });
      continue;
    }
    if (onPath.has(v)) {
      issues.push({ path: at, message: 'cyclic reference' });
      continue;
    }
    onPath.add(v);
    stack.push({ v: undefined, path, exit: v });
    if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] });
    else for (const k of Object.keys(v).reverse()) stack.push({ v: (v as Record<string, unknown>)[k], path: [...path, k] });
  }
  return issues;
};

/**
 * What would make a checkpoint fail to load back: the checks `decodeCheckpoint` makes that the
 * TypeScript types do not (integer fields, shapes and data lengths, the generator state, buffers
 * against parameters, exact-JSON config), on the values themselves, with the same paths.
 * @example checkpointIssues({ ...ckpt, iteration: -1 }) // [{ path: 'iteration', message: … }]
 */
export const checkpointIssues = (c: Checkpoint): Issue[] => {
  const issues: Issue[] = [];
  if (c.version !== checkpointVersion) issues.push({ path: 'version', message: `this code writes version ${checkpointVersion}, got ${preview(c.version)}` });
  if (!NatC.is(c.iteration)) issues.push({ path: 'iteration', message: `expected ${NatC.name}, got ${preview(c.iteration)}` });
  if (!RngC.is(c.rng)) issues.push({ path: 'rng', message: `expected ${RngC.name}, got ${preview(c.rng)}` });
  for (const [name, p] of Object.entries(c.params)) {
    const at = formatJsonPath(['params', name]);
    p.shape.forEach((d, i) => {
      if (!NatC.is(d)) issues.push({ path: `${at}.shape[${i}]`, message: `expected ${NatC.name}, got ${preview(d)}` });
    });
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (!(p.data instanceof Float64Array)) issues.push({ path: `${at}.data`, message: 'expected a Float64Array' });
    else if (p.data.length !== size) issues.push({ path: `${at}.data`, message: `has ${p.data.length} values but shape [${p.shape.join(', ')}] needs ${size}` });
  }
  issues.push(...stateIssues(c.optimizer, c.params).map((i) => ({ path: `optimizer.${i.path}`, message: i.message })));
  for (const [name, m] of Object.entries(c.metrics ?? {}))
    if (!MetricC.is(m)) issues.push({ path: formatJsonPath(['metrics', name]), message: `expected ${MetricC.name}` });
  issues.push(...jsonIssues(c.config));
  return issues;
};

/**
 * The JSON document for a checkpoint, or every reason it could not be loaded back
 * (`checkpointIssues`), so nothing is written that would not load.
 * @example encodeCheckpoint(ckpt) // right({ format: 'fluxion-checkpoint', version: 1, … })
 */
export const encodeCheckpoint = (c: Checkpoint): E.Either<readonly Issue[], Record<string, unknown>> => {
  const issues = checkpointIssues(c);
  if (issues.length > 0) return E.left(issues);
  return E.right({
    format: checkpointFormat, version: c.version, iteration: c.iteration, rng: c.rng, config: c.config,
    ...(c.metrics === undefined ? {} : { metrics: MetricsC.encode(c.metrics) }),
    params: Object.fromEntries(Object.entries(c.params).map(([k, p]) => [k, TensorC.encode(p)])),
    optimizer: OptStateC.encode(c.optimizer),
  });
};
