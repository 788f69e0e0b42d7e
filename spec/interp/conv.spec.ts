/**
 * The window node kinds across interpreters: `unpatches` is the adjoint of `patches` for random
 * windows (⟨patches(x), y⟩ = ⟨x, unpatches(y)⟩), the generated kernel equals evalF64 bit for bit
 * on both, and conv2d, groupNorm and avgPool2d agree between evalF64, the kernel and tfjs on
 * every backend, and with TensorFlow's own `conv2d` and `avgPool`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { avgPool2d, conv2d, groupNorm, type Conv2dOptions } from '../../src/dsl/conv.ts';
import * as X from '../../src/dsl/expr.ts';
import type { Node } from '../../src/dsl/node.ts';
import { sym } from '../../src/dsl/shape.ts';
import { makeWindow, patchGrid } from '../../src/dsl/window.ts';
import { vjp } from '../../src/adjoint/vjp.ts';
import { availableBackends, selectBackend } from '../../src/interp/backend.ts';
import { evalF64, type F64Env } from '../../src/interp/evalF64.ts';
import { compileKernel, kernelFn } from '../../src/interp/kernel/index.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { compileTfjs } from '../../src/interp/toTfjs.ts';
import { freeVars } from '../../src/interp/traverse.ts';
import { rng } from '../adjoint/fd.ts';
import { assertProperty } from '../support/property.ts';

const B = sym('batch');

const ref = (roots: readonly Node[], env: F64Env): readonly F64Tensor[] => {
  const r = evalF64(roots, env);
  if (E.isLeft(r)) assert.fail(JSON.stringify(r.left));
  return r.right;
};
const viaKernel = (roots: readonly Node[], env: F64Env): readonly F64Tensor[] => {
  const r = kernelFn(roots)(env);
  if (E.isLeft(r)) assert.fail(JSON.stringify(r.left));
  return r.right;
};
const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * (b[i] as number), 0);
const bitEqual = (a: Float64Array, b: Float64Array, label: string): void => {
  assert.equal(a.length, b.length, label);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${label}[${i}]: ${a[i]} vs ${b[i]}`);
};

const windowArb = fc.record({
  n: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }),
  c: fc.integer({ min: 1, max: 3 }),
  kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
  strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  padding: fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 }), fc.nat({ max: 2 }), fc.nat({ max: 2 })),
  seed: fc.nat({ max: 1e6 }),
});

test('property: unpatches is the adjoint of patches, and the kernel equals evalF64 bit for bit on both', () => {
  let checked = 0;
  assertProperty(fc.property(windowArb, (a) => {
    const win = makeWindow(a);
    if (E.isLeft(win)) throw new Error(win.left);
    const grid = patchGrid(win.right, a.h, a.w);
    fc.pre(E.isRight(grid));
    const x = X.input('x', [B, a.h, a.w, a.c]);
    const cols = X.patches(x, win.right);
    const y = X.input('y', cols.shape);
    const back = X.unpatches(y, win.right, [a.h, a.w]);
    const r = rng(a.seed, 'adjoint');
    const env = { x: r.tensor([a.n, a.h, a.w, a.c]), y: r.tensor([a.n, ...cols.shape.slice(1)] as number[]) };
    const [px, uy] = ref([cols.node, back.node], env) as [F64Tensor, F64Tensor];
    const lhs = dot(px.data, env.y.data), rhs = dot(env.x.data, uy.data);
    const scale = px.data.reduce((s, v, i) => s + Math.abs(v * (env.y.data[i] as number)), 0);
    assert.ok(Math.abs(lhs - rhs) <= 1e-12 * (1 + scale), `⟨patches(x), y⟩ = ${lhs}, ⟨x, unpatches(y)⟩ = ${rhs}`);
    const [kx, ky] = viaKernel([cols.node, back.node], env) as [F64Tensor, F64Tensor];
    bitEqual(kx.data, px.data, 'kernel patches');
    bitEqual(ky.data, uy.data, 'kernel unpatches');
    checked++;
  }), { seed: 4242, numRuns: 200 });
  assert.ok(checked > 100, `only ${checked} windows fit their images`);
});

test('a padded 3×3 conv lowers to a zero fill, nine strided copies and one matmul', () => {
  const x = X.input('x', [B, 7, 7, 4]), f = X.input('f', [3, 3, 4, 8]);
  const y = conv2d(x, f, { padding: 'same' });
  const k = compileKernel([y.node], freeVars([y.node]), new Map([['batch', 2]]));
  if (E.isLeft(k)) assert.fail(JSON.stringify(k.left));
  assert.equal(k.right.instructionCount, 11);
  const valid = conv2d(x, f, { padding: 'valid' });
  const kv = compileKernel([valid.node], freeVars([valid.node]), new Map([['batch', 2]]));
  assert.ok(E.isRight(kv) && kv.right.instructionCount === 10, 'no zero fill when every window is inside');
});

/** Models compared across interpreters, with TensorFlow's own op where it has one. */
interface Case {
  readonly label: string;
  readonly root: Node;
  readonly env: F64Env;
  readonly tfRef?: (t: Readonly<Record<string, tf.Tensor>>) => tf.Tensor;
}

