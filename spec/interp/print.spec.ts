/**
 * The pretty-printers: exact notation for the spiral dynamics, parenthesization, shared and named
 * subexpressions, linear output size, deep graphs, LaTeX well-formedness on random DAGs, and a
 * distinct form for every op.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../../src/dsl/construct.ts';
import * as X from '../../src/dsl/expr.ts';
import type { Node } from '../../src/dsl/node.ts';
import { binaryOps, reduceOps, unaryOps } from '../../src/dsl/ops.ts';
import { sym, type Shape } from '../../src/dsl/shape.ts';
import { printLatex, latexName } from '../../src/interp/printLatex.ts';
import { printText, textName } from '../../src/interp/printText.ts';
import { dagSize } from '../../src/interp/traverse.ts';

const B = sym('B');
const y = X.state('y', [B, 2]);
const W1 = X.variable('W1', 'param', [2, 50]);
const b1 = X.variable('b1', 'param', [50]);
const W2 = X.variable('W2', 'param', [50, 2]);
const b2 = X.variable('b2', 'param', [2]);
const spiral = X.add(X.matmul(X.tanh(X.add(X.matmul(X.mul(X.mul(y, y), y), W1), b1)), W2), b2);
const hidden3 = X.tanh(X.add(X.matmul(X.pow(y, 3), W1), b1));
const spiral3 = X.add(X.matmul(hidden3, W2), b2);

const a = X.variable('a', 'param', [3, 3]);
const b = X.variable('b', 'param', [3, 3]);
const c = X.variable('c', 'param', [3, 3]);

const ok = <T>(r: E.Either<string, T>): T => {
  if (E.isLeft(r)) throw new Error(r.left);
  return r.right;
};

/** Checks `{}` (ignoring `\{ \}`), `\left…\right` and `\begin…\end` nest properly, and no double scripts. */
const latexProblems = (s: string): string | undefined => {
  const stack: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\') {
      const m = /^\\(left|right|begin\{(\w+)\}|end\{(\w+)\}|[A-Za-z]+|.)/.exec(s.slice(i));
      const tok = m?.[0] ?? '\\';
      if (tok === '\\left') stack.push('left');
      else if (tok === '\\right' && stack.pop() !== 'left') return `unmatched \\right at ${i}`;
      else if (m?.[2] !== undefined) stack.push(`env:${m[2]}`);
      else if (m?.[3] !== undefined && stack.pop() !== `env:${m[3]}`) return `unmatched \\end at ${i}`;
      i += tok.length - 1 + (tok === '\\left' || tok === '\\right' ? 1 : 0);
    } else if (ch === '{') stack.push(s[i - 1] === '^' ? 'sup' : s[i - 1] === '_' ? 'sub' : 'brace');
    else if (ch === '}') {
      const open = stack.pop();
      if (open === undefined || open.startsWith('env') || open === 'left') return `unmatched } at ${i}`;
      if ((open === 'sup' && s[i + 1] === '^') || (open === 'sub' && s[i + 1] === '_'))
        return `double script at ${i}`;
    }
  }
  return stack.length === 0 ? undefined : `unclosed ${stack.join(',')}`;
};

const parensBalanced = (s: string): boolean => {
  let depth = 0;
  for (const ch of s) {
    depth += ch === '(' || ch === '[' ? 1 : ch === ')' || ch === ']' ? -1 : 0;
    if (depth < 0) return false;
  }
  return depth === 0;
};

test('spiral dynamics prints like its formula', () => {
  assert.equal(printText(spiral), 'tanh((y * y * y) @ W₁ + b₁) @ W₂ + b₂');
  assert.equal(printText(spiral, { unicode: false }), 'tanh((y * y * y) @ W1 + b1) @ W2 + b2');
  assert.equal(printLatex(spiral),
    '\\tanh\\left(\\left(y \\odot y \\odot y\\right) W_{1} + b_{1}\\right) W_{2} + b_{2}');
  assert.equal(printText(spiral3), 'tanh(y³ @ W₁ + b₁) @ W₂ + b₂');
  assert.equal(printText(spiral3, { unicode: false }), 'tanh(y ^ 3 @ W1 + b1) @ W2 + b2');
  assert.equal(printLatex(spiral3), '\\tanh\\left(y^{3} W_{1} + b_{1}\\right) W_{2} + b_{2}');
  assert.equal(printText(spiral.node), printText(spiral), 'a node prints like its Expr');
});

