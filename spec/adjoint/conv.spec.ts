/**
 * Derivatives of the convolutional builders: conv2d's VJP with respect to the image and the
 * filter (and time, with a time channel), groupNorm's and avgPool2d's, against central finite
 * differences in float64; second derivatives (the VJP of a VJP, possible because `patches` and
 * `unpatches` are each other's rule); and agreement with `tf.grad` of `tf.conv2d` in float32
 * (computed on the cpu backend: wasm has no `Conv2DBackpropFilter` kernel, while our conv, made of
 * pad/slice/concat/matmul, differentiates on every backend).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { avgPool2d, conv2d, conv2dTimeChannel, groupNorm, type Conv2dOptions } from '../../src/dsl/conv.ts';
import * as X from '../../src/dsl/expr.ts';
import type { Node, NodeOf } from '../../src/dsl/node.ts';
import { sym, type Shape } from '../../src/dsl/shape.ts';
import { vjp } from '../../src/adjoint/vjp.ts';
import { availableBackends, selectBackend } from '../../src/interp/backend.ts';
import type { F64Env } from '../../src/interp/evalF64.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { compileTfjs } from '../../src/interp/toTfjs.ts';
import { topoOrder } from '../../src/interp/traverse.ts';
import { checkVjp, rng, run, type Rng } from './fd.ts';

const B = sym('batch');
const sizes = new Map([['batch', 2]]);
const resolve = (s: Shape): number[] => s.map((d) => (typeof d === 'number' ? d : 2));
const varOf = (e: X.Expr<Shape>): NodeOf<'var'> => e.node as NodeOf<'var'>;

/** Random values for every variable under `roots` (named dims at 2). */
const envFor = (roots: readonly Node[], r: Rng): F64Env =>
  Object.fromEntries(topoOrder(roots).filter((n): n is NodeOf<'var'> => n.kind === 'var')
    .map((v) => [v.name, r.tensor(resolve(v.shape))]));

const expectFd = (outputs: readonly Node[], wrt: readonly X.Expr<Shape>[], r: Rng, label: string, env?: F64Env): void => {
  const { mismatches, checked } = checkVjp({ outputs, wrt: wrt.map(varOf), env: env ?? envFor(outputs, r), rng: r, sizes });
  assert.ok(checked > 0, label);
  assert.deepEqual(mismatches.slice(0, 5), [], `${label}: symbolic VJP differs from finite differences`);
};

const convOptions: readonly Conv2dOptions[] = [
  { padding: 'same' }, { padding: 'valid' }, { padding: 'same', stride: 2 }, { padding: 1, stride: [2, 1], dilation: 2 },
];

test('conv2d: VJP with respect to the image and the filter matches finite differences', () => {
  const r = rng(5, 'conv-vjp');
  for (const opts of convOptions) {
    const x = X.input('x', [B, 5, 6, 2]), f = X.input('f', [3, 3, 2, 3]);
    expectFd([X.tanh(conv2d(x, f, opts)).node], [x, f], r, `conv ${JSON.stringify(opts)}`);
  }
});

test('conv2dTimeChannel: VJP with respect to the image, the filter and the time', () => {
  const r = rng(6, 'conv-time');
  const x = X.input('x', [B, 4, 4, 2]), f = X.input('f', [3, 3, 3, 2]), t = X.input('t', []);
  expectFd([conv2dTimeChannel(x, t, f, { padding: 'same' }).node], [x, f, t], r, 'time channel');
});

test('groupNorm and avgPool2d: VJPs match finite differences', () => {
  const r = rng(7, 'norm-pool');
  const x = X.input('x', [B, 4, 4, 4]), gamma = X.input('gamma', [4]), beta = X.input('beta', [4]);
  expectFd([groupNorm(x, 2, gamma, beta, 1e-3).node], [x, gamma, beta], r, 'groupNorm');
  expectFd([avgPool2d(x, 2).node, avgPool2d(x, 3, { stride: 1, padding: 1 }).node], [x], r, 'avgPool');
});

test('second derivatives: the VJP of conv2d\'s VJP matches finite differences of the VJP', () => {
  const r = rng(8, 'conv-hvp');
  const x = X.input('x', [B, 4, 5, 2]), f = X.input('f', [3, 3, 2, 2]);
  const y = X.tanh(conv2d(x, f, { padding: 'same', stride: [1, 2] }));
  const g = X.input('g', y.shape);
  const grads = vjp([y.node], [g.node], [x.node, f.node]);
  const kinds = new Set(grads.flatMap((n) => topoOrder([n]).map((m) => m.kind)));
  assert.ok(kinds.has('unpatches'), 'the image gradient uses unpatches');
  expectFd(grads, [x, f], r, 'Hessian-vector products', envFor([...grads, y.node], r));
});

