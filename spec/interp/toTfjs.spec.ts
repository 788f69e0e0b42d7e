/**
 * The tfjs interpreter against the float64 reference, on every backend that loads here: every
 * op and node kind, the spiral dynamics, binding errors, gradients through `tf.grad`, and leaks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../../src/dsl/construct.ts';
import * as X from '../../src/dsl/expr.ts';
import { nodeKinds, type Node, type NodeKind } from '../../src/dsl/node.ts';
import { binaryOps, reduceOps, unaryOps, type UnaryOp } from '../../src/dsl/ops.ts';
import { sym } from '../../src/dsl/shape.ts';
import { availableBackends, selectBackend, type BackendName } from '../../src/interp/backend.ts';
import { evalF64, type F64Env } from '../../src/interp/evalF64.ts';
import { f64, sizeOf, type F64Tensor } from '../../src/interp/tensor.ts';
import { compileTfjs, formatTfjsBindError } from '../../src/interp/toTfjs.ts';
import { topoOrder } from '../../src/interp/traverse.ts';

const B = sym('batch');

/** Seeded uniform numbers in [lo, hi) (mulberry32), rounded to float32 so both sides see equal inputs. */
const rng = (seed: number) => (n: number, lo = -1, hi = 1): Float64Array => {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = Math.fround(lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296));
  }
  return out;
};
const f32 = (xs: readonly number[]): Float64Array => Float64Array.from(xs, Math.fround);

const toTf = (env: F64Env): Record<string, tf.Tensor> =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, tf.tensor(Float32Array.from(v.data), v.shape.slice(), 'float32')]));

/** Elementwise |got − want| ≤ atol + rtol·|want|, NaN matching NaN and infinities matching exactly. */
const assertClose = (got: tf.Tensor, want: F64Tensor, label: string, rtol = 2e-5, atol = 2e-6): void => {
  assert.deepEqual(got.shape, want.shape, `${label}: shape`);
  const g = got.dataSync();
  for (let i = 0; i < want.data.length; i++) {
    const a = g[i] as number, b = want.data[i] as number;
    const ok = Number.isNaN(b) ? Number.isNaN(a) : !Number.isFinite(b) ? a === b : Math.abs(a - b) <= atol + rtol * Math.abs(b);
    if (!ok) assert.fail(`${label}: element ${i} is ${a}, expected ${b}`);
  }
};

const covered = new Set<NodeKind>();

/** Compiles `roots`, runs them on `env` (as float32) and compares with `evalF64`. */
const agree = (label: string, roots: readonly Node[], env: F64Env, rtol?: number, atol?: number): void => {
  for (const n of topoOrder(roots)) covered.add(n.kind);
  const want = evalF64(roots, env);
  if (E.isLeft(want)) assert.fail(`${label}: reference failed: ${JSON.stringify(want.left)}`);
  const prog = compileTfjs(roots);
  const inputs = toTf(env);
  try {
    const got = prog.run(inputs);
    if (E.isLeft(got)) assert.fail(`${label}: ${formatTfjsBindError(got.left)}`);
    got.right.forEach((t, i) => assertClose(t, want.right[i] as F64Tensor, `${label} root ${i}`, rtol, atol));
    tf.dispose(got.right);
  } finally {
    tf.dispose(Object.values(inputs));
    prog.dispose();
  }
};

/** Inputs per unary op inside its domain, with large magnitudes where stability matters. */
const unaryDomain: { readonly [K in UnaryOp]: readonly number[] } = {
  neg: [-3, -0.5, 0, 0.25, 7],
  exp: [-80, -3, -0.5, 0, 0.25, 7, 40],
  log: [1e-6, 0.3, 1, 2.5, 1e4],
  log1p: [-0.9, -1e-4, 0, 1e-7, 0.5, 30],
  sqrt: [0, 1e-6, 0.3, 2, 1e4],
  square: [-30, -0.5, 0, 0.25, 7],
  sin: [-6, -0.5, 0, 0.25, 3, 40],
  cos: [-6, -0.5, 0, 0.25, 3, 40],
  tanh: [-30, -2, -0.5, 0, 0.25, 3, 30],
  sigmoid: [-100, -20, -0.5, 0, 0.25, 20, 100],
  softplus: [-100, -20, -0.5, 0, 0.25, 20, 100],
  relu: [-3, -0.5, 0, 0.25, 7],
  abs: [-3, -0.5, 0, 0.25, 7],
  sign: [-3, -1e-9, 0, 1e-9, 0.25, 7],
  step: [-3, -1e-9, 0, 1e-9, 0.25, 7],
};