test('parentheses follow precedence and associativity', () => {
  const cases: [X.Expr<Shape>, string, string][] = [
    [X.sub(a, X.sub(b, c)), 'a - (b - c)', 'a - \\left(b - c\\right)'],
    [X.sub(X.sub(a, b), c), 'a - b - c', 'a - b - c'],
    [X.add(a, X.add(b, c)), 'a + (b + c)', 'a + \\left(b + c\\right)'],
    [X.mul(X.add(a, b), c), '(a + b) * c', '\\left(a + b\\right) \\odot c'],
    [X.add(a, X.mul(b, c)), 'a + b * c', 'a + b \\odot c'],
    [X.neg(X.add(a, b)), '-(a + b)', '-\\left(a + b\\right)'],
    [X.neg(X.neg(a)), '-(-a)', '-\\left(-a\\right)'],
    [X.add(X.neg(a), b), '-a + b', '-a + b'],
    [X.sub(a, X.neg(b)), 'a - (-b)', 'a - \\left(-b\\right)'],
    [X.div(a, X.mul(b, c)), 'a / (b * c)', '\\frac{a}{b \\odot c}'],
    [X.mul(X.div(a, b), c), 'a / b * c', '\\frac{a}{b} \\odot c'],
    [X.pow(X.pow(a, b), c), '(a ^ b) ^ c', '\\left(a^{b}\\right)^{c}'],
    [X.pow(a, X.pow(b, c)), 'a ^ (b ^ c)', 'a^{b^{c}}'],
    [X.neg(X.pow(a, b)), '-a ^ b', '-a^{b}'],
    [X.pow(-2, a), '(-2) ^ a', '\\left(-2\\right)^{a}'],
    [X.mul(a, -2), 'a * (-2)', 'a \\cdot \\left(-2\\right)'],
    [X.matmul(X.matmul(a, b), c), 'a @ b @ c', 'a b c'],
    [X.matmul(a, X.matmul(b, c)), 'a @ (b @ c)', 'a \\left(b c\\right)'],
    [X.mul(X.matmul(a, b), c), '(a @ b) * c', '\\left(a b\\right) \\odot c'],
    [X.matmul(a, X.mul(b, c)), 'a @ (b * c)', 'a \\left(b \\odot c\\right)'],
    [X.matmul(X.add(a, b), c), '(a + b) @ c', '\\left(a + b\\right) c'],
    [X.matmul(a, X.neg(b)), 'a @ (-b)', 'a \\left(-b\\right)'],
    [X.pow(X.transposeM(a), 2), '(aᵀ)²', '\\left(a^{\\top}\\right)^{2}'],
    [X.square(X.add(a, b)), '(a + b)²', '\\left(a + b\\right)^{2}'],
    [X.transposeM(X.matmul(a, b)), '(a @ b)ᵀ', '\\left(a b\\right)^{\\top}'],
  ];
  for (const [e, text, latex] of cases) {
    assert.equal(printText(e), text);
    assert.equal(printLatex(e), latex);
  }
  assert.equal(printText(X.pow(X.transposeM(a), 2), { unicode: false }), 'a.T ^ 2');
});

