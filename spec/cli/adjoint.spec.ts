import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const fluxion = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/fluxion.js'), ...args], { cwd: root, encoding: 'utf8' });

test('fluxion adjoint prints the augmented system, each shared value bound once', () => {
  const r = fluxion('adjoint', 'examples/specs/spiral.json');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 7).map((l) => l.split(' = ')[0]), ['dy/dt', 'da/dt', 'dW̄₁/dt', 'db̄₁/dt', 'dW̄₂/dt', 'db̄₂/dt', 'dt̄/dt']);
  assert.equal(lines[6], 'dt̄/dt = 0');
  assert.equal(r.stdout.match(/tanh\(/g)?.length, 1, 'tanh(…) is computed once');
  const latex = fluxion('adjoint', 'examples/specs/spiral.json', '--latex');
  assert.equal(latex.status, 0);
  assert.match(latex.stdout, /^\\begin\{aligned\}\n\\frac\{dy\}\{dt\} &= /);
  assert.match(latex.stdout, /\\frac\{d\\bar\{W\}_\{1\}\}\{dt\} &= /);
  const open = (latex.stdout.match(/\{/g) ?? []).length, close = (latex.stdout.match(/\}/g) ?? []).length;
  assert.equal(open, close);
});

test('fluxion gradcheck: adjoint, backprop and finite differences agree on the spiral', () => {
  const r = fluxion('gradcheck', 'examples/specs/spiral.json', '--data', 'examples/data/spiral.json', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { rows: { adjoint: number; backprop: number; fd: number }[]; stats: { adjoint: { nfeBackward: number } } };
  assert.ok(j.rows.length >= 8);
  for (const row of j.rows) {
    assert.ok(Math.abs(row.adjoint - row.fd) <= 1e-5 * Math.abs(row.fd) + 1e-9, JSON.stringify(row));
    assert.ok(Math.abs(row.backprop - row.fd) <= 1e-5 * Math.abs(row.fd) + 1e-9, JSON.stringify(row));
  }
  assert.ok(j.stats.adjoint.nfeBackward > 0);
});
