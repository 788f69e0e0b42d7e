/**
 * The MNIST ODE-Net example end to end in its `--quick` setting, as a user runs it (a child
 * process that forks one child per model): one JSON summary line on stdout with the three models,
 * finite figures, test errors well below chance (90%), and valid PNG plots on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { decodePng } from '../../src/plot/index.ts';

interface ModelSummary {
  readonly testError: number;
  readonly params: number;
  readonly iterations: number;
  readonly finalLoss: number;
  readonly nfeForward: number;
  readonly nfeBackward: number;
  readonly peakRssMb: number;
  readonly seconds: number;
}

test('examples/odenet.ts --quick: one JSON summary line, three models below chance, valid PNGs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxion-odenet-'));
  try {
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'examples/odenet.ts', '--quick', '--out', dir, '--seed', '0'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24,
    });
    const lines = stdout.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `stdout must hold exactly the summary line, got ${lines.length} lines`);
    const summary = JSON.parse(lines[0] as string) as { quick: boolean; seed: number; models: Record<string, ModelSummary>; plots: readonly string[] };
    assert.equal(summary.quick, true);
    assert.equal(summary.seed, 0);
    assert.deepEqual(Object.keys(summary.models).sort(), ['odenet', 'resnet', 'rknet']);
    for (const [kind, m] of Object.entries(summary.models)) {
      for (const k of ['testError', 'params', 'iterations', 'finalLoss', 'nfeForward', 'nfeBackward', 'peakRssMb', 'seconds'] as const)
        assert.ok(Number.isFinite(m[k]), `${kind}.${k} = ${m[k]}`);
      assert.ok(m.testError < 0.6, `${kind}: test error ${m.testError} is not clearly below chance (0.9)`);
      assert.ok(m.iterations > 0);
    }
    const { resnet, rknet, odenet } = summary.models as Record<'resnet' | 'rknet' | 'odenet', ModelSummary>;
    assert.equal(rknet.params, odenet.params, 'RK-Net and ODE-Net share the ODE block');
    assert.ok(resnet.params > odenet.params, 'six residual blocks hold more parameters than one ODE block');
    assert.equal(resnet.nfeForward, 0);
    assert.ok(odenet.nfeForward >= 6 && rknet.nfeForward >= 6, 'an adaptive solve of [0, 1] takes at least one dopri5 step');
    assert.ok(summary.plots.length >= 2);
    for (const p of summary.plots) {
      const png = decodePng(readFileSync(p));
      assert.ok(E.isRight(png), `${p} is a valid PNG`);
      assert.ok(png.right.width > 100 && png.right.height > 100, `${p} has a plausible size`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
