/**
 * The op table of the JSON format, in both directions. Decoding: for every op name, its arity
 * and an io-ts codec for the op object that yields a builder (the checked constructor of
 * `construct.ts`, so shape messages are the core's). Encoding: for every node kind, the op
 * object that decodes back to the same node, with default attributes left out.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import * as C from '../construct.ts';
import type { Node, NodeKind, NodeOf } from '../node.ts';
import { binaryOps, reduceOps, unaryOps } from '../ops.ts';
import { shapeEq, staticSize } from '../shape.ts';
import { makeWindow, type Window2d } from '../window.ts';
import {
  BoolC, IntC, IntsC, ShapeC, strict, type JsonOp, type Out, type Props, type RawExpr, type RawOp,
} from './format.ts';
import { encodeTensor, TensorC } from './tensorJson.ts';

/** Builds a node from decoded arguments; `Left` carries the constructor's message. */
export type Builder = (args: readonly Node[]) => E.Either<string, Node>;

/** How one op is decoded: its arity and a codec from the op object to a builder. */
export interface OpRule {
  /** Number of expression arguments; `'many'` is one or more; `0` means no `args` at all. */
  readonly arity: 0 | 1 | 2 | 'many';
  readonly codec: t.Decoder<unknown, Builder>;
}

const arg = (args: readonly Node[], i: number): Node => {
  const a = args[i];
  if (a === undefined) throw new Error(`fluxion bug: op argument ${i} missing after the arity check`);
  return a;
};


const rule = <R extends Props, O extends Props>(
  arity: OpRule['arity'], what: string, required: R, optional: O,
  build: (a: Out<R, O>, args: readonly Node[]) => E.Either<string, Node>,
): OpRule => {
  // `op` was read to pick this rule and `args` is decoded by the expression walk.
  const obj = strict(what, required, { op: t.unknown, ...(arity === 0 ? {} : { args: t.unknown }), ...optional });
  return {
    arity,
    codec: new t.Type<Builder, Builder, unknown>(what, (u): u is Builder => typeof u === 'function',
      (u, c) => {
        const r = obj.validate(u, c);
        return r._tag === 'Left' ? r : t.success((args: readonly Node[]) => build(r.right, args));
      }, t.identity),
  };
};

const byName = <K extends string>(ops: readonly K[], make: (op: K) => OpRule): { readonly [P in K]: OpRule } =>
  // The audited cast: `ops` lists every key of the record exactly once.
  Object.fromEntries(ops.map((op) => [op, make(op)])) as { readonly [P in K]: OpRule };

/** Optional window attributes of `patches` and `unpatches` (defaults: stride 1, no padding, dilation 1). */
const windowProps = { strides: IntsC, padding: IntsC, dilation: IntsC };

/** A window from decoded attributes; lengths and ranges are checked by `makeWindow`. */
const windowOf = (
  op: string, o: { readonly kernel: readonly number[]; readonly strides?: readonly number[]; readonly padding?: readonly number[]; readonly dilation?: readonly number[] },
): E.Either<string, Window2d> => {
  const two = (xs: readonly number[]): readonly [number, number] => [xs[0] ?? NaN, xs[1] ?? NaN];
  const lengths = [['kernel', o.kernel, 2], ['strides', o.strides, 2], ['padding', o.padding, 4], ['dilation', o.dilation, 2]] as const;
  for (const [name, xs, n] of lengths)
    if (xs !== undefined && xs.length !== n) return E.left(`${op}: ${name} needs ${n} integers, got [${xs.join(',')}]`);
  const p = o.padding;
  const w = makeWindow({
    kernel: two(o.kernel),
    ...(o.strides === undefined ? {} : { strides: two(o.strides) }),
    ...(p === undefined ? {} : { padding: [p[0] ?? NaN, p[1] ?? NaN, p[2] ?? NaN, p[3] ?? NaN] as const }),
    ...(o.dilation === undefined ? {} : { dilation: two(o.dilation) }),
  });
  return E.mapLeft((m: string) => `${op}: ${m}`)(w);
};

/** The attributes of a window, defaults left out. */
const encodeWindow = (w: Window2d): Partial<RawOp> => ({
  kernel: [...w.kernel],
  ...(w.strides.every((s) => s === 1) ? {} : { strides: [...w.strides] }),
  ...(w.padding.every((p) => p === 0) ? {} : { padding: [...w.padding] }),
  ...(w.dilation.every((d) => d === 1) ? {} : { dilation: [...w.dilation] }),
});

