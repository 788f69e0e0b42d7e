/**
 * LaTeX notation (math mode; `aligned`, `bmatrix`, `\text` and `\operatorname` need amsmath):
 * `\odot` is the elementwise product (`\cdot` when one side is a scalar), juxtaposition is the
 * matrix product, `\frac{}{}` is division, `x^{3}` is elementwise power, `x^{\top}` a 2-D
 * transpose, reductions are `\sum_{axes}`, `\operatorname{mean}_{axes}`, … Names with trailing
 * digits get subscripts (`W1` → `W_{1}`), Greek names become letters (`theta` → `\theta`).
 *
 * Several roots, or shared subexpressions, print as an `aligned` environment with a `where` block.
 */
import type { ConstNode } from '../dsl/node.ts';
import type { BinaryOp, ReduceOp, UnaryOp } from '../dsl/ops.ts';
import { isSym, type Shape } from '../dsl/shape.ts';
import { formatWindow, type Window2d } from '../dsl/window.ts';
import {
  at, atom, frag, infix, makePlan, need, nestedList, Prec, render, wrapIf,
  type Frag, type Parens, type PrintOptions, type PrintRoot, type Printable,
} from './printPlan.ts';
import type { Algebra } from './traverse.ts';

/** Options of `printLatex`. */
export type LatexOptions = PrintOptions;

const P: Parens = { open: '\\left(', close: '\\right)' };

const greek = new Set([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda',
  'mu', 'nu', 'xi', 'pi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'chi', 'psi', 'omega', 'Gamma',
  'Delta', 'Theta', 'Lambda', 'Xi', 'Pi', 'Sigma', 'Upsilon', 'Phi', 'Psi', 'Omega',
]);

const textEscapes: Readonly<Record<string, string>> = {
  '\\': '\\textbackslash{}', '{': '\\{', '}': '\\}', _: '\\_', '^': '\\^{}', '#': '\\#', $: '\\$',
  '%': '\\%', '&': '\\&', '~': '\\~{}',
};

/**
 * Any string as LaTeX `\text{…}`, special characters escaped.
 * @example latexText('dz/dt') // '\\text{dz/dt}'
 */
export const latexText = (s: string): string =>
  `\\text{${[...s].map((c) => textEscapes[c] ?? c).join('')}}`;

const letters = (s: string): string =>
  greek.has(s) ? `\\${s}` : s.length === 1 ? s : `\\mathrm{${s}}`;

/**
 * A name in LaTeX: trailing digits and anything after the first `_` become a subscript, Greek
 * names become letters, longer names are upright; a non-identifier becomes `\text{…}`.
 * @example latexName('W1') // 'W_{1}'
 * @example latexName('theta_out') // '\\theta_{\\mathrm{out}}'
 */
