/**
 * The JSON spec format: the raw document types (what `encode*` produces and `decode*` accepts)
 * and the io-ts codecs for its non-recursive parts (dimensions, shapes, roles, initializers,
 * variable declarations, op attributes). Expressions are recursive and untrusted, so they are
 * walked by the iterative decoder in `exprDecode.ts`, which uses these codecs at each node.
 * See docs/spec-format.md.
 */
import * as t from 'io-ts';
import type { Initializer } from '../params.ts';
import { roles, type BinaryOp, type ReduceOp, type Role, type UnaryOp } from '../ops.ts';
import { isValidDim, type Dim } from '../shape.ts';
import { didYouMean } from './errors.ts';
import { hasOwn, isPlainObject, ownValue } from './limits.ts';

/** Version tags of the two document kinds. */
export const modelFormat = 'model/1';
export const exprFormat = 'expr/1';

/** Every op name of the format: the elementwise and reduction ops plus the structural ones. */
export type JsonOp =
  | UnaryOp | BinaryOp | ReduceOp
  | 'matmul' | 'const' | 'reshape' | 'broadcast' | 'transpose' | 'concat' | 'slice' | 'patches' | 'unpatches';

/** A number inside a tensor; non-finite values and negative zero are written as strings. */
export type RawNumber = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';
/** A tensor as nested arrays (a scalar is a bare number). */
export type RawTensor = RawNumber | readonly RawTensor[];

/** An op object. Which attributes an op takes is listed in `opRules.ts` and the format doc. */
export interface RawOp {
  readonly op: JsonOp;
  readonly args?: readonly RawExpr[];
  readonly value?: RawTensor;
  readonly shape?: readonly Dim[];
  readonly axes?: readonly number[];
  readonly keepDims?: boolean;
  readonly perm?: readonly number[];
  readonly axis?: number;
  readonly begin?: readonly number[];
  readonly size?: readonly Dim[];
  readonly kernel?: readonly number[];
  readonly strides?: readonly number[];
  readonly padding?: readonly number[];
  readonly dilation?: readonly number[];
}

/** An expression: a scalar constant, a variable or `let` name, or an op object. */
export type RawExpr = number | string | RawOp;

/** A variable declaration. */
export interface RawVariable {
  readonly role: Role;
  readonly shape: readonly Dim[];
  readonly init?: Initializer;
}

/** A model document (`"fluxion": "model/1"`). */
export interface ModelDoc {
  readonly fluxion: typeof modelFormat;
  readonly name: string;
  readonly variables: Readonly<Record<string, RawVariable>>;
  readonly let?: Readonly<Record<string, RawExpr>>;
  readonly dynamics: { readonly state: string; readonly time: string; readonly f: RawExpr };
  readonly loss?: { readonly prediction: string; readonly value: RawExpr };
  readonly values?: Readonly<Record<string, RawTensor>>;
  readonly seed?: number;
}

/** An expression document (`"fluxion": "expr/1"`): variables, lets and named expressions. */
export interface ExprDoc {
  readonly fluxion: typeof exprFormat;
  readonly variables: Readonly<Record<string, RawVariable>>;
  readonly let?: Readonly<Record<string, RawExpr>>;
  readonly exprs: Readonly<Record<string, RawExpr>>;
}

// ---------- codecs ----------

const refine = <A>(name: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity);

const identRe = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An identifier: variable, let and expression names. */
export const NameC = refine('a name (letters, digits and _, not starting with a digit)',
  (u): u is string => typeof u === 'string' && identRe.test(u) && u.length <= 256);
