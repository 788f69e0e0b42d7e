/**
 * Plain-text notation, numpy-flavoured: `*` `/` `+` `-` are elementwise, `@` is the matrix
 * product (it never mixes with `*` or `/` without parentheses), `^` is elementwise power (never
 * chained without parentheses), and functions are applied as calls. In `unicode` mode (the
 * default) trailing digits of names are subscripts (`W₁`), small integer powers are superscripts
 * (`y³`), a 2-D transpose is `xᵀ`, sigmoid is `σ` and infinity is `∞`; otherwise the output is
 * ASCII (`W1`, `y ^ 3`, `x.T`, `sigmoid`, `Infinity`).
 *
 * Shared subexpressions print once, as `v₁, v₂, …` defined in a trailing `where` block.
 */
import type { ConstNode } from '../dsl/node.ts';
import type { BinaryOp, ReduceOp, UnaryOp } from '../dsl/ops.ts';
import { formatShape, isSym, type Shape } from '../dsl/shape.ts';
import { formatWindow } from '../dsl/window.ts';
import {
  at, atom, frag, infix, makePlan, need, nestedList, Prec, render, smallIntExponent, wrapIf,
  type Frag, type Parens, type Plan, type PrintOptions, type PrintRoot, type Printable,
} from './printPlan.ts';
import type { Algebra } from './traverse.ts';

export type { PrintOptions, PrintRoot, Printable } from './printPlan.ts';

/** Options of `printText`. */
export interface TextOptions extends PrintOptions {
  /** Subscripts, superscripts, `ᵀ`, `σ`, `∞` (default `true`); `false` prints ASCII only. */
  readonly unicode?: boolean;
}

interface Style {
  readonly unicode: boolean;
  readonly maxInline: number;
}

const P: Parens = { open: '(', close: ')' };
const SUB = '₀₁₂₃₄₅₆₇₈₉';
const SUP = '⁰¹²³⁴⁵⁶⁷⁸⁹';
const digitsIn = (table: string, digits: string): string =>
  [...digits].map((d) => table[Number(d)] ?? d).join('');

/**
 * A name as printed: trailing digits become subscripts in unicode mode.
 * @example textName('W1') // 'W₁'
 * @example textName('W1', false) // 'W1'
 */
