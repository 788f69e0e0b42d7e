/**
 * The convolutional builders and the window node kinds at the DSL level: checked construction
 * and its messages, conv2d / conv2dTimeChannel / groupNorm / avgPool2d / flatten against direct
 * nested loops in float64, types, printing, batch independence, and a JSON round trip of a
 * small ODE-Net model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../../src/dsl/construct.ts';
import { avgPool2d, conv2d, conv2dTimeChannel, convWindow, flatten, groupNorm, type Conv2dOptions } from '../../src/dsl/conv.ts';
import * as X from '../../src/dsl/expr.ts';
import {
  decodeExprSpec, decodeModelSpec, encodeModelSpec, formatSpecErrors, modelSpecOf, stringifySpec, type ExprSpec,
} from '../../src/dsl/json/index.ts';
import { makeDynamics, makeModel } from '../../src/dsl/model.ts';
import { param } from '../../src/dsl/params.ts';
import { sym, type Shape } from '../../src/dsl/shape.ts';
import { formatWindow, makeWindow, samePadding, type Window2d } from '../../src/dsl/window.ts';
import { checkRowwise } from '../../src/adjoint/batch.ts';
import { evalF64, type F64Env } from '../../src/interp/evalF64.ts';
import { printLatex } from '../../src/interp/printLatex.ts';
import { printText } from '../../src/interp/printText.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { rng } from '../adjoint/fd.ts';
import { directAvgPool, directConv, directGroupNorm, expectClose } from '../support/convRef.ts';

const B = sym('batch');
const r = rng(31, 'conv-dsl');
const tensor = (shape: readonly number[]): F64Tensor => r.tensor(shape);
const win = (w: Window2d) => ({ kernel: w.kernel, strides: w.strides, padding: w.padding, dilation: w.dilation });
const left = <T>(e: E.Either<string, T>): string => (E.isLeft(e) ? e.left : assert.fail('expected a Left'));
const right = <T>(e: E.Either<string, T>): T => (E.isRight(e) ? e.right : assert.fail(e.left));
const run = (roots: readonly X.Expr<Shape>[], env: F64Env): readonly F64Tensor[] => {
  const o = evalF64(roots.map((e) => e.node), env);
  if (E.isLeft(o)) assert.fail(JSON.stringify(o.left));
  return o.right;
};

test('windows are validated, formatted, and size TensorFlow-style same padding', () => {
  const w = makeWindow({ kernel: 3, strides: [2, 1], padding: 1 });
  assert.ok(E.isRight(w));
  assert.deepEqual(w.right, { kernel: [3, 3], strides: [2, 1], padding: [1, 1, 1, 1], dilation: [1, 1] });
  assert.equal(formatWindow(w.right), '3×3, stride 2,1, pad 1');
  assert.match(left(makeWindow({ kernel: 0 })), /kernel sizes must be integers in \[1,/);
  assert.match(left(makeWindow({ kernel: 2, strides: 0 })), /strides must be/);
  assert.match(left(makeWindow({ kernel: 2, padding: -1 })), /paddings must be integers in \[0,/);
  assert.match(left(makeWindow({ kernel: 2.5 })), /kernel sizes/);
  // 'same': output ceil(size / stride), the extra padding row after.
  assert.deepEqual(samePadding(7, 3, 1), [1, 1]);
  assert.deepEqual(samePadding(7, 3, 2), [1, 1]);
  assert.deepEqual(samePadding(8, 3, 2), [0, 1]);
  assert.deepEqual(samePadding(5, 4, 1), [1, 2]);
  assert.deepEqual(convWindow(7, 8, 3, 3, { padding: 'same', stride: 2 }).padding, [1, 1, 0, 1]);
});

test('patches and unpatches check their inputs and infer [N,H\',W\',kh·kw·C] / [N,H,W,C]', () => {
  const x = X.input('x', [B, 5, 6, 3]);
  const w = X.patches(x, { kernel: [3, 2], strides: [2, 1], padding: [1, 0, 0, 1] });
  assert.deepEqual(w.shape, [B, 2, 6, 18]);
  assert.deepEqual(X.unpatches(w, { kernel: [3, 2], strides: [2, 1], padding: [1, 0, 0, 1] }, [5, 6]).shape, [B, 5, 6, 3]);
  const w3 = right(makeWindow({ kernel: 3 }));
  assert.equal(left(C.patches(X.input('v', [B, 3]).node, w3)), 'patches: needs an NHWC tensor [N,H,W,C], got [batch,3]');
  assert.match(left(C.patches(X.input('s', [2, B, 4, 1]).node, w3)), /H, W and C of \[2,batch,4,1\] must be numeric/);
  assert.match(left(C.patches(X.input('t', [1, 2, 2, 1]).node, w3)), /window 3×3 is larger than the padded 2×2 image/);
  const cols = X.input('c', [B, 3, 4, 10]);
  assert.match(left(C.unpatches(cols.node, w3, [5, 6])), /10 columns are not a multiple of the 9 taps/);
  assert.match(left(C.unpatches(X.input('d', [B, 3, 3, 9]).node, w3, [5, 6])), /on a 5×6 image has 3×4 positions, but the input has 3×3/);
  // Interning: equal windows give one node, different ones different nodes.
  assert.equal(X.patches(x, { kernel: 3 }).node, X.patches(x, w3).node);
  assert.notEqual(X.patches(x, { kernel: 3 }).node, X.patches(x, { kernel: 3, dilation: 1, padding: [0, 0, 0, 1] }).node);
});

test('matmul is batched over leading dims that are equal or absent', () => {
  const s = X.input('s', [B, 7, 3, 4]), w = X.input('w', [4, 5]), m = X.input('m', [2, 3]), u = X.input('u', [B, 7, 3, 5]);
  assert.deepEqual(X.batchMatmul(s, w).shape, [B, 7, 3, 5]);
  assert.deepEqual(X.matmulChecked(m, u).shape, [B, 7, 2, 5]);
  assert.deepEqual(X.matmulChecked(s, X.input('v', [B, 7, 4, 1])).shape, [B, 7, 3, 1]);
  assert.throws(() => X.matmulChecked(s, X.input('p', [B, 6, 4, 1])), /leading \(batch\) dimensions differ/);
  assert.throws(() => X.matmulChecked(s, X.input('q', [5, 5])), /inner dimensions differ/);
  // @ts-expect-error inner dimensions 4 and 5 differ
  assert.throws(() => X.batchMatmul(s, X.input('k', [5, 2])), /inner dimensions differ/);
});


/** conv2d cases: padding modes, strides 1 and 2, dilation, several channel counts, odd sizes. */
const convCases: readonly (readonly [readonly [number, number, number, number], readonly [number, number, number, number], Conv2dOptions])[] = [
  [[2, 5, 5, 1], [3, 3, 1, 1], { padding: 'same' }],
  [[2, 5, 6, 2], [3, 3, 2, 3], { padding: 'valid' }],
  [[3, 6, 5, 3], [3, 2, 3, 4], { padding: 'same', stride: 2 }],
  [[2, 7, 7, 4], [3, 3, 4, 2], { padding: 'valid', stride: 2 }],
  [[1, 8, 6, 2], [2, 3, 2, 5], { padding: 1, stride: [2, 1] }],
  [[2, 7, 6, 3], [3, 3, 3, 2], { padding: 'same', dilation: 2 }],
  [[2, 4, 4, 5], [1, 1, 5, 3], {}],
];

