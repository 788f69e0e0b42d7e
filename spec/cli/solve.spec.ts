import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const fluxion = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(root, 'bin/fluxion.js'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('solve prints the solution at ts and statistics; JSON on request', () => {
  const r = fluxion('solve', 'examples/specs/spiral-true.json', '--y0', '[[2,0]]', '--ts', '0,0.5,1', '--method', 'dopri5', '--rtol', '1e-7', '--atol', '1e-9', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { ts: number[]; ys: number[][][]; stats: { nfe: number; accepted: number; method: string } };
  assert.deepEqual(j.ts, [0, 0.5, 1]);
  assert.deepEqual(j.ys[0], [[2, 0]]);
  // Against a much tighter dopri8 solve of the same spec.
  const ref = JSON.parse(fluxion('solve', 'examples/specs/spiral-true.json', '--y0', '[[2,0]]', '--ts', '0,0.5,1', '--method', 'dopri8', '--rtol', '1e-12', '--atol', '1e-14', '--json').out) as typeof j;
  for (let k = 0; k < 3; k++) for (let i = 0; i < 2; i++) assert.ok(Math.abs(j.ys[k]![0]![i]! - ref.ys[k]![0]![i]!) < 1e-5);
  assert.equal(j.stats.method, 'dopri5');
  assert.ok(j.stats.nfe > 0 && j.stats.accepted > 0);
  const text = fluxion('solve', 'examples/specs/robertson.json', '--y0', '[[1,0,0]]', '--ts', '0,40', '--method', 'rodas4', '--rtol', '1e-8', '--atol', '1e-10');
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^t = 40: \[\[0\.71582706/m);
  assert.match(text.out, /rodas4: \d+ function evaluations, \d+ accepted and \d+ rejected steps, \d+ Jacobians \(symbolic\)/);
});

test('solver failures and bad flags are one line with advice, exit non-zero', () => {
  const stiff = fluxion('solve', 'examples/specs/vanderpol.json', '--y0', '[[2,0]]', '--ts', '0,3000', '--method', 'dopri5', '--max-steps', '2000');
  assert.equal(stiff.code, 1);
  assert.match(stiff.err, /^fluxion solve: examples\/specs\/vanderpol\.json: maxSteps \(2000\) reached at t = [\d.]+ before t1 = 3000\. .*use the stiff solver rodas4\.\n$/);
  const method = fluxion('solve', 'examples/specs/vanderpol.json', '--y0', '[[2,0]]', '--ts', '0,1', '--method', 'rk45');
  assert.equal(method.code, 2);
  assert.match(method.err, /--method: .*rk45/);
  const shape = fluxion('solve', 'examples/specs/vanderpol.json', '--y0', '[[2,0,1]]', '--ts', '0,1');
  assert.equal(shape.code, 1);
  assert.match(shape.err, /initial state y has shape \[1,3\], the spec declares \[batch,2\]/);
  const ts = fluxion('solve', 'examples/specs/vanderpol.json', '--y0', '[[2,0]]', '--ts', '0,x');
  assert.equal(ts.code, 2);
  const decreasing = fluxion('solve', 'examples/specs/vanderpol.json', '--y0', '[[2,0]]', '--ts', '0,2,1');
  assert.equal(decreasing.code, 1);
  assert.match(decreasing.err, /output times are not strictly monotone \(at index 2\)/);
});
