/**
 * The MNIST ODE-Net example end to end in its `--quick` setting, as a user runs it (a child
 * process that forks one child per model): one JSON summary line on stdout with the three models,
 * finite figures, test errors well below chance (90%), and valid PNG plots on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withQuickExample, type QuickSummary } from '../support/quickExample.ts';

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
  withQuickExample<{ models: Record<string, ModelSummary> } & QuickSummary>('examples/odenet.ts', (summary) => {
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
  });
});
