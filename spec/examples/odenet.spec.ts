/**
 * The MNIST ODE-Net example end to end in its `--quick` setting, as a user runs it (a child
 * process that forks one child per model and one for memory): one JSON summary line on stdout with
 * the three models, finite figures, test errors well below chance (90%), the memory scaling
 * (backprop through the solver holding more than the adjoint, the ResNet's memory growing with
 * depth), and valid PNG plots on disk.
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
  readonly cpuSeconds: number;
}

interface MemoryScaling {
  readonly odeBlock: readonly { readonly method: 'adjoint' | 'backprop'; readonly steps: number; readonly growthMb: number }[];
  readonly resnet: readonly { readonly blocks: number; readonly growthMb: number }[];
  readonly slopes: Readonly<Record<string, number>>;
}

test('examples/odenet.ts --quick: one JSON summary line, three models below chance, valid PNGs', () => {
  withQuickExample<{ models: Record<string, ModelSummary>; memory_scaling: MemoryScaling } & QuickSummary>('examples/odenet.ts', (summary) => {
    assert.deepEqual(Object.keys(summary.models).sort(), ['odenet', 'resnet', 'rknet']);
    for (const [kind, m] of Object.entries(summary.models)) {
      for (const k of ['testError', 'params', 'iterations', 'finalLoss', 'nfeForward', 'nfeBackward', 'peakRssMb', 'seconds', 'cpuSeconds'] as const)
        assert.ok(Number.isFinite(m[k]), `${kind}.${k} = ${m[k]}`);
      // Seed 0 gave 12–17% (1,000 digits at 7×7); chance is 90%.
      assert.ok(m.testError < 0.35, `${kind}: test error ${m.testError} is not clearly below chance (0.9)`);
      assert.ok(m.iterations > 0);
    }
    const { resnet, rknet, odenet } = summary.models as Record<'resnet' | 'rknet' | 'odenet', ModelSummary>;
    assert.equal(rknet.params, odenet.params, 'RK-Net and ODE-Net share the ODE block');
    assert.ok(resnet.params > odenet.params, 'six residual blocks hold more parameters than one ODE block');
    assert.equal(resnet.nfeForward, 0);
    assert.ok(odenet.nfeForward >= 6 && rknet.nfeForward >= 6, 'an adaptive solve of [0, 1] takes at least one dopri5 step');
    assert.ok(summary.plots.length >= 3 && summary.plots.some((p) => p.endsWith('memory-scaling.png')));
    // Memory: the same solves (same steps) for both methods; at the most steps backprop through the
    // solver holds several times what the adjoint holds; the ResNet's memory grows with depth.
    const ms = summary.memory_scaling;
    const last = (m: 'adjoint' | 'backprop') => ms.odeBlock.filter((p) => p.method === m).reduce((a, b) => (b.steps > a.steps ? b : a));
    assert.equal(last('adjoint').steps, last('backprop').steps);
    assert.ok(last('backprop').growthMb > 2 * last('adjoint').growthMb, `backprop ${last('backprop').growthMb} MB vs adjoint ${last('adjoint').growthMb} MB`);
    assert.ok(ms.resnet.every((p, i) => i === 0 || p.growthMb > (ms.resnet[i - 1] as { growthMb: number }).growthMb), 'ResNet memory grows with depth');
    assert.ok(Object.values(ms.slopes).every(Number.isFinite));
  });
});
