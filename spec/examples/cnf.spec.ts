/**
 * The CNF example end to end in its `--quick` setting, as a user runs it (a child process): one
 * JSON summary line on stdout with finite figures, each dataset's held-out NLL below the base
 * Gaussian's and the untrained flow's, and valid PNG plots (density and samples per dataset).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { decodePng } from '../../src/plot/index.ts';

interface Row {
  readonly dataset: string;
  readonly testNll: number;
  readonly baseNll: number;
  readonly untrainedNll: number;
  readonly gridMass: number;
  readonly iterations: number;
  readonly seconds: number;
  readonly nfe: Readonly<Record<string, number>>;
}

test('examples/cnf.ts --quick: one JSON summary line, the flow learns both datasets, valid PNGs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxion-cnf-'));
  try {
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'examples/cnf.ts', '--quick', '--out', dir, '--seed', '0'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24,
    });
    const lines = stdout.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `stdout must hold exactly the summary line, got ${lines.length} lines`);
    const summary = JSON.parse(lines[0] as string) as { quick: boolean; seed: number; results: readonly Row[]; plots: readonly string[] };
    assert.equal(summary.quick, true);
    assert.equal(summary.seed, 0);
    assert.equal(summary.results.length, 2);
    assert.equal(new Set(summary.results.map((r) => r.dataset)).size, 2);
    for (const r of summary.results) {
      for (const k of ['testNll', 'baseNll', 'untrainedNll', 'gridMass', 'seconds'] as const)
        assert.ok(Number.isFinite(r[k]), `${r.dataset}.${k} = ${r[k]}`);
      assert.ok(r.iterations > 0);
      for (const [k, v] of Object.entries(r.nfe)) assert.ok(Number.isFinite(v) && v > 0, `${r.dataset}.nfe.${k} = ${v}`);
      assert.ok(r.testNll < r.baseNll - 0.3, `${r.dataset}: test NLL ${r.testNll} vs base Gaussian ${r.baseNll}`);
      assert.ok(r.testNll < r.untrainedNll - 0.3, `${r.dataset}: test NLL ${r.testNll} vs untrained ${r.untrainedNll}`);
      // The heatmap's window holds nearly all of the learned mass (2-D toy data lives inside it).
      assert.ok(r.gridMass > 0.9 && r.gridMass < 1.02, `${r.dataset}: grid mass ${r.gridMass}`);
    }
    assert.equal(summary.plots.length, 4);
    for (const p of summary.plots) {
      assert.ok(p.startsWith(dir) && p.endsWith('.png') && existsSync(p), p);
      const png = decodePng(readFileSync(p));
      assert.ok(E.isRight(png), `${p} is not a valid PNG`);
      assert.ok(png.right.width > 100 && png.right.height > 100);
      assert.ok(existsSync(p.replace(/\.png$/, '.svg')), `${p}: SVG twin`);
    }
    for (const d of summary.results.map((r) => r.dataset))
      assert.ok(summary.plots.some((p) => p.endsWith(`density-${d}.png`)) && summary.plots.some((p) => p.endsWith(`samples-${d}.png`)), d);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