const cases = (): readonly Case[] => {
  const r = rng(77, 'conv-interp');
  const f32 = (shape: readonly number[]): F64Tensor => {
    const t = r.tensor(shape);
    return { shape, data: t.data.map(Math.fround) };
  };
  const out: Case[] = [];
  const convs: readonly (readonly [readonly [number, number, number, number], readonly [number, number, number, number], Conv2dOptions])[] = [
    [[2, 7, 7, 3], [3, 3, 3, 4], { padding: 'same' }],
    [[3, 8, 6, 2], [3, 3, 2, 5], { padding: 'valid', stride: 2 }],
    [[2, 9, 9, 4], [3, 3, 4, 3], { padding: 'same', stride: 2 }],
    [[2, 6, 7, 1], [2, 3, 1, 2], { padding: 'same', dilation: 2 }],
  ];
  for (const [xs, fs, opts] of convs) {
    const x = X.input('x', [B, xs[1], xs[2], xs[3]]), f = X.input('f', fs);
    const pad = opts.padding === 'same' ? 'same' : 'valid';
    out.push({
      label: `conv ${JSON.stringify(opts)}`, root: conv2d(x, f, opts).node, env: { x: f32(xs), f: f32(fs) },
      tfRef: (t) => tf.conv2d(t['x'] as tf.Tensor4D, t['f'] as tf.Tensor4D, (opts.stride as number | undefined) ?? 1, pad, 'NHWC', (opts.dilation as number | undefined) ?? 1),
    });
  }
  const x = X.input('x', [B, 6, 6, 4]);
  const env = { x: f32([3, 6, 6, 4]), gamma: f32([4]), beta: f32([4]) };
  out.push({ label: 'groupNorm', root: groupNorm(x, 2, X.input('gamma', [4]), X.input('beta', [4]), 1e-5).node, env });
  out.push({ label: 'avgPool tiled', root: avgPool2d(x, 2).node, env, tfRef: (t) => tf.avgPool(t['x'] as tf.Tensor4D, 2, 2, 'valid') });
  out.push({ label: 'avgPool overlapping', root: avgPool2d(x, 3, { stride: 1 }).node, env, tfRef: (t) => tf.avgPool(t['x'] as tf.Tensor4D, 3, 1, 'valid') });
  out.push({ label: 'avgPool strided', root: avgPool2d(x, [2, 3], { stride: [2, 1] }).node, env,
    tfRef: (t) => tf.avgPool(t['x'] as tf.Tensor4D, [2, 3], [2, 1], 'valid') });
  return out;
};

test('conv2d, groupNorm and avgPool2d: the kernel equals evalF64 bit for bit', () => {
  for (const c of cases()) bitEqual((viaKernel([c.root], c.env)[0] as F64Tensor).data, (ref([c.root], c.env)[0] as F64Tensor).data, c.label);
});

test('the VJPs of conv2d (image and filter) and groupNorm: the kernel equals evalF64 bit for bit', () => {
  const r = rng(78, 'conv-vjp-kernel');
  for (const opts of [{ padding: 'same' }, { padding: 'valid', stride: 2 }, { padding: 1, dilation: 2 }] as const) {
    const x = X.input('x', [B, 7, 6, 3]), f = X.input('f', [3, 3, 3, 4]);
    const gamma = X.input('gamma', [4]), beta = X.input('beta', [4]);
    const y = X.tanh(groupNorm(conv2d(x, f, opts), 2, gamma, beta));
    const g = X.input('g', y.shape);
    const grads = vjp([y.node], [g.node], [x.node, f.node, gamma.node]);
    const env = Object.fromEntries(freeVars([...grads, y.node]).map((v) =>
      [v.name, r.tensor(v.shape.map((d) => (typeof d === 'number' ? d : 3)))]));
    const want = ref(grads, env), got = viaKernel(grads, env);
    want.forEach((w, i) => bitEqual((got[i] as F64Tensor).data, w.data, `${JSON.stringify(opts)} gradient ${i}`));
  }
});

const closeF32 = (got: ArrayLike<number>, want: ArrayLike<number>, label: string): void => {
  assert.equal(got.length, want.length, label);
  for (let i = 0; i < want.length; i++) {
    const a = got[i] as number, b = want[i] as number;
    if (!(Math.abs(a - b) <= 1e-5 + 1e-5 * Math.abs(b))) assert.fail(`${label}[${i}]: ${a} vs ${b}`);
  }
};

const backends = await availableBackends();
for (const backend of backends) {
  describe(`conv on tfjs ${backend}`, () => {
    before(async () => assert.ok(E.isRight(await selectBackend({ backend }))));
    after(() => tf.disposeVariables());

    test('toTfjs agrees with evalF64, and with tf.conv2d / tf.avgPool, in float32', () => {
      for (const c of cases()) {
        const want = ref([c.root], c.env)[0] as F64Tensor;
        const inputs = Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, tf.tensor(Float32Array.from(v.data), v.shape.slice())]));
        const prog = compileTfjs([c.root]);
        const base = tf.memory().numTensors;
        const [got] = prog.runOrThrow(inputs) as [tf.Tensor];
        assert.deepEqual(got.shape, want.shape, c.label);
        closeF32(got.dataSync(), want.data, `${c.label} toTfjs`);
        if (c.tfRef !== undefined) {
          const t = c.tfRef(inputs);
          assert.deepEqual(t.shape, want.shape, `${c.label} tf shape`);
          closeF32(t.dataSync(), want.data, `${c.label} tf`);
          t.dispose();
        }
        got.dispose();
        assert.equal(tf.memory().numTensors, base, `${c.label} leaks no tensors`);
        tf.dispose(Object.values(inputs));
        prog.dispose();
      }
    });
  });
}
