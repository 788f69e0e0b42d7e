/**
 * Errors of JSON spec decoding: a tagged union that keeps where the problem is (a JSON path),
 * what is wrong and the offending value. Formatting is separate from the data, and paths are
 * persistent lists so the decoder can extend them in O(1) per node.
 */
import type * as t from 'io-ts';

/** One step of a JSON path: an object key or an array index. */
export type Segment = string | number;

/** A persistent (cons) path: `undefined` is the document root. */
export type Path = { readonly up: Path; readonly seg: Segment } | undefined;

/** What kind of problem a spec has. */
export type SpecErrorTag =
  /** The text is not JSON (with its position), or repeats a key in one object. */
  | 'Syntax'
  /** A size limit was hit (text length, nesting depth, node count). */
  | 'Limit'
  /** A key that could pollute prototypes, or a value that is not JSON data. */
  | 'Unsafe'
  /** The structure is wrong: a wrong type, a missing or unknown property, an unknown op. */
  | 'Type'
  /** A name is undeclared, declared twice, or used in the wrong role. */
  | 'Name'
  /** `let` bindings refer to each other in a cycle. */
  | 'Cycle'
  /** An op rejected its operands' shapes (the message comes from `construct.ts`). */
  | 'Shape'
  /** The parts do not make a model (f's shape, the loss, parameter values). */
  | 'Model';

interface SpecErrorBase<T extends SpecErrorTag> {
  readonly _tag: T;
  /** The formatted path, e.g. `dynamics.f.args[1]`; `(root)` for the whole document. */
  readonly path: string;
  readonly segments: readonly Segment[];
  readonly message: string;
  /** The offending JSON value (for `Syntax`, the text near the error). */
  readonly value: unknown;
}

/** A decoding error. `Syntax` errors also carry a 1-based position in the text. */
export type SpecError =
  | (SpecErrorBase<'Syntax'> & { readonly line: number; readonly column: number; readonly offset: number })
  | SpecErrorBase<Exclude<SpecErrorTag, 'Syntax'>>;

/**
 * Extends a path by one or more segments.
 * @example formatPath(at(at(undefined, 'dynamics'), 'f', 'args', 1)) // 'dynamics.f.args[1]'
 */
export const at = (p: Path, ...segs: readonly Segment[]): Path => {
  let q = p;
  for (const s of segs) q = { up: q, seg: s };
  return q;
};

/** The segments of a path, root first. @example segmentsOf(at(undefined, 'a', 0)) // ['a', 0] */
export const segmentsOf = (p: Path): Segment[] => {
  const out: Segment[] = [];
  for (let q = p; q !== undefined; q = q.up) out.push(q.seg);
  return out.reverse();
};

const identRe = /^[A-Za-z_][A-Za-z0-9_]*$/;
const step = (s: Segment, first: boolean): string =>
  typeof s === 'number' ? `[${s}]` : identRe.test(s) ? (first ? s : `.${s}`) : `[${JSON.stringify(s)}]`;

/**
 * Formats path segments: identifiers joined by dots, indices and other keys in brackets. Runs
 * of four or more identical steps (one segment, or a `key[index]` pair) are written once with
 * a count, so paths into deeply nested expressions stay short.
 * @example formatSegments(['dynamics', 'f', 'args', 0]) // 'dynamics.f.args[0]'
 * @example formatSegments(['f', 'args', 0, 'args', 0, 'args', 0, 'args', 0]) // 'f(.args[0])×4'
 */
export const formatSegments = (segs: readonly Segment[]): string => {
  if (segs.length === 0) return '(root)';
  let out = '';
  let i = 0;
  const repeats = (unit: number): number => {
    let n = 1;
    while (i + (n + 1) * unit <= segs.length &&
      Array.from({ length: unit }, (_, k) => k).every((k) => segs[i + n * unit + k] === segs[i + k])) n++;
    return n;
  };
  while (i < segs.length) {
    const a = segs[i] as Segment;
    const unit = typeof a === 'string' && typeof segs[i + 1] === 'number' ? 2 : 1;
    const n = repeats(unit);
    if (n >= 4) {
      const body = segs.slice(i, i + unit).map((s, k) => step(s, k === 0 && out === '')).join('');
      out += `(${body})×${n}`;
      i += unit * n;
    } else {
      out += step(a, out === '');
      i++;
    }
  }
  return out;
};

/** Formats a path. @example formatPath(at(undefined, 'let', 'h')) // 'let.h' */
export const formatPath = (p: Path): string => formatSegments(segmentsOf(p));

/**
 * A short, safe rendering of any value for messages (bounded length and depth).
 * @example preview({ op: 'neg', args: ['y'] }) // '{"op":"neg","args":["y"]}'
 */
