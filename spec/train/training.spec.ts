/**
 * Training end to end: the loss falls, a run killed with SIGKILL and resumed ends with exactly
 * the parameters of an uninterrupted run, a blow-up stops with the documented message, and the
 * plots are valid images of the expected size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { spiralModel } from '../../src/models/spiral.ts';
import { decodeTrajectory } from '../../src/data/trajectory.ts';
import { compileTrainer, type TrainerState } from '../../src/train/trainer.ts';
import { gradientFn } from '../../src/train/gradients.ts';
import { dopri5 } from '../../src/solvers/index.ts';
import { loadCheckpoint } from '../../src/train/checkpoint.ts';
import { decodePng } from '../../src/plot/index.ts';

const root = new URL('../../', import.meta.url).pathname;
const data = (() => {
  const r = decodeTrajectory(JSON.parse(readFileSync(join(root, 'examples/data/spiral.json'), 'utf8')));
  if (E.isLeft(r)) throw new Error(r.left);
  return r.right;
})();
const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/fluxion.js'), ...args], { cwd: root, encoding: 'utf8' });

test('training the spiral for 300 iterations reduces the loss at least 5-fold (seeded)', () => {
  const m = spiralModel();
  const solver = { method: dopri5, rtol: 1e-7, atol: 1e-9 };
  const g = gradientFn(m, { config: { method: 'adjoint', seminorm: true }, solver });
  assert.ok(E.isRight(g));
  const tr = compileTrainer(m, data, { solver, optimizer: { kind: 'adam', lr: 3e-3 }, batchSize: 20, batchTime: 10, iterations: 300, seed: 0 }, g.right);
  assert.ok(E.isRight(tr));
  const step = tr.right.step;
  let s: TrainerState = tr.right.init();
  const losses: number[] = [];
  for (let i = 0; i < 300; i++) {
    const r = step(s);
    assert.ok(E.isRight(r), E.isLeft(r) ? JSON.stringify(r.left) : '');
    s = r.right.state;
    losses.push(r.right.log.loss);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(losses.slice(0, 30)), last = mean(losses.slice(-30));
  assert.ok(last * 5 < first, `loss went from ${first} to ${last}`);
  // Same seed, same run: bit-identical on the Float64 path.
  let s2: TrainerState = tr.right.init();
  for (let i = 0; i < 5; i++) {
    const r2 = step(s2);
    assert.ok(E.isRight(r2));
    s2 = r2.right.state;
    assert.equal(r2.right.log.loss, losses[i]);
  }
});

test('a run killed with SIGKILL and resumed ends with exactly the parameters of an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxion-resume-'));
  const common = ['train', 'examples/specs/spiral.json', '--data', 'examples/data/spiral.json', '--iters', '120', '--checkpoint-every', '10', '--quiet'];
  const straight = cli(...common, '--out', join(dir, 'straight'));
  assert.equal(straight.status, 0, straight.stderr);
  const killedDir = join(dir, 'killed');
  const ckpt = join(killedDir, 'checkpoint.json');
  // Kill the child as soon as a checkpoint past iteration 20 exists (whenever that is).
  await new Promise<void>((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/fluxion.js'), ...common, '--out', killedDir], { cwd: root, stdio: 'ignore' });
    const poll = setInterval(() => {
      void (async () => {
        if (!existsSync(ckpt)) return;
        const c = await loadCheckpoint(ckpt);
        if (E.isRight(c) && c.right.iteration >= 20) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      })();
    }, 20);
    child.on('exit', () => { clearInterval(poll); resolve(); });
  });
  const before = await loadCheckpoint(ckpt);
  assert.ok(E.isRight(before), 'the checkpoint left by the killed run loads');
  const resumed = cli(...common, '--out', killedDir, '--resume');
  assert.equal(resumed.status, 0, resumed.stderr);
  const a = await loadCheckpoint(join(dir, 'straight', 'checkpoint.json'));
  const b = await loadCheckpoint(ckpt);
  assert.ok(E.isRight(a) && E.isRight(b));
  assert.equal(b.right.iteration, 120);
  for (const name of Object.keys(a.right.params)) assert.deepEqual(b.right.params[name]!.data, a.right.params[name]!.data, name);
  assert.deepEqual(b.right.rng, a.right.rng);
});

test('a blow-up stops training with the iteration, the failing solve and t, exit code 1, and keeps the last good checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxion-nan-'));
  const r = cli('train', 'spec/fixtures/train/blowup.json', '--data', 'examples/data/spiral.json', '--out', dir, '--iters', '5', '--quiet');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^fluxion train: iteration 1: the forward solve failed: step size fell to dt = \S+ at t = [\d.]+, .*\(last good state, iteration 0, kept in .*checkpoint\.json\)\n$/);
  assert.ok(!/\n\s+at /.test(r.stderr));
  const c = await loadCheckpoint(join(dir, 'checkpoint.json'));
  assert.ok(E.isRight(c) && c.right.iteration === 0);
});

test('the demo writes valid PNG and SVG plots, the adjoint system and a summary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxion-demo-'));
  const r = cli('demo', '--out', dir, '--iters', '30', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /mean absolute error on the full trajectory: [\d.]+/);
  for (const name of ['phase', 'training']) {
    const png = decodePng(readFileSync(join(dir, `${name}.png`)));
    assert.ok(E.isRight(png), `${name}.png decodes`);
    assert.ok(png.right.width > 600 && png.right.height > 600, `${name}.png is ${png.right.width}×${png.right.height}`);
    const svg = readFileSync(join(dir, `${name}.svg`), 'utf8');
    const w = /<svg[^>]*\bwidth="(\d+(?:\.\d+)?)"/.exec(svg), h = /<svg[^>]*\bheight="(\d+(?:\.\d+)?)"/.exec(svg);
    assert.ok(w !== null && h !== null, `${name}.svg has a size`);
    assert.equal(Math.round(Number(w[1]) * 2), png.right.width, 'the PNG is the SVG at 2×');
    assert.ok(svg.trimEnd().endsWith('</svg>'));
  }
  const adj = readFileSync(join(dir, 'adjoint.txt'), 'utf8');
  assert.match(adj, /^dy\/dt = /);
  assert.match(adj, /\nda\/dt = /);
  assert.match(adj, /\ndW̄₁\/dt = /);
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { iterations: number; trajectoryMAE: number };
  assert.equal(summary.iterations, 30);
  assert.ok(Number.isFinite(summary.trajectoryMAE));
});

test('train reports bad flags and data in one line', () => {
  const noData = cli('train', 'examples/specs/spiral.json', '--out', '/tmp/x');
  assert.equal(noData.status, 2);
  assert.match(noData.stderr, /^fluxion train: --data DATA\.json is required\n/);
  const badOpt = cli('train', 'examples/specs/spiral.json', '--data', 'examples/data/spiral.json', '--out', '/tmp/x', '--optimizer', 'lbfgs');
  assert.equal(badOpt.status, 2);
  assert.match(badOpt.stderr, /--optimizer: lbfgs is not one of adam, adamw, rmsprop, sgd/);
  const badData = cli('train', 'examples/specs/spiral.json', '--data', 'examples/specs/spiral.json', '--out', '/tmp/x');
  assert.equal(badData.status, 1);
  assert.match(badData.stderr, /examples\/specs\/spiral\.json: t: expected an array of at least 2 times/);
});
