/**
 * Limits for untrusted specs, and the safety scan every decoded value goes through first: an
 * iterative walk (no recursion, so no stack overflow however deep the input) that rejects
 * values deeper or larger than the limits, keys that could pollute prototypes, and anything
 * that is not plain JSON data (functions, class instances, accessors, non-finite numbers).
 */
import { reservedNames } from '../construct.ts';
import { at, specError, type Path, type SpecError } from './errors.ts';

/** Size limits for decoding. Every limit is checked before the work it bounds. */
export interface SpecLimits {
  /** Maximum length of a spec's text, in UTF-16 code units. */
  readonly maxTextLength: number;
  /** Maximum nesting of arrays and objects (the document itself is level 1). */
  readonly maxDepth: number;
  /** Maximum number of JSON values (every number of a tensor counts). */
  readonly maxJsonValues: number;
  /** Maximum number of expression positions decoded (each `let` body counts once). */
  readonly maxExprNodes: number;
}

/** Limits that admit any realistic model and bound the work for hostile input. */
export const defaultLimits: SpecLimits = Object.freeze({
  maxTextLength: 16 * 1024 * 1024,
  maxDepth: 512,
  maxJsonValues: 4_000_000,
  maxExprNodes: 100_000,
});

/** Keys rejected anywhere in a spec: they could reach `Object.prototype` in careless code. */
export const forbiddenKeys: ReadonlySet<string> = reservedNames;

/** `Object.prototype.hasOwnProperty` as a function, safe on null-prototype objects. @example hasOwn(JSON.parse('{"__proto__": 1}'), '__proto__') // true */
export const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * The value of an own data property, or `undefined` (never runs a getter, never reads the prototype).
 * @example ownValue({}, 'toString') // undefined
 */
export const ownValue = (o: object, k: string): unknown => Object.getOwnPropertyDescriptor(o, k)?.value;

/**
 * True for an object made by a JSON parser or an object literal (prototype `Object.prototype` or null).
 * @example isPlainObject(new Date()) // false
 */
export const isPlainObject = (u: unknown): u is Readonly<Record<string, unknown>> => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return false;
  const proto: unknown = Object.getPrototypeOf(u);
  return proto === Object.prototype || proto === null;
};

const describe = (u: unknown): string | undefined => {
  switch (typeof u) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(u) ? undefined : `the number ${String(u)} is not JSON`;
    case 'undefined':
      return 'undefined is not JSON';
    case 'bigint':
    case 'symbol':
    case 'function':
      return `a ${typeof u} is not JSON`;
    case 'object':
      if (u === null) return undefined;
      if (Array.isArray(u)) return Object.getPrototypeOf(u) === Array.prototype ? undefined : 'an array subclass is not JSON';
      return isPlainObject(u) ? undefined : 'an object with a class is not JSON data';
  }
};

/**
 * Checks that `u` is plain JSON data within the limits and free of forbidden keys. Collects
 * every unsafe key and non-JSON value; stops at the first limit hit (the rest is not walked).
 * @example scanValue(JSON.parse('{"__proto__": {}}')) // [{ _tag: 'Unsafe', path: '["__proto__"]', … }]
 */
export const scanValue = (u: unknown, limits: SpecLimits = defaultLimits): SpecError[] => {
  interface Item { readonly v: unknown; readonly p: Path; readonly depth: number; readonly problem?: string }
  const errors: SpecError[] = [];
  const stack: Item[] = [{ v: u, p: undefined, depth: 0 }];
  let count = 0;
  while (stack.length > 0) {
    const { v, p, depth, problem } = stack.pop() as Item;
    if (++count > limits.maxJsonValues) {
      errors.push(specError('Limit', p, `more than ${limits.maxJsonValues} JSON values`, undefined));
      return errors;
    }
    const bad = problem ?? describe(v);
    if (bad !== undefined) {
      errors.push(specError('Unsafe', p, bad, v));
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > limits.maxDepth) {
      errors.push(specError('Limit', p, `nesting deeper than ${limits.maxDepth} levels`, undefined));
      return errors;
    }
    const kids: Item[] = [];
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const hole = !hasOwn(v, String(i));
        kids.push({ v: hole ? undefined : ownValue(v, String(i)), p: at(p, i), depth: depth + 1, ...(hole ? { problem: 'a hole in an array is not JSON' } : {}) });
      }
    } else {
      for (const k of Reflect.ownKeys(v)) {
        if (typeof k === 'symbol') {
          errors.push(specError('Unsafe', p, 'a symbol key is not JSON', String(k)));
          continue;
        }
        const d = Object.getOwnPropertyDescriptor(v, k);
        const problem = forbiddenKeys.has(k) ? `forbidden key ${JSON.stringify(k)}`
          : d === undefined || !('value' in d) ? 'an accessor property is not JSON data' : undefined;
        if (problem !== undefined || d?.enumerable === true)
          kids.push({ v: d?.value, p: at(p, k), depth: depth + 1, ...(problem === undefined ? {} : { problem }) });
      }
    }
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i] as Item);
  }
  return errors;
};