test('structural ops and constants have readable forms', () => {
  const z = X.state('z', [B, 4]);
  const t = X.variable('T', 'param', [2, 3, 4]);
  const cases: [X.Expr<Shape>, string, string][] = [
    [X.sumAxis(a, 1), 'sum(a, axes=[1])', '\\sum_{1}\\left(a\\right)'],
    [X.mean(a), 'mean(a)', '\\operatorname{mean}\\left(a\\right)'],
    [X.logsumexpAxes(a, [1], true), 'logsumexp(a, axes=[1], keepdims=True)',
      '\\operatorname{logsumexp}_{1,\\,\\mathrm{keepdims}}\\left(a\\right)'],
    [X.reshape(z, [B, 2, 2]), 'reshape(z, [B,2,2])', '\\operatorname{reshape}_{[B, 2, 2]}\\left(z\\right)'],
    [X.broadcastTo(b1, [B, 50]), 'broadcast(b₁, [B,50])', '\\operatorname{broadcast}_{[B, 50]}\\left(b_{1}\\right)'],
    [X.concat([a, b], 1), 'concat([a, b], axis=1)', '\\operatorname{concat}_{1}\\left(a, b\\right)'],
    [X.slice(z, [0, 0], [B, 2]), 'z[:, 0:2]', 'z\\left[{:}, 0{:}2\\right]'],
    [X.slice(a, [0, 1], [2, 2]), 'a[0:2, 1:3]', 'a\\left[0{:}2, 1{:}3\\right]'],
    [X.transpose(t, [0, 2, 1]), 'transpose(T, [0,2,1])', '\\operatorname{transpose}_{[0, 2, 1]}\\left(T\\right)'],
    [X.tensor([1, -2, 3, 4], [2, 2]), '[[1, -2], [3, 4]]', '\\begin{bmatrix} 1 & -2 \\\\ 3 & 4 \\end{bmatrix}'],
    [X.tensor([1, 2, 3], [3]), '[1, 2, 3]', '\\left[1, 2, 3\\right]'],
    [X.tensor(new Array<number>(100).fill(0), [2, 50]), 'const[2,50]', '\\mathrm{const}_{[2, 50]}'],
    [X.add(a, NaN), 'a + NaN', 'a + \\mathrm{NaN}'],
    [X.add(a, Infinity), 'a + ∞', 'a + \\infty'],
    [X.sub(a, -Infinity), 'a - (-∞)', 'a - \\left(-\\infty\\right)'],
    [X.mul(a, 1e-7), 'a * 1e-7', 'a \\cdot \\left(1 \\times 10^{-7}\\right)'],
    [X.pow(a, -1), 'a⁻¹', 'a^{-1}'],
    [X.pow(a, 0.5), 'a ^ 0.5', 'a^{0.5}'],
  ];
  for (const [e, text, latex] of cases) {
    assert.equal(printText(e), text);
    assert.equal(printLatex(e), latex);
  }
  assert.equal(printText(X.add(a, -Infinity), { unicode: false }), 'a + (-Infinity)');
  assert.equal(printText(X.tensor([1, 2, 3], [3]), { maxInlineElements: 2 }), 'const[3]');
});

test('a shared subexpression is bound once and referenced by name', () => {
  const s = X.tanh(X.matmul(y, W1));
  const f = X.add(s, X.mul(s, s));
  const text = printText(f);
  assert.equal(text, 'v₁ + v₁ * v₁\nwhere\n  v₁ = tanh(y @ W₁)');
  assert.equal(text.split('tanh').length - 1, 1);
  assert.equal(printText(f, { unicode: false }), 'v1 + v1 * v1\nwhere\n  v1 = tanh(y @ W1)');
  assert.equal(printLatex(f),
    '\\begin{aligned}\n& v_{1} + v_{1} \\odot v_{1} \\\\\n\\text{where} \\\\\nv_{1} &= \\tanh\\left(y W_{1}\\right)\n\\end{aligned}');
  // Leaves are never bound, and automatic names avoid variable names.
  const v1 = X.variable('v1', 'param', [3, 3]);
  const sh = X.exp(v1);
  assert.equal(printText(X.add(X.mul(sh, sh), X.mul(v1, 2))), 'v₂ * v₂ + v₁ * 2\nwhere\n  v₂ = exp(v₁)');
});

test('bindings are numbered from 1 in dependency order', () => {
  const p = X.add(a, b);
  const q = X.mul(p, p);
  const f = X.sub(q, X.div(q, p));
  assert.equal(printText(f), 'v₂ - v₂ / v₁\nwhere\n  v₁ = a + b\n  v₂ = v₁ * v₁');
});

