/**
 * Maximum-likelihood training of continuous normalizing flows: the loss agrees with the density
 * of `density.ts`, its adjoint gradient matches central finite differences (exact trace and
 * Hutchinson's estimator with a fixed probe), a short seeded run lowers the held-out NLL and is
 * reproducible, the TRAINED flow's density still integrates to ≈ 1, and failures come back as values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { concatSquash } from '../../src/dsl/layers.ts';
import { dynamics } from '../../src/dsl/model.ts';
import { initParams, type ParamValues } from '../../src/dsl/params.ts';
import { sym } from '../../src/dsl/shape.ts';
import { toy2d } from '../../src/data/toy2d.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { formatGradientError, lossValue, prepareGradient } from '../../src/adjoint/gradients/index.ts';
import { seedRng } from '../../src/random/prng.ts';
import { dopri5 } from '../../src/solvers/index.ts';
import {
  cnf, cnfNllLoss, compileCnf, drawNoise, formatFlowError, formatTrainCnfError, logDensity, solveErrorOf, standardNormalLogPdf, trainCnf,
  type CnfOptions, type TrainCnfOptions,
} from '../../src/flows/index.ts';

const Bt = sym('batch');

/** A concat-squash flow `2 → hidden → 2` (tanh), time-dependent. */
const csFlow = (hidden: number, opts: CnfOptions = {}) => {
  const z = X.state('z', [Bt, 2]);
  const t = X.time('t');
  const c1 = concatSquash('c1', 2, hidden), c2 = concatSquash('c2', hidden, 2);
  return cnf(dynamics({ state: z, time: t, params: [...c1.params, ...c2.params], f: c2.apply(X.tanh(c1.apply(z, t)), t) }), opts);
};

const packed = (x: F64Tensor): F64Tensor => {
  const n = x.shape[0] ?? 0;
  const y = new Float64Array(n * 3);
  for (let b = 0; b < n; b++) y.set(x.data.subarray(2 * b, 2 * b + 2), 3 * b);
  return { shape: [n, 3], data: y };
};

const meanOf = (xs: Float64Array): number => xs.reduce((a, b) => a + b, 0) / xs.length;

const nllOf = (flow: ReturnType<typeof csFlow>, values: ParamValues, x: F64Tensor): number => {
  const r = logDensity(compileCnf(flow), values, x, { solver: { method: dopri5, rtol: 1e-8, atol: 1e-10 } });
  if (E.isLeft(r)) throw new Error(formatFlowError(r.left));
  return -meanOf(r.right.logp);
};

test('the CNF loss is −mean log p(x) of density.ts', () => {
  const flow = csFlow(6);
  const values = initParams(flow.base.params, 3);
  const [x] = toy2d('moons', 16, seedRng(1));
  const loss = cnfNllLoss(flow);
  assert.ok(E.isRight(loss));
  const l = lossValue({
    dynamics: flow.augmented, loss: loss.right, params: values, z0: packed(x), ts: [0, 1], solver: { method: dopri5, rtol: 1e-10, atol: 1e-12 },
  });
  assert.ok(E.isRight(l), E.isLeft(l) ? formatGradientError(l.left) : '');
  const expected = nllOf(flow, values, x);
  assert.ok(Math.abs(l.right - expected) < 1e-7, `${l.right} vs ${expected}`);
});

