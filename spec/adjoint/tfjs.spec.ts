/**
 * Agreement with TensorFlow.js autodiff: the adjoint system of the spiral dynamics, evaluated
 * in float64, against `tf.grads` of Σ a·f written directly with tf ops (float32, cpu backend).
 */
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { adjointSystem, augmentedLayout, augmentedRoots } from '../../src/adjoint/system.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { closeTo, rng, run } from './fd.ts';
import { spiral } from './models.ts';

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

test('the spiral adjoint system agrees with tf.grads (float32)', () => {
  const sys = adjointSystem(spiral());
  const r = rng(21);
  const batch = 5;
  // Values rounded to float32 so both sides see the same inputs.
  const f32 = (shape: readonly number[], scale = 1): F64Tensor => r.tensor(shape, () => Math.fround(r.normal() * scale));
  const env = {
    y: f32([batch, 2]), a_y: f32([batch, 2]), t: f32([]),
    W1: f32([2, 50], 0.5), b1: f32([50], 0.5), W2: f32([50, 2], 0.3), b2: f32([2], 0.5),
  };
  const ours = run(augmentedRoots(sys), env);
  const tfOf = (t: F64Tensor) => tf.tensor(Float32Array.from(t.data), t.shape.slice(), 'float32');
  const [y, a, W1, b1, W2, b2] = [env.y, env.a_y, env.W1, env.b1, env.W2, env.b2].map(tfOf) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const aTf = (yy: tf.Tensor, w1: tf.Tensor, c1: tf.Tensor, w2: tf.Tensor, c2: tf.Tensor): tf.Scalar => {
    const h = tf.tanh(tf.add(tf.matMul(tf.mul(tf.mul(yy, yy), yy) as tf.Tensor2D, w1 as tf.Tensor2D), c1));
    const f = tf.add(tf.matMul(h as tf.Tensor2D, w2 as tf.Tensor2D), c2);
    return tf.sum(tf.mul(a, f));
  };
  const grads = tf.grads((...xs: tf.Tensor[]) => aTf(...(xs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])))([y, W1, b1, W2, b2]);
  const names = augmentedLayout(sys).map((s) => s.name);
  ['a_y', 'gW1', 'gb1', 'gW2', 'gb2'].forEach((name, i) => {
    const want = Array.from((grads[i] as tf.Tensor).dataSync(), (v) => -v);
    closeTo((ours[names.indexOf(name)] as F64Tensor).data, want, 1e-4, 1e-5, name);
  });
  tf.dispose([...grads, y, a, W1, b1, W2, b2]);
});
