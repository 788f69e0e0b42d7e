/**
 * Backend selection: the explicit option, `FLUXION_BACKEND`, the automatic order and its
 * record of skipped backends, errors for invalid names, and idempotence. Two cases run in a
 * child process to check that `process.env` is read by default.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import {
  applyNativeEnvDefaults, availableBackends, backendNames, formatBackendError, parseBackendName,
  selectBackend, type BackendError, type BackendInfo, type BackendOptions,
} from '../../src/interp/backend.ts';

const right = async (options: BackendOptions): Promise<BackendInfo> => {
  const r = await selectBackend(options);
  if (E.isLeft(r)) assert.fail(formatBackendError(r.left));
  return r.right;
};
const left = async (options: BackendOptions): Promise<BackendError> => {
  const r = await selectBackend(options);
  if (E.isRight(r)) assert.fail(`expected a Left, selected ${r.right.name}`);
  return r.left;
};

test('FLUXION_BACKEND=cpu and =wasm select and activate that backend', async () => {
  const cpu = await right({ env: { FLUXION_BACKEND: 'cpu' } });
  assert.deepEqual({ name: cpu.name, kind: cpu.kind, source: cpu.source, tried: cpu.tried }, { name: 'cpu', kind: 'cpu', source: 'env', tried: [] });
  assert.equal(tf.getBackend(), 'cpu');
  assert.match(cpu.version, /^\d+\.\d+\.\d+/);
  const wasm = await right({ env: { FLUXION_BACKEND: 'wasm' } });
  assert.deepEqual({ name: wasm.name, kind: wasm.kind, details: wasm.details }, { name: 'wasm', kind: 'wasm', details: { simd: 'on', threads: '1' } });
  assert.equal(tf.getBackend(), 'wasm');
  // The wasm backend computes (its binaries were found).
  const s = tf.sum(tf.tensor([1, 2, 3]));
  assert.equal(s.dataSync()[0], 6);
  s.dispose();
});

test('an invalid FLUXION_BACKEND is a Left naming the valid values', async () => {
  const e = await left({ env: { FLUXION_BACKEND: 'gpu' } });
  assert.deepEqual(e, { _tag: 'InvalidBackendName', value: 'gpu', source: 'FLUXION_BACKEND', valid: backendNames });
  assert.equal(formatBackendError(e), 'FLUXION_BACKEND=gpu is not a backend; valid values: tensorflow-gpu, tensorflow, wasm, cpu');
  assert.ok(E.isLeft(parseBackendName('WASM')));
  assert.deepEqual(parseBackendName('tensorflow'), E.right('tensorflow'));
});

test('the option overrides FLUXION_BACKEND; an empty FLUXION_BACKEND means automatic', async () => {
  const cpu = await right({ backend: 'cpu', env: { FLUXION_BACKEND: 'wasm' } });
  assert.deepEqual([cpu.name, cpu.source], ['cpu', 'option']);
  const auto = await right({ env: { FLUXION_BACKEND: '' } });
  assert.equal(auto.source, 'auto');
});

test('automatic selection takes the best available backend and says why others were skipped', async () => {
  const available = await availableBackends();
  assert.ok(available.includes('cpu') && available.includes('wasm'));
  const auto = await right({ env: {} });
  assert.equal(auto.name, available[0]);
  assert.equal(tf.getBackend(), auto.tfBackend);
  const skipped = backendNames.slice(0, backendNames.indexOf(auto.name));
  assert.deepEqual(auto.tried.map((t) => t.name), skipped);
  for (const t of auto.tried) assert.ok(t.reason.length > 0);
  if (!available.includes('tensorflow')) {
    const why = /@tensorflow\/tfjs-node: (not installed|installed, but its native binding is not built \(run `npm run setup:native`\))$/;
    assert.match(auto.tried.find((t) => t.name === 'tensorflow')?.reason ?? '', why);
    const e = await left({ backend: 'tensorflow', env: {} });
    assert.ok(e._tag === 'BackendUnavailable' && e.name === 'tensorflow' && why.test(e.reason), JSON.stringify(e));
  }
});

test('selection is idempotent and cheap when repeated, and re-activates after a switch', async () => {
  const first = await right({ backend: 'wasm' });
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) assert.deepEqual(await right({ backend: 'wasm' }), first);
  assert.ok(performance.now() - t0 < 500, 'repeated selection should take microseconds');
  await tf.setBackend('cpu');
  await right({ backend: 'wasm' });
  assert.equal(tf.getBackend(), 'wasm');
  const before = tf.getBackend();
  await availableBackends();
  assert.equal(tf.getBackend(), before, 'availableBackends leaves the active backend alone');
});

test('native env defaults are set unless the user set them', () => {
  const env: Record<string, string | undefined> = { TF_CPP_MIN_LOG_LEVEL: '0' };
  applyNativeEnvDefaults(env);
  assert.deepEqual(env, { TF_CPP_MIN_LOG_LEVEL: '0', TF_ENABLE_ONEDNN_OPTS: '0' });
});

test('a child process reads FLUXION_BACKEND from process.env', async () => {
  const modUrl = new URL('../../src/interp/backend.ts', import.meta.url).href;
  const script = `const b = await import(${JSON.stringify(modUrl)}); const r = await b.selectBackend();
    console.log(JSON.stringify(r._tag === 'Right' ? { name: r.right.name, source: r.right.source } : { error: b.formatBackendError(r.left) }));`;
  const run = (value: string) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, FLUXION_BACKEND: value },
    }).then((o) => JSON.parse(o.stdout.trim().split('\n').at(-1) ?? '') as unknown);
  const [wasm, cpu, bad] = await Promise.all([run('wasm'), run('cpu'), run('nope')]);
  assert.deepEqual(wasm, { name: 'wasm', source: 'env' });
  assert.deepEqual(cpu, { name: 'cpu', source: 'env' });
  assert.deepEqual(bad, { error: 'FLUXION_BACKEND=nope is not a backend; valid values: tensorflow-gpu, tensorflow, wasm, cpu' });
});
