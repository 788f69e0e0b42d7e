/** The TypeScript examples run as documented (in a quick setting). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;

test('examples/spiral.ts trains the spiral written in the TypeScript DSL and writes its report', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/spiral.ts', '20'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^dy\/dt = tanh\(\(y \* y \* y\) @ W₁ \+ b₁\) @ W₂ \+ b₂\n/);
  assert.match(r.stdout, /mean absolute error over the whole trajectory: \d+\.\d{4}\n/);
  assert.match(r.stdout, /wrote out\/spiral-ts\/training\.png, .*out\/spiral-ts\/phase\.png/);
});