/** The float32 gradient of ⟨conv(x, f), g⟩ by `tf.grad` of `tf.conv2d`, read as float64. */
const tfConvGrads = (env: F64Env, opts: Conv2dOptions): readonly Float64Array[] => {
  const t = (name: string): tf.Tensor4D => {
    const v = env[name] as F64Tensor;
    return tf.tensor4d(Float32Array.from(v.data), v.shape as [number, number, number, number]);
  };
  const [x, f, g] = [t('x'), t('f'), t('g')];
  const pad = opts.padding === 'same' ? 'same' : 'valid';
  const stride = (opts.stride as number | undefined) ?? 1;
  const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), g));
  const [gx, gf] = tf.grads(loss)([x, f]) as [tf.Tensor, tf.Tensor];
  const out = [Float64Array.from(gx.dataSync()), Float64Array.from(gf.dataSync())];
  tf.dispose([x, f, g, gx, gf]);
  return out;
};

const closeF32 = (got: ArrayLike<number>, want: ArrayLike<number>, label: string): void => {
  assert.equal(got.length, want.length, label);
  for (let i = 0; i < want.length; i++) {
    const a = got[i] as number, b = want[i] as number;
    if (!(Math.abs(a - b) <= 1e-4 + 1e-4 * Math.abs(b))) assert.fail(`${label}[${i}]: ${a} vs ${b}`);
  }
};

/** The cases, with tf.grad of tf.conv2d computed once on the cpu backend (wasm has no Conv2DBackpropFilter). */
const tfCases = await (async () => {
  assert.ok(E.isRight(await selectBackend({ backend: 'cpu' })));
  const r = rng(9, 'conv-tf');
  return ([{ padding: 'same' }, { padding: 'valid', stride: 2 }, { padding: 'same', stride: 2 }] as const).map((opts) => {
    const x = X.input('x', [B, 6, 7, 3]), f = X.input('f', [3, 3, 3, 4]);
    const y = conv2d(x, f, opts);
    const g = X.input('g', y.shape);
    const env: F64Env = Object.fromEntries(Object.entries(envFor([y.node, g.node], r))
      .map(([k, v]) => [k, { shape: v.shape, data: v.data.map(Math.fround) }]));
    return { opts, x, f, y, g, env, want: tfConvGrads(env, opts) };
  });
})();

const backends = await availableBackends();
for (const backend of backends) {
  describe(`conv gradients against tf.grad on ${backend}`, () => {
    before(async () => assert.ok(E.isRight(await selectBackend({ backend }))));
    after(() => tf.disposeVariables());

    test('the symbolic VJP (float64 and through toTfjs) and tf.grad of our program equal tf.grad of tf.conv2d', () => {
      for (const { opts, x, f, y, g, env, want } of tfCases) {
        const grads = vjp([y.node], [g.node], [x.node, f.node]);
        const f64 = run(grads, env);
        const prog = compileTfjs(grads);
        const inputs = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, tf.tensor(Float32Array.from(v.data), v.shape.slice())]));
        const viaTf = prog.runOrThrow(inputs);
        const fwd = compileTfjs([y.node]);
        const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
          tf.sum(tf.mul(fwd.runOrThrow({ x: a, f: b })[0] as tf.Tensor, inputs['g'] as tf.Tensor));
        const taped = tf.grads(loss)([inputs['x'] as tf.Tensor, inputs['f'] as tf.Tensor]);
        ['image', 'filter'].forEach((what, i) => {
          const label = `${what} ${JSON.stringify(opts)}`;
          closeF32((f64[i] as F64Tensor).data, want[i] as Float64Array, `${label} float64 VJP`);
          closeF32((viaTf[i] as tf.Tensor).dataSync(), want[i] as Float64Array, `${label} VJP on tfjs`);
          closeF32((taped[i] as tf.Tensor).dataSync(), want[i] as Float64Array, `${label} tf.grad of toTfjs`);
        });
        tf.dispose([...viaTf, ...taped, ...Object.values(inputs)]);
        prog.dispose();
        fwd.dispose();
      }
    });
  });
}