/** The decoding rule of every op name. */
export const opRules: { readonly [K in JsonOp]: OpRule } = {
  ...byName(unaryOps, (op) => rule(1, `a ${op} op`, {}, {}, (_, a) => C.unary(op, arg(a, 0)))),
  ...byName(binaryOps, (op) => rule(2, `an ${op} op`, {}, {}, (_, a) => C.binary(op, arg(a, 0), arg(a, 1)))),
  ...byName(reduceOps, (op) => rule(1, `a ${op} op`, {}, { axes: IntsC, keepDims: BoolC },
    (o, a) => C.reduce(op, arg(a, 0), o.axes, o.keepDims ?? false))),
  matmul: rule(2, 'a matmul op', {}, {}, (_, a) => C.matmul(arg(a, 0), arg(a, 1))),
  const: rule(0, 'a const op', { value: TensorC }, { shape: ShapeC }, (o) => {
    const v = o.value;
    if (o.shape === undefined || shapeEq(o.shape, v.shape)) return C.constant(v.data, o.shape ?? v.shape);
    if (v.shape.length === 1 && staticSize(o.shape) === v.data.length) return C.constant(v.data, o.shape);
    return E.left(`const: value has shape [${v.shape.join(',')}], which is neither shape [${o.shape.join(',')}] nor a flat list of its elements`);
  }),
  reshape: rule(1, 'a reshape op', { shape: ShapeC }, {}, (o, a) => C.reshape(arg(a, 0), o.shape)),
  broadcast: rule(1, 'a broadcast op', { shape: ShapeC }, {}, (o, a) => C.broadcastTo(arg(a, 0), o.shape)),
  transpose: rule(1, 'a transpose op', {}, { perm: IntsC }, (o, a) => C.transpose(arg(a, 0), o.perm)),
  concat: rule('many', 'a concat op', { axis: IntC }, {}, (o, a) => C.concat(a, o.axis)),
  slice: rule(1, 'a slice op', { begin: IntsC, size: ShapeC }, {}, (o, a) => C.slice(arg(a, 0), o.begin, o.size)),
  patches: rule(1, 'a patches op', { kernel: IntsC }, windowProps, (o, a) => {
    const w = windowOf('patches', o);
    return E.isLeft(w) ? w : C.patches(arg(a, 0), w.right);
  }),
  unpatches: rule(1, 'an unpatches op', { kernel: IntsC, size: IntsC }, windowProps, (o, a) => {
    const w = windowOf('unpatches', o);
    if (E.isLeft(w)) return w;
    const [h, wd] = o.size;
    if (o.size.length !== 2 || h === undefined || wd === undefined)
      return E.left(`unpatches: size must be the image's [H, W], got [${o.size.join(',')}]`);
    return C.unpatches(arg(a, 0), w.right, [h, wd]);
  }),
};

/** Op names for lookups of untrusted strings (a Map: no prototype keys). */
export const opByName: ReadonlyMap<string, OpRule> = new Map(Object.entries(opRules));

const isRange = (xs: readonly number[]): boolean => xs.every((x, i) => x === i);

/**
 * A constant as JSON: a bare number for a finite scalar (not -0), else a `const` op whose
 * `shape` is written only when the nesting cannot show it (a zero-sized dimension).
 * @example encodeConst(C.scalar(2)) // 2
 */
export const encodeConst = (n: NodeOf<'const'>): RawExpr => {
  const v = n.value[0];
  if (n.shape.length === 0 && v !== undefined && Number.isFinite(v) && !Object.is(v, -0)) return v;
  // Const shapes are fully numeric (checked by `constant`).
  const shape = n.shape as readonly number[];
  return shape.includes(0)
    ? { op: 'const', value: [], shape: [...shape] }
    : { op: 'const', value: encodeTensor(n.value, shape) };
};

/** True when `n` is written inline as a (possibly special) scalar and never named. @example isScalarConst(C.scalar(NaN)) // true */
export const isScalarConst = (n: Node): boolean => n.kind === 'const' && n.shape.length === 0;

/** The op object of each node kind, given its arguments as JSON. */
export const encodeRules: { readonly [K in NodeKind]: (n: NodeOf<K>, args: readonly RawExpr[]) => RawExpr } = {
  const: (n) => encodeConst(n),
  var: (n) => n.name,
  unary: (n, args) => ({ op: n.op, args }),
  binary: (n, args) => ({ op: n.op, args }),
  matmul: (_, args) => ({ op: 'matmul', args }),
  reduce: (n, args): RawOp => {
    const all = n.axes.length === n.x.shape.length && isRange(n.axes);
    return { op: n.op, args, ...(all ? {} : { axes: [...n.axes] }), ...(n.keepDims ? { keepDims: true } : {}) };
  },
  reshape: (n, args) => ({ op: 'reshape', args, shape: [...n.shape] }),
  broadcast: (n, args) => ({ op: 'broadcast', args, shape: [...n.shape] }),
  transpose: (n, args): RawOp => {
    const reversed = n.perm.every((p, i) => p === n.perm.length - 1 - i);
    return reversed ? { op: 'transpose', args } : { op: 'transpose', args, perm: [...n.perm] };
  },
  concat: (n, args) => ({ op: 'concat', args, axis: n.axis }),
  slice: (n, args) => ({ op: 'slice', args, begin: [...n.begin], size: [...n.shape] }),
  patches: (n, args) => ({ op: 'patches', args, ...encodeWindow(n.window) }),
  unpatches: (n, args) => ({ op: 'unpatches', args, ...encodeWindow(n.window), size: [n.shape[1] as number, n.shape[2] as number] }),
};