test('user names bind nodes, rename variables, and several roots share one where block', () => {
  const names = new Map<X.Expr<readonly [typeof B, 50]>, string>([[hidden3, 'h']]);
  assert.equal(printText(spiral3, { names }), 'h @ W₂ + b₂\nwhere\n  h = tanh(y³ @ W₁ + b₁)');
  assert.equal(printLatex(spiral3, { names }),
    '\\begin{aligned}\n& h W_{2} + b_{2} \\\\\n\\text{where} \\\\\nh &= \\tanh\\left(y^{3} W_{1} + b_{1}\\right)\n\\end{aligned}');
  // A bare root named by the caller is labelled with that name.
  assert.equal(printText(spiral3, { names: [[spiral3, 'f'], [hidden3, 'h']] }),
    'f = h @ W₂ + b₂\nwhere\n  h = tanh(y³ @ W₁ + b₁)');
  // Variables are renamed, not bound.
  assert.equal(printText(X.tanh(y), { names: [[y, 'z0']] }), 'tanh(z₀)');
  // Duplicate names get primes.
  assert.equal(printText(X.add(X.exp(y), X.log(y)), { names: [[X.exp(y), 'u'], [X.log(y), 'u']] }),
    "u + u'\nwhere\n  u = exp(y)\n  u' = log(y)");

  const a0 = X.state('a', [B, 2]);
  const dz = spiral3;
  const back = X.matmul(X.mul(X.matmul(a0, X.transposeM(W2)), X.sub(1, X.square(hidden3))), X.transposeM(W1));
  const da = X.neg(X.mul(back, X.mul(3, X.square(y))));
  const roots = [{ name: 'dz/dt', expr: dz }, { name: 'da/dt', expr: da }] as const;
  assert.equal(printText(roots, { names }),
    'dz/dt = h @ W₂ + b₂\nda/dt = -((((a @ W₂ᵀ) * (1 - h²)) @ W₁ᵀ) * (3 * y²))\nwhere\n  h = tanh(y³ @ W₁ + b₁)');
  assert.equal(printLatex([{ name: 'dz/dt', latex: '\\frac{dz}{dt}', expr: dz }, { name: 'da/dt', expr: da }], { names }),
    '\\begin{aligned}\n\\frac{dz}{dt} &= h W_{2} + b_{2} \\\\\n' +
    '\\text{da/dt} &= -\\left(\\left(\\left(\\left(a W_{2}^{\\top}\\right) \\odot \\left(1 - h^{2}\\right)\\right) ' +
    'W_{1}^{\\top}\\right) \\odot \\left(3 \\cdot y^{2}\\right)\\right) \\\\\n' +
    '\\text{where} \\\\\nh &= \\tanh\\left(y^{3} W_{1} + b_{1}\\right)\n\\end{aligned}');
  // A root used by another root is bound; a named constant is bound too.
  const s = X.matmul(y, W1);
  assert.equal(printText([{ name: 'f', expr: s }, { name: 'g', expr: X.tanh(s) }]),
    'f = v₁\ng = tanh(v₁)\nwhere\n  v₁ = y @ W₁');
  const A = X.tensor([1, 2, 3, 4], [2, 2]);
  assert.equal(printText(X.matmul(y, A), { names: [[A, 'A']] }), 'y @ A\nwhere\n  A = [[1, 2], [3, 4]]');
  // Without names the shared hidden layer is bound automatically.
  assert.equal(printText(roots),
    'dz/dt = v₁ @ W₂ + b₂\nda/dt = -((((a @ W₂ᵀ) * (1 - v₁²)) @ W₁ᵀ) * (3 * y²))\nwhere\n  v₁ = tanh(y³ @ W₁ + b₁)');
});

