/**
 * The latent-ODE example end to end in its `--quick` setting, as a user runs it (a child process):
 * one JSON summary line on stdout with finite figures; the latent ODE's predictive RMSE over the
 * 100 extrapolation times clearly below the untrained model's and below both constant baselines
 * (the last observed point, the mean of the observed points); its fit over the observed span far
 * below the trivial and untrained ones; valid PNG plots on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withQuickExample, type QuickSummary } from '../support/quickExample.ts';

interface Row {
  readonly observed: number;
  readonly latentOde: Readonly<Record<string, number | null>>;
  readonly rnn: Readonly<Record<string, number | null>>;
  readonly meanBaselineRmse: number;
  readonly lastValueBaselineRmse: number;
}

test('examples/latent.ts --quick: one JSON summary line, the latent ODE learns, valid PNGs', () => {
  withQuickExample<{ results: readonly Row[] } & QuickSummary>('examples/latent.ts', (summary) => {
    assert.ok(summary.results.length >= 1);
    for (const r of summary.results) {
      for (const k of ['rmse', 'reconstructionRmse', 'untrainedRmse', 'untrainedReconstructionRmse', 'finalLoss', 'seconds'])
        assert.ok(Number.isFinite(r.latentOde[k]), `latentOde.${k} = ${r.latentOde[k]}`);
      for (const k of ['rmse', 'finalLoss', 'seconds']) assert.ok(Number.isFinite(r.rnn[k]), `rnn.${k} = ${r.rnn[k]}`);
      assert.ok(Number.isFinite(r.meanBaselineRmse) && Number.isFinite(r.lastValueBaselineRmse));
      // Seed 0 measured (README, Latent ODEs): extrapolation 1.65 against 2.64 untrained, 2.62
      // for the last observed point and 3.58 for the mean; the bounds leave about 20% margin.
      const latent = r.latentOde['rmse'] as number, rec = r.latentOde['reconstructionRmse'] as number;
      const untrained = r.latentOde['untrainedRmse'] as number;
      assert.ok(latent < 0.8 * untrained, `latent ODE extrapolation RMSE ${latent} vs untrained ${untrained}`);
      assert.ok(latent < 0.8 * r.lastValueBaselineRmse, `latent ODE extrapolation RMSE ${latent} vs last observed point ${r.lastValueBaselineRmse}`);
      assert.ok(latent < 0.6 * r.meanBaselineRmse, `latent ODE extrapolation RMSE ${latent} vs mean of the observations ${r.meanBaselineRmse}`);
      assert.ok(rec < 0.25 * r.meanBaselineRmse, `reconstruction RMSE ${rec} vs mean baseline ${r.meanBaselineRmse}`);
      assert.ok(rec < 0.5 * (r.latentOde['untrainedReconstructionRmse'] as number), `reconstruction RMSE ${rec} vs untrained ${r.latentOde['untrainedReconstructionRmse']}`);
    }
    assert.ok(summary.plots.length >= 3);
    assert.ok(summary.plots.some((p) => /spiral-K\d+-0\.png$/.test(p)) && summary.plots.some((p) => /training-K\d+-latent\.png$/.test(p)));
  });
});
