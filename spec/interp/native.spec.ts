/**
 * The native TensorFlow backend (@tensorflow/tfjs-node, built offline by `npm run setup:native`):
 * it selects as 'tensorflow', runs on the libtensorflow found next to the binding (deps/lib, via
 * the binding's rpath), gets the fast-small-ops environment defaults, and agrees with wasm on the
 * spiral dynamics. Skipped, with the reason, on machines where the native backend is absent; the
 * generic interpreter specs (toTfjs.spec.ts) run on it too whenever it is present.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { sym } from '../../src/dsl/shape.ts';
import { formatBackendError, selectBackend } from '../../src/interp/backend.ts';
import { compileTfjs } from '../../src/interp/toTfjs.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = fileURLToPath(new URL('../../scripts/setup-native.sh', import.meta.url));
const run = promisify(execFile);

/** Whether the user set these before the native package loaded (then the defaults must not apply). */
const userEnv = { onednn: process.env['TF_ENABLE_ONEDNN_OPTS'], log: process.env['TF_CPP_MIN_LOG_LEVEL'] };

const selected = await selectBackend({ backend: 'tensorflow' });
const skip = E.isLeft(selected)
  ? `native backend absent (${formatBackendError(selected.left)}); run \`npm run setup:native\` to build it`
  : false;

test('setup-native.sh rejects unknown arguments and documents its flags', async () => {
  await assert.rejects(run('bash', [script, '--bogus']), (e: { code?: number; stderr?: string }) =>
    e.code === 2 && /unknown argument '--bogus'/.test(e.stderr ?? ''));
  const help = await run('bash', [script, '--help']);
  assert.match(help.stdout, /--if-available/);
  assert.match(help.stdout, /--force/);
});

test('the native backend selects as tensorflow and computes', { skip }, () => {
  if (E.isLeft(selected)) return;
  const info = selected.right;
  const require = createRequire(import.meta.url);
  const pkg = require('@tensorflow/tfjs-node/package.json') as { version: string };
  assert.deepEqual({ name: info.name, kind: info.kind, tfBackend: info.tfBackend, version: info.version },
    { name: 'tensorflow', kind: 'native', tfBackend: 'tensorflow', version: pkg.version });
  assert.equal(tf.getBackend(), 'tensorflow');
  const s = tf.sum(tf.tensor([1, 2, 3]));
  assert.equal(s.dataSync()[0], 6);
  s.dispose();
});

test('the binding runs on the libtensorflow in tfjs-node/deps/lib', { skip }, () => {
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: unknown } }).binding;
  assert.match(String(binding?.TF_Version), /^2\.\d+\.\d+/);
  // The loaded shared objects: the binding's rpath ($ORIGIN/../../deps/lib) must have found them.
  const maps = readFileSync('/proc/self/maps', 'utf8');
  for (const lib of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
    const path = maps.split('\n').map((l) => l.split(/\s+/).at(-1) ?? '').find((p) => p.endsWith(`/${lib}`));
    assert.ok(path !== undefined, `${lib} is not loaded`);
    assert.match(path, /node_modules\/@tensorflow\/tfjs-node\/deps\/lib\//, `${lib} loaded from ${path}`);
  }
});

test('loading it applied the native environment defaults unless the user set them', { skip }, () => {
  assert.equal(process.env['TF_ENABLE_ONEDNN_OPTS'], userEnv.onednn ?? '0');
  assert.equal(process.env['TF_CPP_MIN_LOG_LEVEL'], userEnv.log ?? '2');
});

test('spiral dynamics agree between tensorflow and wasm at batch 20', { skip }, async () => {
  const B = sym('batch');
  const y = X.state('y', [B, 2]);
  const f = X.add(X.matmul(X.tanh(X.add(X.matmul(X.mul(X.mul(y, y), y), X.variable('W1', 'param', [2, 50])),
    X.variable('b1', 'param', [50]))), X.variable('W2', 'param', [50, 2])), X.variable('b2', 'param', [2]));
  const prog = compileTfjs([f.node]);
  const values = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));
  const data = { y: [values(40, 1), [20, 2]], W1: [values(100, 2), [2, 50]], b1: [values(50, 3), [50]],
    W2: [values(100, 4).map((v) => v * 0.3), [50, 2]], b2: [values(2, 5), [2]] } as const;
  const evaluate = (): Float32Array => {
    const env = Object.fromEntries(Object.entries(data).map(([k, [v, s]]) => [k, tf.tensor(v, s.slice())]));
    try {
      const [out] = prog.runOrThrow(env);
      const got = out?.dataSync() as Float32Array;
      tf.dispose(out);
      return got;
    } finally {
      tf.dispose(Object.values(env));
    }
  };
  const native = evaluate();
  const base = tf.memory().numTensors;
  for (let i = 0; i < 500; i++) evaluate();
  assert.equal(tf.memory().numTensors, base, 'native evaluations leaked tensors');
  const wasm = await selectBackend({ backend: 'wasm' });
  assert.ok(E.isRight(wasm));
  try {
    const other = evaluate();
    assert.equal(native.length, 40);
    native.forEach((v, i) => assert.ok(Math.abs(v - (other[i] as number)) <= 1e-5 + 1e-5 * Math.abs(v), `element ${i}: ${v} vs ${other[i]}`));
  } finally {
    await selectBackend({ backend: 'tensorflow' });
    prog.dispose();
  }
});

test('setup-native.sh sees the working binding and leaves it alone', { skip }, async () => {
  const out = await run('bash', [script, '--if-available'], { cwd: root });
  assert.match(out.stdout, /^setup-native: already set up: @tensorflow\/tfjs-node \d+\.\d+\.\d+ with libtensorflow 2\.\d+/m);
});