test('names: subscripts in text and LaTeX, Greek letters and escapes in LaTeX', () => {
  assert.equal(textName('W12'), 'W₁₂');
  assert.equal(textName('W12', false), 'W12');
  assert.equal(textName('dz/dt'), 'dz/dt');
  assert.equal(latexName('W1'), 'W_{1}');
  assert.equal(latexName('theta'), '\\theta');
  assert.equal(latexName('theta_out'), '\\theta_{\\mathrm{out}}');
  assert.equal(latexName('W1_x'), 'W_{1,\\mathrm{x}}');
  assert.equal(latexName('state'), '\\mathrm{state}');
  assert.equal(latexName("h'"), "h'");
  assert.equal(latexName('a&b_{c}'), '\\text{a\\&b\\_\\{c\\}}');
});

test('a DAG of 60 doublings prints in size linear in its depth', () => {
  let x: X.Expr<readonly [typeof B, 2]> = y;
  for (let i = 0; i < 60; i++) x = X.add(x, x);
  const text = printText(x);
  const lines = text.split('\n');
  assert.equal(lines.length, 61);
  assert.equal(lines[0], 'v₅₉ + v₅₉');
  assert.equal(lines[2], '  v₁ = y + y');
  assert.ok(text.length < 60 * 25, `length ${text.length}`);
  const latex = printLatex(x);
  assert.ok(latex.length < 60 * 40, `length ${latex.length}`);
  assert.equal(latexProblems(latex), undefined);
});

test('a chain of depth 10,000 prints without overflowing the stack', () => {
  let x: X.Expr<readonly [typeof B, 2]> = y;
  for (let i = 0; i < 10_000; i++) x = i % 2 === 0 ? X.tanh(x) : X.add(X.mul(x, 2), b2);
  const text = printText(x);
  assert.ok(text.startsWith('tanh(tanh(tanh('), text.slice(0, 40));
  assert.ok(text.endsWith(') * 2 + b₂) * 2 + b₂'), text.slice(-40));
  assert.ok(parensBalanced(text));
  const latex = printLatex(x);
  assert.equal(latexProblems(latex), undefined);
  let s: X.Expr<readonly [typeof B, 2]> = y;
  for (let i = 0; i < 10_000; i++) s = X.sub(s, b2);
  assert.equal(printText(s).length, 1 + 10_000 * ' - b₂'.length);
});

type M = X.Expr<readonly [3, 3]>;
/** Ways to make a new 3×3 node from earlier ones `p`, `q` and a small integer `k`. */
const makers: readonly ((p: M, q: M, k: number) => X.Expr<Shape>)[] = [
  (p, _, k) => X.lift(ok(C.unary(unaryOps[k % unaryOps.length] ?? 'neg', p.node))),
  (p, q, k) => X.lift(ok(C.binary(binaryOps[k % binaryOps.length] ?? 'add', p.node, q.node))),
  (p, _, k) => X.lift(ok(C.binary(binaryOps[k % binaryOps.length] ?? 'add', p.node,
    C.scalar([-2, 3, 0.5, -Infinity, NaN][k % 5] ?? 1)))),
  (p, _, k) => X.lift(ok(C.binary(binaryOps[k % binaryOps.length] ?? 'add',
    C.scalar([2, -1, 1e-9][k % 3] ?? 1), p.node))),
  (p, q) => X.matmul(p, q),
  (p) => X.transposeM(p),
  (p, _, k) => X.broadcastTo(X.reduceBy(reduceOps[k % reduceOps.length] ?? 'sum', p, [k % 2], true), [3, 3]),
  (p, _, k) => X.broadcastTo(X.reduceBy(reduceOps[k % reduceOps.length] ?? 'sum', p), [3, 3]),
  (p, q) => X.concat([X.slice(p, [0, 0], [3, 1]), X.slice(q, [0, 1], [3, 2])], 1),
  (p) => X.reshape(X.reshape(p, [9]), [3, 3]),
  (p) => X.add(p, X.tensor([1, -2, 3], [3])),
  (p) => X.mul(p, X.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3])),
  (p, _, k) => X.pow(p, k % 4),
  (p, q) => X.matmul(X.transposeM(p), q),
  (p) => X.square(X.neg(p)),
];

