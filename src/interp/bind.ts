/**
 * Binding inputs to an expression's variables: every variable must get a value whose shape
 * matches its declared shape, and every named dim (the batch) must take one size throughout.
 * Shared by every interpreter; generic over how a value reports its shape.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { NodeOf } from '../dsl/node.ts';
import { formatShape, isSym, type Dim, type Shape } from '../dsl/shape.ts';

/** Why a set of inputs does not fit an expression. */
export type BindError =
  | { readonly _tag: 'MissingInput'; readonly name: string; readonly shape: Shape }
  | { readonly _tag: 'ShapeMismatch'; readonly name: string; readonly expected: Shape; readonly actual: readonly number[] }
  | { readonly _tag: 'DimConflict'; readonly name: string; readonly dim: string; readonly sizes: readonly [number, number] }
  | { readonly _tag: 'DuplicateName'; readonly name: string }
  | { readonly _tag: 'UnboundDim'; readonly dim: string };

/**
 * A one-line message for a bind error.
 * @example formatBindError({ _tag: 'MissingInput', name: 'y', shape: [2] }) // 'missing input y of shape [2]'
 */
export const formatBindError = (e: BindError): string => {
  switch (e._tag) {
    case 'MissingInput': return `missing input ${e.name} of shape ${formatShape(e.shape)}`;
    case 'ShapeMismatch': return `input ${e.name} has shape [${e.actual.join(',')}], expected ${formatShape(e.expected)}`;
    case 'DimConflict': return `input ${e.name} gives dim ${e.dim} size ${e.sizes[1]}, but another input gave ${e.sizes[0]}`;
    case 'DuplicateName': return `two different variables are named ${e.name} (different role or shape)`;
    case 'UnboundDim': return `dim ${e.dim} is not the size of any input, so its size is unknown`;
  }
};

/** Sizes of named dims given explicitly, for dims no input determines (e.g. `broadcast(0, [batch, 3])`). */
export type DimSizes = Readonly<Record<string, number>>;

/**
 * Matches values to variables and resolves named dims (starting from `given` sizes).
 * @example bindVars(freeVars([f]), { y: t }, (v) => v.shape) // right(Map { 'batch' => 20 })
 */
export const bindVars = <V>(
  vars: readonly NodeOf<'var'>[],
  env: Readonly<Record<string, V>>,
  shapeOf: (v: V) => readonly number[],
  given: DimSizes = {},
): E.Either<BindError, ReadonlyMap<string, number>> => {
  const sizes = new Map<string, number>(Object.entries(given));
  const byName = new Map<string, NodeOf<'var'>>();
  for (const v of vars) {
    const prev = byName.get(v.name);
    if (prev !== undefined && prev !== v) return E.left({ _tag: 'DuplicateName', name: v.name });
    byName.set(v.name, v);
    const value = Object.prototype.hasOwnProperty.call(env, v.name) ? env[v.name] : undefined;
    if (value === undefined) return E.left({ _tag: 'MissingInput', name: v.name, shape: v.shape });
    const actual = shapeOf(value);
    if (actual.length !== v.shape.length)
      return E.left({ _tag: 'ShapeMismatch', name: v.name, expected: v.shape, actual });
    for (let i = 0; i < actual.length; i++) {
      const d = v.shape[i] as Dim;
      const a = actual[i] as number;
      if (isSym(d)) {
        const known = sizes.get(d);
        if (known === undefined) sizes.set(d, a);
        else if (known !== a) return E.left({ _tag: 'DimConflict', name: v.name, dim: d, sizes: [known, a] });
      } else if (d !== a) {
        return E.left({ _tag: 'ShapeMismatch', name: v.name, expected: v.shape, actual });
      }
    }
  }
  return E.right(sizes);
};