const { available, probeError } = await availableBackends().then(
  (a) => ({ available: a, probeError: undefined }),
  (err: unknown) => ({ available: [] as readonly BackendName[], probeError: err }),
);
test('at least cpu and wasm load here', () => {
  assert.equal(probeError, undefined);
  assert.ok(available.includes('cpu') && available.includes('wasm'), `available: ${available.join(', ')}`);
});

for (const backend of available) {
  describe(`toTfjs on ${backend}`, () => {
    before(async () => {
      const r = await selectBackend({ backend });
      assert.ok(E.isRight(r), `cannot select ${backend}`);
    });
    after(() => covered.clear());

    test('every unary op', () => {
      for (const op of unaryOps) {
        const xs = f32(unaryDomain[op]);
        const x = X.input('x', [xs.length]);
        const node = C.unary(op, x.node);
        if (E.isLeft(node)) assert.fail(node.left);
        agree(op, [node.right], { x: f64(xs, [xs.length]) }, 2e-5, 1e-6);
      }
    });

    test('every binary op, broadcasting both ways', () => {
      const r = rng(7);
      const a = X.input('a', [2, 3]), row = X.input('row', [3]), col = X.input('col', [2, 1]);
      for (const op of binaryOps) {
        const lo = op === 'pow' || op === 'div' ? 0.5 : -2;
        const env = { a: f64(r(6, lo, 3), [2, 3]), row: f64(r(3, lo, 3), [3]), col: f64(r(2, lo, 3), [2, 1]) };
        const roots = [X.broadcastBinary(op, a, row), X.broadcastBinary(op, col, row), X.broadcastBinary(op, a, 0.75),
          X.broadcastBinary(op, 1.5, col)].map((e) => e.node);
        agree(op, roots, env, 5e-5, 1e-6);
      }
      // Negative bases with integer exponents are defined.
      agree('pow negative base', [X.pow(a, X.input('e', [2, 3])).node],
        { a: f64(f32([-2, -1.5, -3, 2, -0.5, -1]), [2, 3]), e: f64([3, 2, -1, 0.5, 4, 7], [2, 3]) });
    });

    test('every reduce op over axis subsets, with and without keepDims', () => {
      const x = X.input('x', [2, 3, 4]);
      const env = { x: f64(rng(3)(24, -3, 3), [2, 3, 4]) };
      for (const op of reduceOps)
        for (const axes of [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]])
          for (const keep of [false, true])
            agree(`${op} ${axes.join(',')} ${keep}`, [X.reduceBy(op, x, axes, keep).node], env, 2e-5, 1e-5);
      // logsumexp of large values stays finite; sum of an empty axis list is the identity.
      agree('logsumexp large', [X.logsumexpAxis(x, 2).node], { x: f64(rng(4)(24, 500, 520), [2, 3, 4]) });
      agree('sum over no axes', [X.sumAxes(x, []).node], env);
    });

    test('matmul, reshape, broadcast and transpose (all 3-D perms)', () => {
      const r = rng(11);
      const x = X.input('x', [2, 3, 4]);
      const env = { x: f64(r(24), [2, 3, 4]) };
      const perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
      agree('transpose', perms.map((p) => X.transpose(x, p).node), env);
      agree('transpose default', [X.transposeM(X.input('m', [2, 5])).node], { m: f64(r(10), [2, 5]) });
      agree('matmul', [X.matmul(X.input('p', [3, 4]), X.input('q', [4, 5])).node],
        { p: f64(r(12), [3, 4]), q: f64(r(20), [4, 5]) });
      agree('reshape', [X.reshape(x, [4, 6]).node, X.reshape(x, [24]).node, X.reshape(x, [2, 1, 12]).node], env);
      const y = X.input('y', [B, 6]);
      const yEnv = { y: f64(r(30), [5, 6]) };
      agree('reshape named', [X.reshape(y, [B, 2, 3]).node, X.reshape(X.reshape(y, [B, 2, 3]), [B, 6]).node], yEnv);
      const v = X.input('v', [3]), c = X.input('c', [2, 1]);
      agree('broadcast', [X.add(X.broadcastTo(v, [B, 2, 3]), X.reshape(y, [B, 2, 3])).node,
        X.broadcastTo(c, [2, 3]).node, X.broadcastTo(X.scalar(2.5), [B]).node, X.broadcastTo(v, [3]).node],
      { v: f64(r(3), [3]), c: f64(r(2), [2, 1]), ...yEnv });
    });

    test('concat and slice, with named axes taken whole', () => {
      const r = rng(13);
      const p = X.input('p', [2, 3]), q = X.input('q', [1, 3]), s = X.input('s', [2, 2]);
      const env = { p: f64(r(6), [2, 3]), q: f64(r(3), [1, 3]), s: f64(r(4), [2, 2]) };
      agree('concat', [X.concat([p, q, p], 0).node, X.concat([p, s], 1).node, X.concat([p], 1).node], env);
      const y = X.input('y', [B, 2]), z = X.input('z', [B, 3]);
      const yz = { y: f64(r(8), [4, 2]), z: f64(r(12), [4, 3]) };
      agree('concat named', [X.concat([y, z], 1).node], yz);
      const x = X.input('x', [2, 3, 4]);
      agree('slice', [X.slice(x, [1, 0, 1], [1, 3, 2]).node, X.slice(x, [0, 2, 0], [2, 1, 4]).node,
        X.slice(x, [0, 0, 0], [0, 3, 4]).node], { x: f64(r(24), [2, 3, 4]) });
      agree('slice named', [X.slice(X.concat([y, z], 1), [0, 1], [B, 3]).node], yz);
    });

    test('batched matmul, patches and unpatches (padded, strided, dilated), with ±∞ and NaN kept in place', () => {
      const r = rng(17);
      const s = X.input('s', [B, 2, 3, 4]), w = X.input('w', [4, 5]), m = X.input('m', [3, 4]), u = X.input('u', [B, 4, 5]);
      const t = X.input('t', [B, 3, 4]);
      const v = X.input('v', [B, 2, 4, 2]);
      agree('batched matmul', [X.matmulChecked(s, w).node, X.matmulChecked(m, u).node, X.matmulChecked(t, u).node,
        X.matmulChecked(s, v).node],
      { s: f64(r(72), [3, 2, 3, 4]), w: f64(r(20), [4, 5]), m: f64(r(12), [3, 4]), u: f64(r(60), [3, 4, 5]),
        t: f64(r(36), [3, 3, 4]), v: f64(r(48), [3, 2, 4, 2]) });
      const x = X.input('x', [B, 5, 6, 3]);
      const windows = [{ kernel: 3, padding: 1 }, { kernel: [2, 3], strides: [2, 1], padding: [0, 1, 2, 0] },
        { kernel: 2, dilation: 2, strides: 2, padding: 1 }, { kernel: 1 }] as const;
      const data = r(180);
      data[7] = Infinity;
      data[50] = NaN;
      data[99] = -Infinity;
      for (const [i, win] of windows.entries()) {
        const cols = X.patches(x, win);
        const c = X.input('c', cols.shape);
        agree(`patches ${i}`, [cols.node], { x: f64(data, [2, 5, 6, 3]) });
        agree(`unpatches ${i}`, [X.unpatches(c, win, [5, 6]).node], { c: f64(r(sizeOf(cols.shape.map((d) => (d === B ? 2 : d)) as number[])), [2, ...cols.shape.slice(1)] as number[]) });
      }
    });

    test('constants and inputs as roots are returned as fresh tensors', () => {
      const x = X.input('x', [2]);
      const k = X.tensor([1, -2, 3], [3]);
      agree('roots', [x.node, k.node, X.mul(x, 2).node, X.add(k, 1).node], { x: f64([0.5, 4], [2]) });
      const prog = compileTfjs([x.node, k.node]);
      const xt = tf.tensor([0.5, 4]);
      for (let i = 0; i < 2; i++) tf.dispose(prog.runOrThrow({ x: xt }));
      assert.deepEqual(Array.from(xt.dataSync()), [0.5, 4]);
      tf.dispose(xt);
      prog.dispose();
    });

    test('spiral dynamics f = tanh((y³) W1 + b1) W2 + b2 agree at batch 20', () => {
      const r = rng(2024);
      const y = X.state('y', [B, 2]);
      const W1 = X.variable('W1', 'param', [2, 50]), b1 = X.variable('b1', 'param', [50]);
      const W2 = X.variable('W2', 'param', [50, 2]), b2 = X.variable('b2', 'param', [2]);
      const f = X.add(X.matmul(X.tanh(X.add(X.matmul(X.mul(X.mul(y, y), y), W1), b1)), W2), b2);
      const env = { y: f64(r(40, -2, 2), [20, 2]), W1: f64(r(100), [2, 50]), b1: f64(r(50), [50]),
        W2: f64(r(100, -0.3, 0.3), [50, 2]), b2: f64(r(2), [2]) };
      agree('spiral', [f.node], env, 1e-4, 1e-5);
      const fConst = X.add(X.matmul(X.tanh(X.add(X.matmul(X.mul(X.mul(y, y), y), X.tensor(env.W1.data, [2, 50])),
        X.tensor(env.b1.data, [50]))), X.tensor(env.W2.data, [50, 2])), X.tensor(env.b2.data, [2]));
      agree('spiral with constant weights', [fConst.node], { y: env.y }, 1e-4, 1e-5);
    });

    test('covers every node kind', () => {
      assert.deepEqual([...nodeKinds].filter((k) => !covered.has(k)), []);
    });

    test('rejects bad inputs with a Left naming the variable, leaking nothing', () => {
      const y = X.state('y', [B, 2]), u = X.input('u', [B, 1]);
      const yu = X.broadcastBinary('add', y, u);
      const prog = compileTfjs([yu.node, X.add(X.broadcastTo(X.scalar(1), [sym('other')]), 1).node]);
      const only = compileTfjs([yu.node]);
      const y20 = tf.zeros([20, 2]), u20 = tf.zeros([20, 1]), u21 = tf.zeros([21, 1]), bad = tf.zeros([20, 3]);
      const yInt = tf.zeros([20, 2], 'int32');
      const base = tf.memory().numTensors;
      const left = (p: typeof prog, env: Record<string, tf.Tensor>) => {
        const r = p.run(env);
        if (E.isRight(r)) assert.fail('expected a Left');
        return r.left;
      };
      assert.deepEqual(left(only, { u: u20 }), { _tag: 'MissingInput', name: 'y', shape: ['batch', 2] });
      assert.deepEqual(left(only, { y: bad, u: u20 }), { _tag: 'ShapeMismatch', name: 'y', expected: ['batch', 2], actual: [20, 3] });
      assert.deepEqual(left(only, { y: y20, u: u21 }), { _tag: 'DimConflict', name: 'u', dim: 'batch', sizes: [20, 21] });
      assert.deepEqual(left(only, { y: yInt, u: u20 }), { _tag: 'WrongDtype', name: 'y', dtype: 'int32' });
      assert.deepEqual(left(prog, { y: y20, u: u20 }), { _tag: 'UnboundDim', dim: 'other' });
      assert.throws(() => only.runOrThrow({ y: bad, u: u20 }), /input y has shape \[20,3\], expected \[batch,2\]/);
      assert.match(formatTfjsBindError(left(only, { u: u20 })), /missing input y of shape \[batch,2\]/);
      assert.equal(tf.memory().numTensors, base);
      tf.dispose([y20, u20, u21, bad, yInt]);
      prog.dispose();
      only.dispose();
      assert.throws(() => only.run({}), /disposed/);
    });

    test('gradients through tf.grad and tf.variableGrads match float64 finite differences', () => {
      const r = rng(99);
      const y = X.state('y', [B, 2]);
      const W1 = X.variable('W1', 'param', [2, 8]), b1 = X.variable('b1', 'param', [8]);
      const W2 = X.variable('W2', 'param', [8, 2]);
      const loss = X.sum(X.square(X.matmul(X.softplus(X.add(X.matmul(X.mul(X.mul(y, y), y), W1), b1)), W2)));
      const env: Record<string, F64Tensor> = { y: f64(r(6, -1, 1), [3, 2]), W1: f64(r(16), [2, 8]),
        b1: f64(r(8), [8]), W2: f64(r(16), [8, 2]) };
      const fd = (name: string): Float64Array => {
        const v = env[name] as F64Tensor, g = new Float64Array(sizeOf(v.shape)), h = 1e-6;
        const at = (i: number, d: number): number => {
          const data = Float64Array.from(v.data);
          data[i] = (data[i] as number) + d;
          const o = evalF64([loss.node], { ...env, [name]: f64(data, v.shape) });
          if (E.isLeft(o)) assert.fail('reference failed');
          return (o.right[0] as F64Tensor).data[0] as number;
        };
        for (let i = 0; i < g.length; i++) g[i] = (at(i, h) - at(i, -h)) / (2 * h);
        return g;
      };
      const prog = compileTfjs([loss.node]);
      const t = toTf(env);
      const base = tf.memory().numTensors;
      const gy = tf.grad((yt: tf.Tensor) => prog.runOrThrow({ ...t, y: yt })[0] as tf.Tensor)(t['y'] as tf.Tensor);
      assertClose(gy, f64(fd('y'), [3, 2]), 'd/dy', 1e-3, 1e-4);
      const vars = { W1: tf.variable(t['W1'] as tf.Tensor), W2: tf.variable(t['W2'] as tf.Tensor) };
      const { value, grads } = tf.variableGrads(() => prog.runOrThrow({ ...t, ...vars })[0] as tf.Scalar);
      assertClose(grads[vars.W1.name] as tf.Tensor, f64(fd('W1'), [2, 8]), 'd/dW1', 1e-3, 1e-4);
      assertClose(grads[vars.W2.name] as tf.Tensor, f64(fd('W2'), [8, 2]), 'd/dW2', 1e-3, 1e-4);
      tf.dispose([gy, value, ...Object.values(grads), ...Object.values(vars)]);
      for (let i = 0; i < 200; i++)
        tf.dispose(tf.grad((yt: tf.Tensor) => prog.runOrThrow({ ...t, y: yt })[0] as tf.Tensor)(t['y'] as tf.Tensor));
      assert.equal(tf.memory().numTensors, base, 'gradient evaluations leaked tensors');
      tf.dispose(Object.values(t));
      prog.dispose();
    });

    test('3000 evaluations of a 2-layer MLP at batch 20 leak no tensors', () => {
      const r = rng(5);
      const before = tf.memory().numTensors;
      const y = X.state('y', [B, 2]);
      const h = X.tanh(X.add(X.matmul(y, X.variable('W1', 'param', [2, 50])), X.tensor(r(50), [50])));
      const f = X.add(X.matmul(h, X.tensor(r(100), [50, 2])), X.variable('b2', 'param', [2]));
      const prog = compileTfjs([f.node, X.sum(f).node]);
      const env = { y: tf.tensor(Float32Array.from(r(40)), [20, 2]), W1: tf.tensor(Float32Array.from(r(100)), [2, 50]),
        b2: tf.zeros([2]) };
      const base = tf.memory().numTensors;
      for (let i = 0; i < 3000; i++) tf.dispose(prog.runOrThrow(env));
      assert.equal(tf.memory().numTensors, base);
      tf.dispose(Object.values(env));
      prog.dispose();
      assert.equal(tf.memory().numTensors, before, 'dispose() frees the uploaded constants');
    });
  });
}