test('conv2d equals a direct nested-loop convolution (same/valid/explicit, strides, dilation, channels)', () => {
  for (const [xs, fs, opts] of convCases) {
    const x = X.input('x', [B, xs[1], xs[2], xs[3]]);
    const f = X.input('f', fs);
    const y = conv2d(x, f, opts);
    const env = { x: tensor(xs), f: tensor(fs) };
    const [got] = run([y], env) as [F64Tensor];
    const want = directConv(env.x, env.f, win(convWindow(xs[1], xs[2], fs[0], fs[1], opts)));
    assert.deepEqual(got.shape, want.shape, JSON.stringify(opts));
    if (opts.padding === 'same' && opts.stride === undefined) assert.deepEqual(got.shape.slice(1, 3), xs.slice(1, 3));
    expectClose(got.data, want.data, 1e-12, `conv ${JSON.stringify(opts)} ${xs.join('x')}`);
  }
  assert.throws(() => conv2d(X.input('x', [B, 5, 5, 2]), X.input('g', [3, 3, 3, 4])), /expects 3 input channels, the image \[batch,5,5,2\] has 2/);
  // @ts-expect-error a matrix is not an NHWC image
  assert.throws(() => conv2d(X.input('m', [B, 3]), X.input('g', [3, 3, 3, 4])));
});

