/**
 * Tensors in JSON: nested arrays of numbers, read iteratively (a row of the wrong length or a
 * non-number is reported at its own path) and written back in the same form. JSON has no NaN,
 * infinities or negative zero, so those are written as the strings "NaN", "Infinity",
 * "-Infinity" and "-0" — interning tells 0 from -0, so a round trip must too.
 */
import * as t from 'io-ts';
import type { RawNumber, RawTensor } from './format.ts';
import { preview } from './errors.ts';

/** A decoded tensor: the shape given by the nesting and the row-major values. */
export interface JsonTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

const specials: ReadonlyMap<string, number> = new Map([
  ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['-0', -0],
]);

/**
 * One number as JSON: finite numbers as themselves, the rest as strings.
 * @example rawNumber(-0) // '-0'
 */
export const rawNumber = (v: number): RawNumber =>
  Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;

/**
 * The number a JSON tensor element stands for, or `undefined`.
 * @example readNumber('Infinity') // Infinity
 */
export const readNumber = (u: unknown): number | undefined =>
  typeof u === 'number' ? u : typeof u === 'string' ? specials.get(u) : undefined;

const numberName = 'a number (or "NaN", "Infinity", "-Infinity", "-0")';
const elementType = new t.Type<number, number, unknown>(numberName, (u): u is number => typeof u === 'number', (u, c) => t.failure(u, c), t.identity);
const MAX_ERRORS = 8;
const elements = (n: number): string => (n === 1 ? '1 element' : `${n} elements`);

/**
 * A tensor as nested arrays; rows must have equal lengths. The shape comes from the nesting
 * (a bare number is a scalar). Reports at most 8 bad elements per tensor.
 * @example TensorC.decode([[1, 2], [3, 'NaN']]) // right({ shape: [2, 2], data: [1, 2, 3, NaN] })
 */
export const TensorC = new t.Type<JsonTensor, JsonTensor, unknown>(
  'a tensor (nested arrays of numbers)',
  (u): u is JsonTensor => typeof u === 'object' && u !== null && 'data' in u && u.data instanceof Float64Array,
  (u, c) => {
    const shape: number[] = [];
    for (let probe: unknown = u; Array.isArray(probe); probe = probe[0]) shape.push(probe.length);
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array(size);
    const errors: t.ValidationError[] = [];
    let k = 0;
    const stack: { v: unknown; d: number; c: t.Context }[] = [{ v: u, d: 0, c }];
    while (stack.length > 0 && errors.length < MAX_ERRORS) {
      const { v, d, c: ctx } = stack.pop() as { v: unknown; d: number; c: t.Context };
      if (d === shape.length) {
        const x = readNumber(v);
        if (x === undefined) errors.push({ value: v, context: ctx, message: `expected ${numberName}, got ${preview(v)}` });
        else data[k] = x;
        k++;
      } else if (!Array.isArray(v)) {
        errors.push({ value: v, context: ctx, message: `expected an array of ${elements(shape[d] ?? 0)} like the first row, got ${preview(v)}` });
        k += shape.slice(d + 1).reduce((a, b) => a * b, 1);
      } else if (v.length !== shape[d]) {
        errors.push({ value: v, context: ctx, message: `expected ${elements(shape[d] ?? 0)} like the first row, got ${v.length}` });
        k += shape.slice(d).reduce((a, b) => a * b, 1);
      } else {
        for (let i = v.length - 1; i >= 0; i--)
          stack.push({ v: v[i], d: d + 1, c: t.appendContext(ctx, String(i), elementType, v[i]) });
      }
    }
    return errors.length > 0 ? t.failures(errors) : t.success({ shape, data });
  },
  t.identity,
);

/**
 * Writes row-major values of a numeric shape as nested arrays (a scalar as a bare number).
 * @example encodeTensor(Float64Array.of(1, 2, 3, 4), [2, 2]) // [[1, 2], [3, 4]]
 */
export const encodeTensor = (data: ArrayLike<number>, shape: readonly number[]): RawTensor => {
  if (shape.length === 0) return rawNumber(data[0] as number);
  // Build rows bottom-up: the innermost axis first, then group rows axis by axis.
  let level: RawTensor[] = Array.from(data, rawNumber);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const n = shape[axis] as number;
    const next: RawTensor[] = [];
    const groups = axis === 0 ? 1 : shape.slice(0, axis).reduce((a, b) => a * b, 1);
    for (let g = 0; g < groups; g++) next.push(level.slice(g * n, g * n + n));
    level = next;
  }
  return level[0] as RawTensor;
};