/** A dimension: a size or a run-time dimension name. */
export const DimC = refine('a dimension (an integer ≥ 0 or a name like "batch")', isValidDim);
/** A numeric size. */
export const SizeC = refine('a size (an integer ≥ 0)', (u): u is number => typeof u === 'number' && isValidDim(u));
/** A shape: an array of dimensions. */
export const ShapeC = t.array(DimC, 'a shape (an array of dimensions)');
/** An integer (axes and offsets; negative axes count from the end). */
export const IntC = refine('an integer', (u): u is number => typeof u === 'number' && Number.isSafeInteger(u));
/** A list of integers. */
export const IntsC = t.array(IntC, 'an array of integers');
/** A finite number. */
export const FiniteC = refine('a finite number', (u): u is number => typeof u === 'number' && Number.isFinite(u));
/** A positive integer (a fan-in). */
export const PositiveIntC = refine('a positive integer', (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u > 0);
/** A seed: a non-negative safe integer. */
export const SeedC = refine('a seed (an integer ≥ 0)', (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0);
/** A boolean. */
export const BoolC = refine('true or false', (u): u is boolean => typeof u === 'boolean');
/** A string. */
export const StringC = refine('a string', (u): u is string => typeof u === 'string');
/** A JSON object (its own keys are checked separately). */
export const ObjectC = refine('an object', isPlainObject);

const oneOf = <K extends string>(list: readonly K[]): string => `one of ${list.map((k) => JSON.stringify(k)).join(', ')}`;
const keyof = <const K extends string>(list: readonly K[]): t.Type<K, K, unknown> =>
  refine(oneOf(list), (u): u is K => typeof u === 'string' && (list as readonly string[]).includes(u));

/** A variable role. */
export const RoleC = keyof(roles);

/** Property codecs of a `strict` object. */
export type Props = Readonly<Record<string, t.Decoder<unknown, unknown>>>;
/** What a `strict` codec decodes to. */
export type Out<R extends Props, O extends Props> =
  { readonly [K in keyof R]: R[K] extends t.Decoder<unknown, infer A> ? A : never } &
  { readonly [K in keyof O]?: O[K] extends t.Decoder<unknown, infer A> ? A : never };

/**
 * An object codec that reports unknown properties (with a did-you-mean hint), every missing
 * required property and every bad value; optional properties are left out when absent.
 * @example strict('a range', { low: FiniteC, high: FiniteC }, {}).decode({ low: 0, hi: 1 })
 */
export const strict = <R extends Props, O extends Props>(name: string, required: R, optional: O): t.Type<Out<R, O>, Out<R, O>, unknown> => {
  const known = [...Object.keys(required), ...Object.keys(optional)];
  const validate = (u: unknown, c: t.Context): t.Validation<Out<R, O>> => {
    if (!isPlainObject(u)) return t.failure(u, c);
    const errors: t.ValidationError[] = [];
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(u)) {
      if (!known.includes(k))
        errors.push({ value: ownValue(u, k), context: t.appendContext(c, k, t.unknown, ownValue(u, k)),
          message: `unknown property ${JSON.stringify(k)}${didYouMean(k, known) || ` (expected ${oneOf(known)})`}` });
    }
    const field = (k: string, d: t.Decoder<unknown, unknown>, present: boolean): void => {
      if (!present) return;
      const v = ownValue(u, k);
      const r = d.validate(v, t.appendContext(c, k, d, v));
      if (r._tag === 'Left') errors.push(...r.left);
      else out[k] = r.right;
    };
    for (const [k, d] of Object.entries(required)) field(k, d, true);
    for (const [k, d] of Object.entries(optional)) field(k, d, hasOwn(u, k));
    // The audited cast: every required key decoded, optional keys only when present.
    return errors.length > 0 ? t.failures(errors) : t.success(out as Out<R, O>);
  };
  return new t.Type<Out<R, O>, Out<R, O>, unknown>(name, (u): u is Out<R, O> => validate(u, [])._tag === 'Right', validate, t.identity);
};

type InitKind = Initializer['kind'];
const initKinds: readonly InitKind[] = ['zeros', 'constant', 'normal', 'uniform', 'glorotUniform', 'heNormal', 'lecunUniform'];
const initCodecs: { readonly [K in InitKind]: t.Decoder<unknown, Extract<Initializer, { readonly kind: K }>> } = {
  zeros: strict('a zeros initializer', { kind: keyof(['zeros']) }, {}),
  constant: strict('a constant initializer', { kind: keyof(['constant']), value: FiniteC }, {}),
  normal: strict('a normal initializer', { kind: keyof(['normal']), mean: FiniteC, std: FiniteC }, {}),
  uniform: strict('a uniform initializer', { kind: keyof(['uniform']), low: FiniteC, high: FiniteC }, {}),
  glorotUniform: strict('a glorotUniform initializer', { kind: keyof(['glorotUniform']) }, {}),
  heNormal: strict('a heNormal initializer', { kind: keyof(['heNormal']) }, {}),
  lecunUniform: strict('a lecunUniform initializer', { kind: keyof(['lecunUniform']) }, { fanIn: PositiveIntC }),
};
const InitKindC = keyof(initKinds);

/** A parameter initializer: an object tagged by `kind` (see `params.ts`). */
export const InitializerC = new t.Type<Initializer, Initializer, unknown>(
  'an initializer ({"kind": …})',
  (u): u is Initializer => InitializerC.validate(u, [])._tag === 'Right',
  (u, c) => {
    if (!isPlainObject(u)) return t.failure(u, c);
    const kind = ownValue(u, 'kind');
    const k = InitKindC.validate(kind, t.appendContext(c, 'kind', InitKindC, kind));
    return k._tag === 'Left' ? k : initCodecs[k.right].validate(u, c);
  },
  t.identity,
);

/** A variable declaration: role, shape, and for parameters an optional initializer. */
export const VariableC = strict('a variable declaration ({"role": …, "shape": […]})',
  { role: RoleC, shape: ShapeC }, { init: InitializerC });