test('conv2dTimeChannel is the convolution of the image with a channel filled with t', () => {
  const x = X.input('x', [B, 4, 5, 2]), t = X.time('t'), f = X.input('f', [3, 3, 3, 4]);
  const y = conv2dTimeChannel(x, t, f, { padding: 'same' });
  assert.deepEqual(y.shape, [B, 4, 5, 4]);
  const env = { x: tensor([2, 4, 5, 2]), f: tensor([3, 3, 3, 4]), t: { shape: [], data: Float64Array.of(0.7) } };
  const withT = new Float64Array(2 * 4 * 5 * 3);
  for (let p = 0; p < 40; p++) withT.set([env.x.data[2 * p] as number, env.x.data[2 * p + 1] as number, 0.7], 3 * p);
  const want = directConv({ shape: [2, 4, 5, 3], data: withT }, env.f, win(convWindow(4, 5, 3, 3, { padding: 'same' })));
  expectClose((run([y], env)[0] as F64Tensor).data, want.data, 1e-12, 'time channel');
});

type RefPool = Parameters<typeof directAvgPool>[1];

test('groupNorm, avgPool2d (tiled and overlapping) and flatten equal direct loops', () => {
  const x = X.input('x', [B, 4, 6, 6]);
  const gamma = X.input('gamma', [6]), beta = X.input('beta', [6]);
  const env = { x: tensor([3, 4, 6, 6]), gamma: tensor([6]), beta: tensor([6]) };
  for (const groups of [1, 2, 3, 6]) {
    const [got] = run([groupNorm(x, groups, gamma, beta, 1e-3)], env) as [F64Tensor];
    expectClose(got.data, directGroupNorm(env.x, groups, env.gamma, env.beta, 1e-3).data, 1e-12, `groupNorm ${groups}`);
  }
  assert.throws(() => groupNorm(x, 4, gamma, beta), /group count dividing 6 channels, got 4/);
  const pools: readonly (readonly [number | readonly [number, number], Parameters<typeof avgPool2d>[2], RefPool])[] = [
    [2, {}, { kernel: [2, 2], strides: [2, 2], padding: [0, 0, 0, 0], dilation: [1, 1] }],
    [[2, 3], {}, { kernel: [2, 3], strides: [2, 3], padding: [0, 0, 0, 0], dilation: [1, 1] }],
    [3, { stride: 1 }, { kernel: [3, 3], strides: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1] }],
    [3, { stride: 2, padding: 1 }, { kernel: [3, 3], strides: [2, 2], padding: [1, 1, 1, 1], dilation: [1, 1] }],
  ];
  for (const [size, opts, ref] of pools) {
    const y = avgPool2d(x, size, opts);
    const [got] = run([y], env) as [F64Tensor];
    const want = directAvgPool(env.x, ref);
    assert.deepEqual(got.shape, want.shape);
    expectClose(got.data, want.data, 1e-12, `avgPool ${JSON.stringify([size, opts])}`);
  }
  // Tiled windows need no patches node; overlapping ones do.
  assert.equal(printText(avgPool2d(x, 2)), 'mean(reshape(x, [batch,2,2,3,2,6]), axes=[2,4])');
  assert.match(printText(avgPool2d(x, 3, { stride: 1 })), /patches\(x, 3×3\)/);
  const flat = flatten(x);
  assert.deepEqual(flat.shape, [B, 144]);
  assert.deepEqual((run([flat], env)[0] as F64Tensor).data, env.x.data);
});


test('printing shows the windows', () => {
  const x = X.input('x', [B, 7, 7, 2]), f = X.variable('W1', 'param', [3, 3, 2, 4]);
  const y = conv2d(x, f, { padding: 'same', stride: 2 });
  assert.equal(printText(y), 'patches(x, 3×3, stride 2, pad 1) @ reshape(W₁, [18,4])');
  assert.equal(printText(y, { unicode: false }), 'patches(x, 3x3, stride 2, pad 1) @ reshape(W1, [18,4])');
  assert.equal(printLatex(y), '\\operatorname{patches}_{3\\times 3,\\,\\mathrm{stride}\\ 2,\\,\\mathrm{pad}\\ 1}\\left(x\\right) \\operatorname{reshape}_{[18, 4]}\\left(W_{1}\\right)');
  const back = X.unpatches(X.patches(x, { kernel: 2, dilation: 2 }), { kernel: 2, dilation: 2 }, [7, 7]);
  assert.equal(printText(back), 'unpatches(patches(x, 2×2, dilation 2), 2×2, dilation 2, to 7×7)');
  assert.equal(printLatex(back),
    '\\operatorname{unpatches}_{2\\times 2,\\,\\mathrm{dilation}\\ 2,\\,7\\times 7}\\left(\\operatorname{patches}_{2\\times 2,\\,\\mathrm{dilation}\\ 2}\\left(x\\right)\\right)');
});