export const latexName = (raw: string): string => {
  const m = /^([A-Za-z][A-Za-z0-9_]*?)('*)$/.exec(raw);
  const core = m?.[1];
  if (m === null || core === undefined) return latexText(raw);
  const primes = m[2] ?? '';
  const cut = core.indexOf('_');
  const head = cut < 0 ? core : core.slice(0, cut);
  const tail = cut < 0 ? '' : core.slice(cut + 1);
  const hm = /^([A-Za-z]+)(\d*)$/.exec(head);
  const base = hm?.[1] ?? head;
  const subs: string[] = [];
  if (hm?.[2]) subs.push(hm[2]);
  if (tail !== '') subs.push(/^\d+$/.test(tail) ? tail : `\\mathrm{${tail.replaceAll('_', '\\_')}}`);
  const sub = subs.length > 0 ? `_{${subs.join(',')}}` : '';
  return `${/^[A-Za-z]+$/.test(base) ? letters(base) : `\\mathrm{${base}}`}${sub}${primes}`;
};

const numString = (v: number): string => {
  if (Number.isNaN(v)) return '\\mathrm{NaN}';
  if (!Number.isFinite(v)) return v > 0 ? '\\infty' : '-\\infty';
  const [mant, e] = String(v).split('e');
  return e === undefined ? String(v) : `${mant ?? ''} \\times 10^{${Number(e)}}`;
};

const num = (v: number): Frag => {
  const s = numString(v);
  const neg = s.startsWith('-');
  if (s.includes('\\times')) return frag(s, Prec.mul, 'mul', neg);
  return neg ? frag(s, Prec.neg, '', true) : atom(s);
};

const latexShape = (s: Shape): string =>
  `[${s.map((d) => (isSym(d) ? latexName(d) : String(d))).join(', ')}]`;

const constLatex = (n: ConstNode, maxInline: number): Frag => {
  if (n.shape.length === 0) return num(n.value[0] ?? NaN);
  if (n.value.length > maxInline) return atom(`\\mathrm{const}_{${latexShape(n.shape)}}`);
  const dims = n.shape.map((d) => (isSym(d) ? 0 : d));
  if (dims.length === 2 && dims.every((d) => d > 0)) {
    const cols = dims[1] ?? 1;
    const rows: string[] = [];
    for (let i = 0; i < n.value.length; i += cols)
      rows.push(Array.from(n.value.subarray(i, i + cols), numString).join(' & '));
    return atom(`\\begin{bmatrix} ${rows.join(' \\\\ ')} \\end{bmatrix}`);
  }
  return atom(nestedList(n.value, dims, numString, ['\\left[', '\\right]'], ', '));
};

/** `cmd(x)` with stretchy parentheses. */
const fn = (cmd: string) => (x: Frag): Frag => atom(`${cmd}\\left(${x.s}\\right)`);
/** A superscript on an atom: `x^{…}`, `\left(x^{\top}\right)^{2}` (never a double superscript). */
const sup = (x: Frag, s: string): Frag => frag(`${need(x, Prec.atom, P).s}^{${s}}`, Prec.postfix);
/** An operator with a subscript applied to parenthesized arguments: `\sum_{1}\left(x\right)`. */
const bigOp = (cmd: string, sub: string, args: readonly Frag[]): Frag =>
  frag(`${cmd}${sub === '' ? '' : `_{${sub}}`}\\left(${args.map((a) => a.s).join(', ')}\\right)`, Prec.postfix);

const unaryLatex: { readonly [K in UnaryOp]: (x: Frag) => Frag } = {
  neg: (x) => frag(`-${wrapIf(x, x.prec < Prec.pow || x.neg, P).s}`, Prec.neg, '', true),
  exp: fn('\\exp'),
  log: fn('\\log'),
  log1p: (x) => fn('\\log')(infix(atom('1'), x, ' + ', Prec.add, 'add', P, 'left')),
  sqrt: (x) => atom(`\\sqrt{${x.s}}`),
  square: (x) => sup(x, '2'),
  sin: fn('\\sin'),
  cos: fn('\\cos'),
  tanh: fn('\\tanh'),
  sigmoid: fn('\\sigma'),
  softplus: fn('\\operatorname{softplus}'),
  relu: fn('\\operatorname{ReLU}'),
  abs: (x) => atom(`\\left|${x.s}\\right|`),
  sign: fn('\\operatorname{sign}'),
  step: fn('\\operatorname{step}'),
};

const binaryLatex: { readonly [K in BinaryOp]: (x: Frag, y: Frag, scalarSide: boolean) => Frag } = {
  add: (x, y) => infix(x, y, ' + ', Prec.add, 'add', P, 'left'),
  sub: (x, y) => infix(x, y, ' - ', Prec.add, 'add', P, 'left'),
  mul: (x, y, sc) => infix(x, y, sc ? ' \\cdot ' : ' \\odot ', Prec.mul, 'mul', P, 'left'),
  div: (x, y) => frag(`\\frac{${x.s}}{${y.s}}`, Prec.postfix),
  pow: (x, y) => sup(x, y.s),
  maximum: (x, y) => atom(`\\max\\left(${x.s}, ${y.s}\\right)`),
  minimum: (x, y) => atom(`\\min\\left(${x.s}, ${y.s}\\right)`),
};

const reduceLatex: { readonly [K in ReduceOp]: string } = {
  sum: '\\sum',
  mean: '\\operatorname{mean}',
  logsumexp: '\\operatorname{logsumexp}',
};

const sliceRanges = (begin: readonly number[], size: Shape, from: Shape): string =>
  size.map((s, i) => {
    const b = begin[i] ?? 0;
    return b === 0 && s === from[i] ? '{:}' : `${b}{:}${typeof s === 'number' ? b + s : latexName(s)}`;
  }).join(', ');

/** A window as a subscript: `3\times 3,\,\mathrm{stride}\ 2,\,\mathrm{pad}\ 1`. */
const windowLatex = (w: Window2d): string =>
  formatWindow(w, '\\times ').split(', ').map((part) => part.replace(/^([a-z]+) /, '\\mathrm{$1}\\ ')).join(',\\,');

const latexAlgebra = (maxInline: number): Algebra<Frag> => ({
  const: (n) => constLatex(n, maxInline),
  var: (n) => atom(latexName(n.name)),
  unary: (n, a) => unaryLatex[n.op](at(a, 0)),
  binary: (n, a) =>
    binaryLatex[n.op](at(a, 0), at(a, 1), n.x.shape.length === 0 || n.y.shape.length === 0),
  matmul: (_, a) => infix(at(a, 0), at(a, 1), ' ', Prec.mul, 'matmul', P, 'left'),
  reduce: (n, a) => {
    const all = n.axes.length === n.x.shape.length;
    const sub = [...(all ? [] : [n.axes.join(',')]), ...(n.keepDims ? ['\\mathrm{keepdims}'] : [])];
    return bigOp(reduceLatex[n.op], sub.join(',\\,'), [at(a, 0)]);
  },
  reshape: (n, a) => bigOp('\\operatorname{reshape}', latexShape(n.shape), [at(a, 0)]),
  broadcast: (n, a) => bigOp('\\operatorname{broadcast}', latexShape(n.shape), [at(a, 0)]),
  transpose: (n, a) =>
    n.perm.length === 2 && n.perm[0] === 1
      ? sup(at(a, 0), '\\top')
      : bigOp('\\operatorname{transpose}', `[${n.perm.join(', ')}]`, [at(a, 0)]),
  concat: (n, a) => bigOp('\\operatorname{concat}', String(n.axis), a),
  slice: (n, a) =>
    frag(`${need(at(a, 0), Prec.postfix, P).s}\\left[${sliceRanges(n.begin, n.shape, n.x.shape)}\\right]`,
      Prec.postfix),
  patches: (n, a) => bigOp('\\operatorname{patches}', windowLatex(n.window), [at(a, 0)]),
  unpatches: (n, a) =>
    bigOp('\\operatorname{unpatches}', `${windowLatex(n.window)},\\,${String(n.shape[1])}\\times ${String(n.shape[2])}`, [at(a, 0)]),
});

/**
 * Prints expressions as LaTeX math. One unlabelled expression without shared parts prints bare;
 * otherwise an `aligned` environment lists the roots (`label &= …`), then `\text{where}` and the
 * bound subexpressions (`v_{1} &= …`) in dependency order.
 * @example
 * printLatex(X.add(X.matmul(X.tanh(X.add(X.matmul(X.mul(X.mul(y, y), y), W1), b1)), W2), b2))
 * // '\\tanh\\left(\\left(y \\odot y \\odot y\\right) W_{1} + b_{1}\\right) W_{2} + b_{2}'
 * @example
 * printLatex([{ name: 'dzdt', latex: '\\frac{dz}{dt}', expr: f }])
 * // '\\begin{aligned}\n\\frac{dz}{dt} &= …\n\\end{aligned}'
 */
export const printLatex = (roots: Printable | readonly PrintRoot[], options: LatexOptions = {}): string => {
  const plan = makePlan(roots, options);
  const out = render(plan, latexAlgebra(options.maxInlineElements ?? 8), (s) => atom(latexName(s)));
  const only = plan.roots[0];
  if (plan.roots.length === 1 && only !== undefined && only.label === undefined && out.defs.length === 0)
    return at(out.roots, 0).s;
  const rows = plan.roots.map((r, i) => {
    const body = at(out.roots, i).s;
    return r.label === undefined ? `& ${body}` : `${r.latex ?? latexName(r.label)} &= ${body}`;
  });
  if (out.defs.length > 0) rows.push('\\text{where}', ...out.defs.map(([n, f]) => `${latexName(n)} &= ${f.s}`));
  return `\\begin{aligned}\n${rows.join(' \\\\\n')}\n\\end{aligned}`;
};