for (const [label, opts] of [
  ['exact trace, closed form', { trace: 'exact' }],
  ['exact trace, Jacobian diagonal', { trace: 'exact', closedForm: false }],
  ['Hutchinson trace with a fixed Gaussian probe', { trace: 'hutchinson', noise: 'gaussian' }],
] as const) {
  test(`adjoint gradient of the CNF loss matches central finite differences (${label})`, () => {
    const flow = csFlow(3, opts);
    const values = initParams(flow.base.params, 11);
    const [x] = toy2d('8gaussians', 5, seedRng(2));
    const loss = cnfNllLoss(flow);
    assert.ok(E.isRight(loss));
    const inputs: Record<string, F64Tensor> = {};
    if (flow.probe !== undefined) inputs[flow.probe.variable.name] = drawNoise(flow.probe.kind, 5, 2, seedRng(4))[0];
    const solver = { method: dopri5, rtol: 1e-11, atol: 1e-12 } as const;
    const problem = { params: values, z0: packed(x), ts: [0, 1], dynamicsInputs: inputs, solver };
    const g = prepareGradient({ dynamics: flow.augmented, loss: loss.right }, { method: 'adjoint' });
    assert.ok(E.isRight(g));
    const r = g.right(problem);
    assert.ok(E.isRight(r), E.isLeft(r) ? formatGradientError(r.left) : '');
    const lossAt = (ps: ParamValues): number => {
      const l = lossValue({ dynamics: flow.augmented, loss: loss.right, ...problem, params: ps });
      if (E.isLeft(l)) throw new Error(formatGradientError(l.left));
      return l.right;
    };
    assert.ok(Math.abs(lossAt(values) - r.right.loss) < 1e-8);
    const h = 1e-5;
    let checked = 0;
    for (const p of flow.base.params) {
      const v = values[p.name] as F64Tensor;
      const grad = r.right.dparams[p.name] as F64Tensor;
      for (let i = 0; i < v.data.length; i++) {
        const at = (delta: number): number => {
          const data = Float64Array.from(v.data);
          data[i] = (data[i] as number) + delta;
          return lossAt({ ...values, [p.name]: { shape: v.shape, data } });
        };
        const fd = (at(h) - at(-h)) / (2 * h);
        const ad = grad.data[i] as number;
        assert.ok(Math.abs(ad - fd) <= 1e-6 + 1e-5 * Math.abs(fd), `${p.name}[${i}]: adjoint ${ad}, finite differences ${fd}`);
        checked++;
      }
    }
    assert.ok(checked > 30);
  });
}

// One short seeded run shared by the tests below.
const flow = csFlow(16);
const [testSet] = toy2d('moons', 500, seedRng(7, 'test'));
const runOptions: TrainCnfOptions = {
  init: initParams(flow.base.params, 0),
  data: (n, rng) => toy2d('moons', n, rng),
  iterations: 150, batchSize: 128, seed: 0,
  solver: { method: dopri5, rtol: 1e-5, atol: 1e-5 },
  optimizer: { kind: 'adam', lr: 1e-2 },
  clipNorm: 20,
};
const run = trainCnf(flow, runOptions);

test('a short seeded training run lowers the held-out NLL below the untrained flow\'s and the base Gaussian\'s', () => {
  assert.ok(E.isRight(run), E.isLeft(run) ? formatTrainCnfError(run.left) : '');
  const { params, history, nfe } = run.right;
  assert.equal(history.length, 150);
  assert.ok(history.every((e) => Number.isFinite(e.loss) && e.nfeForward > 0 && e.nfeBackward > 0));
  assert.ok(nfe.forward > 0 && nfe.meanBackward > 0);
  const before = nllOf(flow, runOptions.init, testSet);
  const after = nllOf(flow, params, testSet);
  const base = -meanOf(standardNormalLogPdf(testSet));
  assert.ok(after < before - 0.4, `test NLL ${after} vs untrained ${before}`);
  assert.ok(after < base - 0.3, `test NLL ${after} vs base Gaussian ${base}`);
  const firsts = meanOf(Float64Array.from(history.slice(0, 10), (e) => e.loss));
  const lasts = meanOf(Float64Array.from(history.slice(-10), (e) => e.loss));
  assert.ok(lasts < firsts, `minibatch loss ${firsts} → ${lasts}`);
});

test('training is reproducible from its seed; another seed draws other minibatches', () => {
  const short = { ...runOptions, iterations: 3 };
  const a = trainCnf(flow, short), b = trainCnf(flow, short), c = trainCnf(flow, { ...short, seed: 1 });
  assert.ok(E.isRight(a) && E.isRight(b) && E.isRight(c));
  assert.deepEqual(a.right.history.map((e) => e.loss), b.right.history.map((e) => e.loss));
  assert.deepEqual(a.right.params, b.right.params);
  assert.notDeepEqual(a.right.history.map((e) => e.loss), c.right.history.map((e) => e.loss));
});

