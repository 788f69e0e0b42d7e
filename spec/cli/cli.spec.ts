/** The `fluxion` command end to end, in child processes: outputs, exit codes, one-line errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const fluxion = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(root, 'bin/fluxion.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, FLUXION_BACKEND: 'cpu' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'fluxion-cli-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const noStack = (s: string) => assert.ok(!/\n\s+at /.test(s), `stack trace in: ${s}`);

test('print reads like the formula, in text and LaTeX', () => {
  const r = fluxion('print', 'examples/specs/spiral.json');
  assert.equal(r.code, 0);
  assert.equal(r.out, 'dy/dt = tanh((y * y * y) @ W₁ + b₁) @ W₂ + b₂\nL = mean(|yhat - ytrue|)\n');
  const l = fluxion('print', 'examples/specs/spiral.json', '--latex');
  assert.equal(l.code, 0);
  assert.match(l.out, /\\frac\{dy\}\{dt\} &= \\tanh\\left\(\\left\(y \\odot y \\odot y\\right\) W_\{1\} \+ b_\{1\}\\right\) W_\{2\} \+ b_\{2\}/);
});

test('eval prints JSON computed in float64', () => {
  const inputs = file('y.json', '{"y": [[2, 0], [1, 1]], "t": 0}');
  const r = fluxion('eval', 'examples/specs/spiral-true.json', '--inputs', inputs);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), { f: [[-0.8, 16], [-2.1, 1.9]] });
});

test('user errors are one line per problem, name the file and JSON path, exit non-zero', () => {
  const bad = file('bad.json', JSON.stringify({
    fluxion: 'model/1', name: 'bad',
    variables: { y: { role: 'state', shape: ['batch', 2] }, t: { role: 'time', shape: [] }, W: { role: 'param', shape: [3, 2], init: { kind: 'zeros' } } },
    dynamics: { state: 'y', time: 't', f: { op: 'matmul', args: ['y', 'W'] } },
  }));
  const r = fluxion('print', bad);
  assert.equal(r.code, 1);
  assert.equal(r.err, `fluxion print: ${bad}: dynamics.f: matmul inner dimensions differ ([batch,2] × [3,2])\n`);
  noStack(r.err);
  const missing = fluxion('print', join(dir, 'nope.json'));
  assert.equal(missing.code, 1);
  assert.equal(missing.err, `fluxion print: ${join(dir, 'nope.json')}: cannot read (no such file)\n`);
  const inputs = file('bad-inputs.json', '{"y": [[1, 2, 3]]}');
  const e = fluxion('eval', 'examples/specs/spiral-true.json', '--inputs', inputs);
  assert.equal(e.code, 1);
  assert.equal(e.err, `fluxion eval: ${inputs}: f: input y has shape [1,3], expected [batch,2]\n`);
  const usage = fluxion('print');
  assert.equal(usage.code, 2);
  assert.match(usage.err, /^fluxion print: give exactly one spec file\nusage: fluxion print/);
  const unknown = fluxion('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command "frobnicate"/);
  const flag = fluxion('print', 'examples/specs/spiral.json', '--bogus');
  assert.equal(flag.code, 2);
  noStack(flag.err);
});

test('info names the backend in use', () => {
  const r = fluxion('info', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { backend: { name: string; source: string }; kernel: { target: string; wasmSimd: boolean } };
  assert.equal(j.backend.name, 'cpu');
  assert.equal(j.backend.source, 'env');
  assert.deepEqual(j.kernel, { target: 'wasm', wasmSimd: true });
  const text = fluxion('info');
  assert.match(text.out, /kernel: WebAssembly with SIMD generated from the tape \(default\)/);
});

test('info and the solvers honour FLUXION_KERNEL, and name a bad value', () => {
  const run = (v: string, ...args: string[]) => {
    const r = spawnSync(process.execPath, [join(root, 'bin/fluxion.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, FLUXION_BACKEND: 'cpu', FLUXION_KERNEL: v } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  assert.match(run('js', 'info').out, /kernel: JavaScript generated from the tape \(forced by FLUXION_KERNEL\)/);
  const bad = run('gpu', 'info');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /FLUXION_KERNEL=gpu is not a kernel target; valid values: js, wasm/);
  noStack(bad.err);
});