/** A small ODE-Net: f(z, t) = conv(tanh(groupNorm(z)), t) + b with time as a channel. */
const odeNet = () => {
  const z = X.state('z', [B, 4, 4, 2]), t = X.time('t');
  const W = param('W', [3, 3, 3, 2], { kind: 'normal', mean: 0, std: 0.1 });
  const b = param('b', [2], { kind: 'zeros' });
  const gamma = param('gamma', [2], { kind: 'constant', value: 1 }), beta = param('beta', [2], { kind: 'zeros' });
  const h = X.tanh(groupNorm(z, 1, gamma.expr, beta.expr));
  const f = X.withShape(X.add(conv2dTimeChannel(h, t, W.expr, { padding: 'same' }), b.expr), z.shape);
  return { z, t, f, params: [W, b, gamma, beta] };
};

test('an ODE-Net dynamics is row-wise; windows over another axis are not', () => {
  const { z, f } = odeNet();
  assert.deepEqual(checkRowwise(f.node, z.node), E.right(undefined));
  const pooled = avgPool2d(z, 2, { stride: 1 });
  const back = X.unpatches(X.patches(pooled, { kernel: 2 }), { kernel: 2 }, [3, 3]);
  assert.deepEqual(checkRowwise(X.reshape(back, [B, 18]).node, z.node), E.right(undefined));
  // Only N may be named, so a named batch is always N; a numeric batch can be moved to H.
  const zn = X.input('zn', [3, 4, 4, 2]);
  const moved = X.withShape(X.transpose(zn, [1, 0, 2, 3]), [4, 3, 4, 2]);
  const mixed = checkRowwise(X.transpose(X.patches(moved, { kernel: 2 }), [1, 0, 2, 3]).node, zn.node);
  assert.ok(E.isLeft(mixed) && /slides windows over the batch axis \(axis 1, not N\)/.test(mixed.left), JSON.stringify(mixed));
  // A stack-by-stack product pairs rows with rows; a batch contraction does not.
  const rows = X.reshape(z, [B, 4, 8]);
  assert.ok(E.isRight(checkRowwise(X.matmulChecked(rows, X.transpose(rows, [0, 2, 1])).node, z.node)));
  const across = checkRowwise(X.matmulChecked(X.transpose(rows, [1, 0, 2]), X.transpose(rows, [1, 2, 0])).node, z.node);
  assert.ok(E.isLeft(across) && /multiplies two batch-dependent/.test(across.left));
});

test('a conv ODE-Net round-trips through JSON: same nodes, same document, patches with attributes', () => {
  const { z, t, f, params } = odeNet();
  const dyn = right(makeDynamics({ state: z, time: t, params, f }));
  const model = right(makeModel({ name: 'odenet', dynamics: dyn, seed: 3 }));
  const doc = encodeModelSpec(modelSpecOf(model));
  const text = stringifySpec(doc);
  assert.match(text, /"op": "patches"/);
  assert.match(text, /"kernel": \[\s*3,\s*3\s*\]/);
  assert.match(text, /"padding": \[\s*1,\s*1,\s*1,\s*1\s*\]/);
  const back = decodeModelSpec(JSON.parse(text));
  if (E.isLeft(back)) assert.fail(JSON.stringify(back.left));
  assert.equal(back.right.model.dynamics.f.node, f.node);
  assert.deepEqual(encodeModelSpec(back.right), doc);
  // unpatches carries the image size; bad attributes are reported with their path.
  const cols = X.input('c', [B, 3, 3, 8]);
  const un = X.unpatches(cols, { kernel: 2, strides: 2 }, [6, 6]);
  const unDoc = { fluxion: 'expr/1', variables: { c: { role: 'input', shape: ['batch', 3, 3, 8] } },
    exprs: { u: { op: 'unpatches', args: ['c'], kernel: [2, 2], strides: [2, 2], size: [6, 6] } } };
  const dec = decodeExprSpecOrFail(unDoc);
  assert.equal(dec.exprs.get('u'), un.node);
  const bad = { ...unDoc, exprs: { u: { op: 'patches', args: ['c'], kernel: [2], strides: [2, 2], dilaton: [1, 1] } } };
  assert.match(formatErrors(bad), /exprs\.u\.dilaton: unknown property "dilaton" \(did you mean "dilation"\?\)/);
  const bad2 = { ...unDoc, exprs: { u: { op: 'patches', args: ['c'], kernel: [2] } } };
  assert.match(formatErrors(bad2), /exprs\.u: patches: kernel needs 2 integers, got \[2\]/);
});

const decodeExprSpecOrFail = (doc: unknown): ExprSpec => {
  const r = decodeExprSpec(doc);
  if (E.isLeft(r)) assert.fail(formatSpecErrors(r.left));
  return r.right;
};
const formatErrors = (doc: unknown): string => {
  const r = decodeExprSpec(doc);
  return E.isLeft(r) ? formatSpecErrors(r.left) : assert.fail('expected errors');
};