test('the gradient method is configurable: backprop and the seminorm adjoint take nearly the same steps', () => {
  const short = { ...runOptions, iterations: 3, solver: { method: dopri5, rtol: 1e-8, atol: 1e-8 } };
  const adj = trainCnf(flow, short);
  const bp = trainCnf(flow, { ...short, method: { method: 'backprop' } });
  const semi = trainCnf(flow, { ...short, method: { method: 'adjoint', seminorm: true } });
  assert.ok(E.isRight(adj) && E.isRight(bp) && E.isRight(semi));
  for (const other of [bp.right, semi.right]) {
    assert.ok(Math.abs((other.history[0]?.loss ?? NaN) - (adj.right.history[0]?.loss ?? NaN)) < 1e-9, 'same first minibatch, same loss');
    for (const [k, v] of Object.entries(adj.right.params))
      v.data.forEach((a, i) => assert.ok(Math.abs(a - (other.params[k]?.data[i] ?? NaN)) < 1e-5, `${k}[${i}]`));
  }
});

test('a trained flow\'s density integrates to ≈ 1 over a grid', () => {
  assert.ok(E.isRight(run));
  const h = 0.1, L = 7;
  const grid: number[] = [];
  for (let x = -L + h / 2; x < L; x += h) for (let y = -L + h / 2; y < L; y += h) grid.push(x, y);
  const pts: F64Tensor = { shape: [grid.length / 2, 2], data: Float64Array.from(grid) };
  const r = logDensity(compileCnf(flow), run.right.params, pts, { solver: { method: dopri5, rtol: 1e-6, atol: 1e-8 } });
  assert.ok(E.isRight(r), E.isLeft(r) ? formatFlowError(r.left) : '');
  const mass = r.right.logp.reduce((m, l) => m + Math.exp(l) * h * h, 0);
  assert.ok(Math.abs(mass - 1) < 0.02, `mass ${mass}`);
  const base = standardNormalLogPdf(pts);
  const moved = r.right.logp.reduce((m, l, i) => ((base[i] as number) > -6 ? Math.max(m, Math.abs(l - (base[i] as number))) : m), 0);
  assert.ok(moved > 1, `training moved the density away from the base (max |Δ log p| = ${moved})`);
});

test('Hutchinson training draws a probe per iteration and learns too', () => {
  const hutch = csFlow(16, { trace: 'hutchinson', noise: 'rademacher' });
  const r = trainCnf(hutch, { ...runOptions, init: initParams(hutch.base.params, 0), iterations: 60 });
  assert.ok(E.isRight(r), E.isLeft(r) ? formatTrainCnfError(r.left) : '');
  const before = nllOf(flow, runOptions.init, testSet);
  const after = nllOf(flow, r.right.params, testSet); // evaluated with the exact trace
  assert.ok(after < before - 0.2, `test NLL ${after} vs untrained ${before}`);
});

test('failures are values: bad options, and a solve failure with the time it failed at', () => {
  const bad = trainCnf(flow, { ...runOptions, batchSize: 0 });
  assert.ok(E.isLeft(bad) && bad.left._tag === 'InvalidOptions');
  assert.match(formatTrainCnfError(bad.left), /batchSize/);
  const missing = trainCnf(flow, { ...runOptions, init: {} });
  assert.ok(E.isLeft(missing) && /no value for parameter c1/.test(formatTrainCnfError(missing.left)));
  const wrong = trainCnf(flow, { ...runOptions, data: (n, rng) => toy2d('moons', n + 1, rng) });
  assert.ok(E.isLeft(wrong) && /iteration 1: the data source gave shape \[129,2\], expected \[128, 2\]/.test(formatTrainCnfError(wrong.left)), E.isLeft(wrong) ? formatTrainCnfError(wrong.left) : '');
  const r = trainCnf(flow, { ...runOptions, iterations: 2, solver: { method: dopri5, rtol: 1e-5, atol: 1e-5, maxSteps: 2 } });
  assert.ok(E.isLeft(r) && r.left._tag === 'GradientFailed' && r.left.iteration === 1);
  const se = solveErrorOf(r.left);
  assert.ok(se !== undefined && se._tag === 'MaxStepsReached', formatTrainCnfError(r.left));
  assert.ok(se._tag === 'MaxStepsReached' && se.t > 0 && se.t < 1, `failed at t = ${se._tag === 'MaxStepsReached' ? se.t : '?'}`);
});
