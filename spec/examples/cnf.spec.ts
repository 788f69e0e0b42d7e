/**
 * The CNF example end to end in its `--quick` setting, as a user runs it (a child process): one
 * JSON summary line on stdout with finite figures, each dataset's held-out NLL below the base
 * Gaussian's and the untrained flow's, and valid PNG plots (density and samples per dataset).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { withQuickExample, type QuickSummary } from '../support/quickExample.ts';

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
  withQuickExample<{ results: readonly Row[] } & QuickSummary>('examples/cnf.ts', (summary) => {
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
    for (const p of summary.plots) assert.ok(existsSync(p.replace(/\.png$/, '.svg')), `${p}: SVG twin`);
    for (const d of summary.results.map((r) => r.dataset))
      assert.ok(summary.plots.some((p) => p.endsWith(`density-${d}.png`)) && summary.plots.some((p) => p.endsWith(`samples-${d}.png`)), d);
  });
});
