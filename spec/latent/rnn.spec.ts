/**
 * The RNN baseline: shapes, inputs and parameters, one value of the loss and of the fed-back
 * extrapolation against a hand-written float64 unrolling, and its gradient against finite
 * differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as X from '../../src/dsl/expr.ts';
import type { NodeOf } from '../../src/dsl/node.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { seedRng } from '../../src/random/prng.ts';
import { batch } from '../../src/latent/encoder.ts';
import { rnnBaseline, rnnEnv, stackTime } from '../../src/latent/rnn.ts';
import { observationsOf, spirals } from '../../src/latent/spirals.ts';
import { checkVjp, rng, run } from '../adjoint/fd.ts';
import { assertClose, gruParams, gruStepRef, hcat, linearRef, mat, type Mat } from './reference.ts';

const data = (t: F64Tensor | undefined): Float64Array => (t as F64Tensor).data;

test('shapes: K − 1 one-step predictions, M fed-back predictions, K − 1 + M gap inputs', () => {
  const rnn = rnnBaseline({ steps: 30, extrapolate: 100, obsStd: 0.1 });
  assert.equal(rnn.xs.length, 30);
  assert.equal(rnn.gaps.length, 129);
  assert.equal(rnn.oneStep.length, 29);
  assert.equal(rnn.extrapolated.length, 100);
  assert.deepEqual(stackTime(rnn.extrapolated).shape, [100, batch, 2]);
  assert.deepEqual(stackTime(rnn.oneStep).shape, [29, batch, 2]);
  assert.deepEqual(rnn.nll.shape, []);
  assert.deepEqual(rnn.params.map((p) => [p.name, p.shape]), [
    ['rnn_gru_Wi', [3, 75]], ['rnn_gru_Wh', [25, 75]], ['rnn_gru_bi', [75]], ['rnn_gru_bh', [75]], ['rnn_out_W', [25, 2]], ['rnn_out_b', [2]],
  ]);
  const plain = rnnBaseline({ steps: 5, extrapolate: 2, obsStd: 0.1, timeGaps: false });
  assert.equal(plain.gaps.length, 0);
  assert.deepEqual(plain.params[0]?.shape, [2, 75]);
  assert.throws(() => rnnBaseline({ steps: 0, obsStd: 0.1 }), RangeError);
  assert.throws(() => stackTime([]), /at least one/);
});

test('one value: the loss and the extrapolation equal a hand-written unrolling on spiral data', () => {
  const K = 4, M = 3, H = 5, STD = 0.2;
  const [d] = spirals({ count: 6, observed: K, testCount: 0, observeSteps: 20, extrapolateSteps: 10 }, seedRng(2));
  const rows = [1, 4];
  const obs = observationsOf(d.train, rows);
  const targets = Array.from(d.train.times.subarray(20, 23));
  const rnn = rnnBaseline({ steps: K, extrapolate: M, hiddenDim: H, obsStd: STD });
  const r = rng(5, 'rnn');
  const params = Object.fromEntries(rnn.params.map((p) => [p.name, r.tensor(p.shape, () => r.uniform(-1, 1))]));
  const env = { ...params, ...rnnEnv(rnn, obs, targets) };
  const [nll, ext] = run([rnn.nll.node, stackTime(rnn.extrapolated).node], env);

  const p = gruParams(params, 'rnn_gru');
  const W = mat(params['rnn_out_W'] as F64Tensor), b = data(params['rnn_out_b']);
  const xAt = (k: number): Mat => ({ rows: 2, cols: 2, data: Float64Array.from({ length: 4 }, (_, i) => obs.values[(Math.floor(i / 2) * K + k) * 2 + (i % 2)] as number) });
  const tAt = (row: number, i: number): number => (i < K ? (obs.times[row * K + i] as number) : (targets[i - K] as number));
  const gap = (i: number): Mat => ({ rows: 2, cols: 1, data: Float64Array.from([0, 1], (row) => tAt(row, i + 1) - tAt(row, i)) });
  let h: Mat = { rows: 2, cols: H, data: new Float64Array(2 * H) };
  let want = 0;
  for (let k = 0; k < K - 1; k++) {
    h = gruStepRef(p, h, hcat(xAt(k), gap(k)));
    const pred = linearRef(h, W, b), next = xAt(k + 1);
    pred.data.forEach((v, i) => {
      const e = (next.data[i] as number) - v;
      want += 0.5 * ((e * e) / (STD * STD) + Math.log(2 * Math.PI * STD * STD));
    });
  }
  let input = xAt(K - 1);
  const preds: number[] = [];
  for (let j = 0; j < M; j++) {
    h = gruStepRef(p, h, hcat(input, gap(K - 1 + j)));
    input = linearRef(h, W, b);
    preds.push(...input.data);
  }
  assertClose(data(nll), [want / 2], 1e-12, 'nll');
  // stackTime is time-major [M, B, 2], as are the hand-written predictions.
  assertClose(data(ext), preds, 1e-12, 'extrapolation');
  assert.equal(data(env['rnn_gap4'])[0], (targets[0] as number) - (obs.times[K - 1] as number));
  assert.throws(() => rnnEnv(rnn, obs, targets.slice(0, 2)), /needs 3 extrapolation times/);
});

test('the gradient of the loss and of the extrapolation equals central finite differences', () => {
  const rnn = rnnBaseline({ steps: 3, extrapolate: 2, hiddenDim: 3, obsStd: 0.5 });
  const r = rng(6, 'rnn-grad');
  const params = Object.fromEntries(rnn.params.map((p) => [p.name, r.tensor(p.shape, () => r.uniform(-1, 1))]));
  const inputs = Object.fromEntries([...rnn.xs, ...rnn.gaps].map((v) => [(v.node as NodeOf<'var'>).name, r.tensor([2, v.shape[1]])]));
  const wrt = [...rnn.params.map((p) => p.expr.node), ...rnn.xs.map((v) => v.node)] as NodeOf<'var'>[];
  const { mismatches } = checkVjp({ outputs: [rnn.nll.node, ...rnn.extrapolated.map((e) => e.node)], wrt, env: { ...params, ...inputs }, rng: r });
  assert.deepEqual(mismatches, []);
  assert.deepEqual(X.sum(stackTime(rnn.extrapolated)).shape, []);
});
