/**
 * The latent-ODE example end to end in its `--quick` setting, as a user runs it (a child process):
 * one JSON summary line on stdout with finite figures, the latent ODE's predictive RMSE below the
 * trivial baseline's, its fit over the observed span far below the trivial and untrained ones, and
 * valid PNG plots on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withQuickExample, type QuickSummary } from '../support/quickExample.ts';

interface Row {
  readonly observed: number;
  readonly latentOde: Readonly<Record<string, number | null>>;
  readonly rnn: Readonly<Record<string, number | null>>;
  readonly meanBaselineRmse: number;
}

test('examples/latent.ts --quick: one JSON summary line, the latent ODE learns, valid PNGs', () => {
  withQuickExample<{ results: readonly Row[] } & QuickSummary>('examples/latent.ts', (summary) => {
    assert.ok(summary.results.length >= 1);
    for (const r of summary.results) {
      for (const k of ['rmse', 'reconstructionRmse', 'untrainedRmse', 'untrainedReconstructionRmse', 'finalLoss', 'seconds'])
        assert.ok(Number.isFinite(r.latentOde[k]), `latentOde.${k} = ${r.latentOde[k]}`);
      for (const k of ['rmse', 'finalLoss', 'seconds']) assert.ok(Number.isFinite(r.rnn[k]), `rnn.${k} = ${r.rnn[k]}`);
      assert.ok(Number.isFinite(r.meanBaselineRmse));
      // The quick run is too short to learn the dynamics far beyond the observed span reliably:
      // its predictive (extrapolation) RMSE is only required to beat the trivial baseline; the
      // learning shows in the fit over the observed span, far below the trivial and untrained ones.
      const latent = r.latentOde['rmse'] as number, rec = r.latentOde['reconstructionRmse'] as number;
      assert.ok(latent < 0.9 * r.meanBaselineRmse, `latent ODE RMSE ${latent} vs mean baseline ${r.meanBaselineRmse}`);
      assert.ok(rec < 0.25 * r.meanBaselineRmse, `reconstruction RMSE ${rec} vs mean baseline ${r.meanBaselineRmse}`);
      assert.ok(rec < 0.5 * (r.latentOde['untrainedReconstructionRmse'] as number), `reconstruction RMSE ${rec} vs untrained ${r.latentOde['untrainedReconstructionRmse']}`);
    }
    assert.ok(summary.plots.length >= 3);
    assert.ok(summary.plots.some((p) => /spiral-K\d+-0\.png$/.test(p)) && summary.plots.some((p) => /training-K\d+-latent\.png$/.test(p)));
  });
});