export const textName = (raw: string, unicode = true): string => {
  if (!unicode) return raw;
  const m = /^(.*[A-Za-z_])(\d+)('*)$/.exec(raw);
  return m === null ? raw : `${m[1] ?? ''}${digitsIn(SUB, m[2] ?? '')}${m[3] ?? ''}`;
};

const superInt = (k: number): string => (k < 0 ? '⁻' : '') + digitsIn(SUP, String(Math.abs(k)));

const numString = (v: number, st: Style): string =>
  Number.isNaN(v) ? 'NaN'
    : v === Infinity ? (st.unicode ? '∞' : 'Infinity')
      : v === -Infinity ? (st.unicode ? '-∞' : '-Infinity')
        : String(v);

const num = (v: number, st: Style): Frag => {
  const s = numString(v, st);
  return s.startsWith('-') ? frag(s, Prec.neg, '', true) : atom(s);
};

const constText = (n: ConstNode, st: Style): Frag => {
  if (n.shape.length === 0) return num(n.value[0] ?? NaN, st);
  if (n.value.length > st.maxInline) return atom(`const${formatShape(n.shape)}`);
  const dims = n.shape.map((d) => (isSym(d) ? 0 : d));
  return atom(nestedList(n.value, dims, (v) => numString(v, st), ['[', ']'], ', '));
};

const call = (name: string) => (x: Frag): Frag => atom(`${name}(${x.s})`);

/** Prefix minus: the operand binds at least like `^`, and `-(-x)` keeps its parentheses. */
const negate = (x: Frag): Frag => frag(`-${wrapIf(x, x.prec < Prec.pow || x.neg, P).s}`, Prec.neg, '', true);

const unaryText: { readonly [K in UnaryOp]: (x: Frag, st: Style) => Frag } = {
  neg: negate,
  exp: call('exp'),
  log: call('log'),
  log1p: call('log1p'),
  sqrt: call('sqrt'),
  square: (x, st) => (st.unicode ? frag(`${need(x, Prec.atom, P).s}²`, Prec.postfix) : call('square')(x)),
  sin: call('sin'),
  cos: call('cos'),
  tanh: call('tanh'),
  sigmoid: (x, st) => call(st.unicode ? 'σ' : 'sigmoid')(x),
  softplus: call('softplus'),
  relu: call('relu'),
  abs: (x) => atom(`|${x.s}|`),
  sign: call('sign'),
  step: call('step'),
};

const binaryText: {
  readonly [K in BinaryOp]: (x: Frag, y: Frag, exponent: number | undefined, st: Style) => Frag
} = {
  add: (x, y) => infix(x, y, ' + ', Prec.add, 'add', P, 'left'),
  sub: (x, y) => infix(x, y, ' - ', Prec.add, 'add', P, 'left'),
  mul: (x, y) => infix(x, y, ' * ', Prec.mul, 'mul', P, 'left'),
  div: (x, y) => infix(x, y, ' / ', Prec.mul, 'mul', P, 'left'),
  pow: (x, y, k, st) =>
    st.unicode && k !== undefined
      ? frag(`${need(x, Prec.atom, P).s}${superInt(k)}`, Prec.postfix)
      : infix(x, y, ' ^ ', Prec.pow, 'pow', P, 'none'),
  maximum: (x, y) => atom(`max(${x.s}, ${y.s})`),
  minimum: (x, y) => atom(`min(${x.s}, ${y.s})`),
};

const reduceText: { readonly [K in ReduceOp]: string } = {
  sum: 'sum',
  mean: 'mean',
  logsumexp: 'logsumexp',
};

const ints = (xs: readonly number[]): string => `[${xs.join(',')}]`;

/** `b:e` per axis, `:` for an axis taken whole. */
const sliceRanges = (begin: readonly number[], size: Shape, from: Shape): string =>
  size.map((s, i) => {
    const b = begin[i] ?? 0;
    return b === 0 && s === from[i] ? ':' : `${b}:${typeof s === 'number' ? b + s : s}`;
  }).join(', ');

const textAlgebra = (plan: Plan, st: Style): Algebra<Frag> => ({
  const: (n) => constText(n, st),
  var: (n) => atom(textName(n.name, st.unicode)),
  unary: (n, a) => unaryText[n.op](at(a, 0), st),
  binary: (n, a) => binaryText[n.op](at(a, 0), at(a, 1), smallIntExponent(n.y, plan), st),
  matmul: (_, a) => infix(at(a, 0), at(a, 1), ' @ ', Prec.mul, 'matmul', P, 'left'),
  reduce: (n, a) => {
    const parts = [at(a, 0).s];
    if (n.keepDims || n.axes.length !== n.x.shape.length) parts.push(`axes=${ints(n.axes)}`);
    if (n.keepDims) parts.push('keepdims=True');
    return atom(`${reduceText[n.op]}(${parts.join(', ')})`);
  },
  reshape: (n, a) => atom(`reshape(${at(a, 0).s}, ${formatShape(n.shape)})`),
  broadcast: (n, a) => atom(`broadcast(${at(a, 0).s}, ${formatShape(n.shape)})`),
  transpose: (n, a) =>
    n.perm.length === 2 && n.perm[0] === 1
      ? frag(`${need(at(a, 0), Prec.postfix, P).s}${st.unicode ? 'ᵀ' : '.T'}`, Prec.postfix)
      : atom(`transpose(${at(a, 0).s}, ${ints(n.perm)})`),
  concat: (n, a) => atom(`concat([${a.map((f) => f.s).join(', ')}], axis=${n.axis})`),
  slice: (n, a) =>
    frag(`${need(at(a, 0), Prec.postfix, P).s}[${sliceRanges(n.begin, n.shape, n.x.shape)}]`, Prec.postfix),
  patches: (n, a) => atom(`patches(${at(a, 0).s}, ${formatWindow(n.window, st.unicode ? '×' : 'x')})`),
  unpatches: (n, a) => {
    const times = st.unicode ? '×' : 'x';
    return atom(`unpatches(${at(a, 0).s}, ${formatWindow(n.window, times)}, to ${String(n.shape[1])}${times}${String(n.shape[2])})`);
  },
});

/**
 * Prints expressions as text. Pass one expression, or several labelled roots that share one
 * `where` block. Nodes used more than once, and nodes named in `options.names`, print once.
 * @example
 * printText(X.add(X.matmul(X.tanh(X.add(X.matmul(X.mul(X.mul(y, y), y), W1), b1)), W2), b2))
 * // 'tanh((y * y * y) @ W₁ + b₁) @ W₂ + b₂'
 * @example
 * printText([{ name: 'dz/dt', expr: f }, { name: 'da/dt', expr: g }], { names: new Map([[h, 'h']]) })
 * // 'dz/dt = h @ W₂ + b₂\nda/dt = …\nwhere\n  h = tanh(y³ @ W₁ + b₁)'
 */
export const printText = (roots: Printable | readonly PrintRoot[], options: TextOptions = {}): string => {
  const plan = makePlan(roots, options);
  const st: Style = { unicode: options.unicode ?? true, maxInline: options.maxInlineElements ?? 8 };
  const name = (s: string): string => textName(s, st.unicode);
  const out = render(plan, textAlgebra(plan, st), (s) => atom(name(s)));
  const lines = plan.roots.map((r, i) => {
    const body = at(out.roots, i).s;
    return r.label === undefined ? body : `${name(r.label)} = ${body}`;
  });
  if (out.defs.length > 0) lines.push('where', ...out.defs.map(([n, f]) => `  ${name(n)} = ${f.s}`));
  return lines.join('\n');
};