/** A random DAG over three 3×3 matrices: each step applies a maker to earlier nodes (which get shared). */
const buildDag = (steps: readonly (readonly [number, number, number, number])[]): Node => {
  const pool: M[] = [a, b, c];
  // Mostly recent nodes, so the DAG is deep and nodes get reused.
  const pick = (i: number): M => pool[i % 8 === 0 ? i % pool.length : pool.length - 1 - (i % Math.min(pool.length, 3))] ?? a;
  for (const [m, i, j, k] of steps) {
    const make = makers[m % makers.length] ?? makers[0];
    if (make !== undefined) pool.push(X.withShape(make(pick(i), pick(j), k), [3, 3]));
  }
  return (pool[pool.length - 1] ?? a).node;
};

const stepsArb = fc.array(fc.tuple(fc.nat(makers.length - 1), fc.nat(40), fc.nat(40), fc.nat(40)), { minLength: 1, maxLength: 25 });

test('LaTeX is well formed and text parentheses balance on random DAGs', () => {
  fc.assert(fc.property(stepsArb, fc.boolean(), (steps, named) => {
    const root = buildDag(steps);
    const names = named ? [[root, 'f'] as const] : [];
    const latex = printLatex(root, { names });
    assert.equal(latexProblems(latex), undefined, latex);
    const text = printText(root, { names });
    assert.ok(parensBalanced(text.replaceAll(/\|/g, '')), text);
    assert.equal(printText(root, { names }), text, 'deterministic');
    const two = printLatex([{ name: 'f', expr: root }, { name: 'g', expr: X.tanh(X.lift(root)) }]);
    assert.equal(latexProblems(two), undefined, two);
    // Each binding is defined once, numbered v1, v2, … in order, and used; output is linear in size.
    const ascii = printText(root, { unicode: false });
    const [, where = ''] = ascii.split('\nwhere\n');
    const defined = where === '' ? [] : where.split('\n').map((l) => /^ {2}(v\d+) = /.exec(l)?.[1]);
    assert.deepEqual(defined, defined.map((_, i) => `v${i + 1}`), ascii);
    for (const v of defined) assert.ok((ascii.match(new RegExp(`\\b${v ?? '?'}\\b`, 'g')) ?? []).length >= 2, ascii);
    assert.ok(ascii.length <= 80 * dagSize([root]), `${ascii.length} chars for ${dagSize([root])} nodes`);
  }), { seed: 20240601, numRuns: 300 });
});

test('the LaTeX checker itself catches unbalanced groups and double scripts', () => {
  assert.equal(latexProblems('\\frac{a}{b} \\left(x\\right)'), undefined);
  assert.notEqual(latexProblems('\\frac{a}{b'), undefined);
  assert.notEqual(latexProblems('\\left(x'), undefined);
  assert.notEqual(latexProblems('x^{2}^{3}'), undefined);
  assert.notEqual(latexProblems('\\begin{aligned} x \\end{bmatrix}'), undefined);
});

test('every unary, binary and reduce op has a distinct text and LaTeX form', () => {
  const check = (nodes: readonly Node[], label: string): void => {
    for (const print of [printText, (n: Node) => printText(n, { unicode: false }), printLatex]) {
      const outs = nodes.map((n) => print(n));
      for (const o of outs) assert.ok(o.length > 0);
      assert.equal(new Set(outs).size, nodes.length, `${label}: ${outs.join(' | ')}`);
      for (const o of outs) if (print === printLatex) assert.equal(latexProblems(o), undefined, o);
    }
  };
  check(unaryOps.map((op) => ok(C.unary(op, a.node))), 'unary');
  check(binaryOps.map((op) => ok(C.binary(op, a.node, b.node))), 'binary');
  check(reduceOps.map((op) => ok(C.reduce(op, a.node, [1], false))), 'reduce');
  assert.equal(printText(ok(C.unary('sigmoid', a.node))), 'σ(a)');
  assert.equal(printLatex(ok(C.unary('softplus', a.node))), '\\operatorname{softplus}\\left(a\\right)');
  assert.equal(printLatex(ok(C.binary('maximum', a.node, b.node))), '\\max\\left(a, b\\right)');
  assert.equal(printLatex(ok(C.unary('sqrt', a.node))), '\\sqrt{a}');
});