export const preview = (u: unknown, max = 60): string => {
  const go = (v: unknown, depth: number): string => {
    if (v === undefined) return 'nothing';
    if (v === null || typeof v === 'boolean') return String(v);
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : `${String(v)} (not JSON)`;
    if (typeof v === 'string') return JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
    if (typeof v !== 'object') return `a ${typeof v}`;
    if (depth > 3) return Array.isArray(v) ? '[…]' : '{…}';
    const parts: string[] = [];
    let len = 0;
    const entries: [string | undefined, unknown][] = Array.isArray(v)
      ? v.slice(0, 20).map((x: unknown): [undefined, unknown] => [undefined, x])
      : Object.keys(v).slice(0, 20).map((k): [string, unknown] => [k, Object.getOwnPropertyDescriptor(v, k)?.value]);
    for (const [k, x] of entries) {
      const s = (k === undefined ? '' : `${JSON.stringify(k)}:`) + go(x, depth + 1);
      len += s.length + 1;
      if (len > max) {
        parts.push('…');
        break;
      }
      parts.push(s);
    }
    const total = Array.isArray(v) ? v.length : Object.keys(v).length;
    if (parts.length < total && parts[parts.length - 1] !== '…') parts.push('…');
    return Array.isArray(v) ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
  };
  return go(u, 0);
};

/**
 * Makes an error at a path.
 * @example specError('Name', at(undefined, 'dynamics', 'f'), 'z is not declared', 'z')
 */
export const specError = (
  tag: Exclude<SpecErrorTag, 'Syntax'>, path: Path, message: string, value: unknown,
): SpecError => {
  const segments = segmentsOf(path);
  return { _tag: tag, path: formatSegments(segments), segments, message, value };
};

/**
 * A one-line message: `path: message`.
 * @example formatSpecError(specError('Shape', at(undefined, 'f'), 'matmul inner dimensions differ ([2,3] × [2,3])', null))
 * // 'f: matmul inner dimensions differ ([2,3] × [2,3])'
 */
export const formatSpecError = (e: SpecError): string => `${e.path}: ${e.message}`;

/** All errors, one per line. @example formatSpecErrors(errors) */
export const formatSpecErrors = (es: readonly SpecError[]): string => es.map(formatSpecError).join('\n');

const memberTags: ReadonlySet<string> = new Set(['UnionType', 'IntersectionType']);
const tagOf = (d: t.Decoder<unknown, unknown>): string | undefined =>
  '_tag' in d && typeof d._tag === 'string' ? d._tag : undefined;

/**
 * Converts io-ts validation errors (found at `base`) to spec errors. Context entries that name
 * a member of a union or intersection are not path steps and are dropped.
 * @example ioTsErrors(at(undefined, 'variables', 'y'), errs)
 */
export const ioTsErrors = (base: Path, errs: t.Errors): SpecError[] =>
  errs.map((e) => {
    let p = base;
    e.context.forEach((entry, i) => {
      const parent = e.context[i - 1];
      if (parent === undefined || memberTags.has(tagOf(parent.type) ?? '')) return;
      p = at(p, Array.isArray(parent.actual) && /^\d+$/.test(entry.key) ? Number(entry.key) : entry.key);
    });
    const last = e.context[e.context.length - 1];
    const expected = last === undefined ? 'a valid value' : last.type.name;
    const message = e.message ??
      (e.value === undefined ? `missing: expected ${expected}` : `expected ${expected}, got ${preview(e.value)}`);
    return specError('Type', p, message, e.value);
  });

const editDistance = (a: string, b: string): number => {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length] as number;
};

/**
 * A hint naming the closest candidate (same letters ignoring case, or within one edit per three
 * letters), or `''`.
 * @example didYouMean('keepdims', ['axes', 'keepDims']) // ' (did you mean "keepDims"?)'
 */
export const didYouMean = (name: string, candidates: Iterable<string>): string => {
  if (name.length > 64) return '';
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined, bestD = limit + 1;
  for (const c of candidates) {
    const d = c.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, c);
    if (d < bestD && d < name.length) [best, bestD] = [c, d];
  }
  return best === undefined ? '' : ` (did you mean ${JSON.stringify(best)}?)`;
};

/**
 * Drops repeated errors (same tag, path and message), keeping the first.
 * @example dedupeErrors([e, e]).length // 1
 */
export const dedupeErrors = (es: readonly SpecError[]): SpecError[] => {
  const seen = new Set<string>();
  return es.filter((e) => {
    const k = `${e._tag}\u0000${e.path}\u0000${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
};
