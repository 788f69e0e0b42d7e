/**
 * The MNIST ODE-Net module: the three models' shapes and parameter counts (by the layer
 * formulas), the composed gradient stem → ODE block → head against central finite differences
 * for the adjoint and for backprop (and the ResNet's one VJP), a few seeded Adam steps lowering
 * the loss, and the `mnist` package's digits with a deterministic seeded split.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { initParams, type ParamValues } from '../../src/dsl/params.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { dopri5 } from '../../src/solvers/index.ts';
import { initOptimizer, step } from '../../src/train/optimizers.ts';
import { batchOf, classifier, downsample, loadMnist, modelKinds, splitDigits, type Classifier, type HeadKind, type Minibatch, type ModelKind } from '../../src/odenet/index.ts';

const digits = (() => {
  const d = loadMnist();
  if (E.isLeft(d)) throw new Error(d.left);
  return d.right;
})();

/** Parameters by the layer formulas: conv k×k (cin → cout) + bias, group norm 2C. */
const expectedCount = (kind: ModelKind, c: number, blocks: number): number => {
  const conv = (k: number, cin: number, cout: number): number => k * k * cin * cout + cout;
  const stemCount = conv(3, 1, c) + 2 * c + conv(4, c, c);
  const headCount = 2 * c + 10 * c + 10;
  const odeBlock = 3 * 2 * c + 2 * conv(3, c + 1, c);
  const resBlock = 3 * 2 * c + 2 * conv(3, c, c);
  return stemCount + headCount + (kind === 'resnet' ? blocks * resBlock : odeBlock);
};

describe('models', () => {
  test('parameter counts follow the layers; logits are [B, 10]; every gradient has its parameter\'s shape', () => {
    const b = batchOf(downsample(digits, 2), [0, 1500, 9000]);
    for (const kind of modelKinds) {
      const m = classifier(kind, { side: 14, channels: 4, groups: 2, downsamplings: 1 });
      assert.equal(m.paramCount, expectedCount(kind, 4, 6), kind);
      const params = initParams(m.params, 0);
      const l = m.logits(params, b.images);
      assert.ok(E.isRight(l), kind);
      assert.deepEqual(l.right.logits.shape, [3, 10]);
      assert.ok(l.right.logits.data.every(Number.isFinite));
      const s = m.step(params, b);
      assert.ok(E.isRight(s), kind);
      assert.ok(Number.isFinite(s.right.loss) && s.right.loss > 0);
      for (const p of m.params) assert.deepEqual(s.right.grads[p.name]?.shape, p.shape, `${kind}: gradient of ${p.name}`);
      if (kind === 'resnet') assert.equal(s.right.nfeForward, 0);
      else assert.ok(s.right.nfeForward >= 6 && s.right.nfeBackward >= 6, `${kind}: NFE ${s.right.nfeForward}/${s.right.nfeBackward}`);
    }
  });

  test('the flatten head reads every position of the feature map: H·W·C·10 + 10 weights instead of C·10 + 10', () => {
    for (const kind of modelKinds) {
      const m = classifier(kind, { side: 14, channels: 4, groups: 2, downsamplings: 1, head: 'flatten' });
      assert.equal(m.paramCount, expectedCount(kind, 4, 6) + (7 * 7 * 4 - 4) * 10, kind);
      const l = m.logits(initParams(m.params, 0), batchOf(downsample(digits, 2), [0, 1]).images);
      assert.ok(E.isRight(l) && l.right.logits.shape[1] === 10 && l.right.logits.data.every(Number.isFinite), kind);
    }
  });

  test('the paper\'s sizes (64 channels, 28×28, two downsamplings) give its parameter counts, 0.22M and 0.60M', () => {
    // Table 1 counts torchdiffeq's layers; ours differ only in the stem's second conv, 4×4 here too.
    for (const kind of modelKinds) {
      const n = expectedCount(kind, 64, 6) + (16 * 64 * 64 + 64 + 2 * 64);
      const millions = n / 1e6;
      assert.ok(kind === 'resnet' ? Math.abs(millions - 0.6) < 0.05 : Math.abs(millions - 0.22) < 0.03, `${kind}: ${millions}M`);
    }
  });
});

const tiny = (): Minibatch => {
  const side = 6, B = 3;
  const images: F64Tensor = { shape: [B, side, side, 1], data: Float64Array.from({ length: B * side * side }, (_, i) => (Math.sin(i * 1.7) + 1) / 2) };
  const labels = new Float64Array(B * 10);
  [3, 7, 1].forEach((l, i) => { labels[i * 10 + l] = 1; });
  return { images, labels: { shape: [B, 10], data: labels } };
};

const lossOf = (m: Classifier, p: ParamValues, b: Minibatch): number => {
  const s = m.step(p, b);
  if (E.isLeft(s)) throw new Error(s.left);
  return s.right.loss;
};

describe('the gradient chain stem → ODE block → head', () => {
  // The flatten head on the ResNet (one expression): a tiny continuous model with that head crosses
  // ReLU kinks within the finite-difference step, which then measures the kinks, not the gradient.
  const cases: readonly (readonly [ModelKind, HeadKind])[] = [...modelKinds.map((k) => [k, 'pool'] as const), ['resnet', 'flatten']];
  for (const [kind, headKind] of cases) {
    test(`${kind} (${headKind} head): every parameter's gradient (its last entry) equals central finite differences`, () => {
      const m = classifier(kind, { side: 6, channels: 2, groups: 1, downsamplings: 1, resBlocks: 2, head: headKind, solver: { method: dopri5, rtol: 1e-10, atol: 1e-10 } });
      const p = initParams(m.params, 1), b = tiny();
      const g = m.step(p, b);
      assert.ok(E.isRight(g));
      // The loss of an adaptive solve is accurate to ~1e-10: a step of 1e-3 keeps its noise and the
      // O(h²) truncation both near 1e-6. The ResNet's loss is one expression: a small step stays
      // clear of ReLU kinks.
      const h = kind === 'resnet' ? 1e-6 : 1e-3;
      for (const decl of m.params) {
        const v = p[decl.name] as F64Tensor;
        for (const i of [v.data.length - 1]) {
          const bump = (d: number): ParamValues => ({ ...p, [decl.name]: { shape: v.shape, data: v.data.map((x, j) => (j === i ? x + d : x)) } });
          const fd = (lossOf(m, bump(h), b) - lossOf(m, bump(-h), b)) / (2 * h);
          const got = (g.right.grads[decl.name] as F64Tensor).data[i] as number;
          assert.ok(Math.abs(got - fd) <= 1e-5 + 2e-3 * Math.abs(fd), `${kind}: ∂L/∂${decl.name}[${i}] = ${got}, finite differences ${fd}`);
        }
      }
    });
  }
});

test('a few seeded Adam steps on a tiny subset lower the loss, for each model', () => {
  const small = downsample(digits, 4);
  const b = batchOf(small, Array.from({ length: 20 }, (_, i) => i * 500));
  for (const kind of modelKinds) {
    const m = classifier(kind, { side: 7, channels: 4, groups: 2, downsamplings: 1 });
    const cfg = { kind: 'adam', lr: 1e-2 } as const;
    let params = initParams(m.params, 3), state = initOptimizer(cfg, params);
    const first = lossOf(m, params, b);
    for (let it = 0; it < 8; it++) {
      const s = m.step(params, b);
      assert.ok(E.isRight(s));
      const next = step(cfg, state, params, s.right.grads, 1e-2);
      assert.ok(E.isRight(next));
      params = next.right.params;
      state = next.right.state;
    }
    const last = lossOf(m, params, b);
    assert.ok(last < first - 0.05, `${kind}: loss ${first} → ${last}`);
  }
});

describe('mnist digits', () => {
  test('10,000 labelled 28×28 images with grey values in [0, 1], every class present', () => {
    assert.equal(digits.n, 10000);
    assert.equal(digits.side, 28);
    assert.equal(digits.pixels.length, 10000 * 784);
    assert.ok(digits.pixels.every((v) => v >= 0 && v <= 1));
    const counts = Array.from({ length: 10 }, (_, c) => digits.labels.filter((l) => l === c).length);
    assert.ok(counts.every((c) => c > 800 && c < 1200), `class counts ${counts.join(', ')}`);
  });

  test('the seeded split is deterministic, sized as asked, and changes with the seed', () => {
    const a = splitDigits(digits, { testCount: 100, trainCount: 300, seed: 7 });
    const b = splitDigits(digits, { testCount: 100, trainCount: 300, seed: 7 });
    const c = splitDigits(digits, { testCount: 100, trainCount: 300, seed: 8 });
    assert.equal(a.train.n, 300);
    assert.equal(a.test.n, 100);
    assert.deepEqual(a.test.pixels, b.test.pixels);
    assert.deepEqual(a.train.labels, b.train.labels);
    assert.notDeepEqual(a.test.pixels, c.test.pixels);
    const all = splitDigits(digits, { testCount: 1000, seed: 0 });
    assert.equal(all.train.n + all.test.n, 10000);
    assert.throws(() => splitDigits(digits, { testCount: 9000, trainCount: 2000, seed: 0 }), RangeError);
  });

  test('downsampling averages blocks: 28 → 14 keeps the mean grey value', () => {
    const d = downsample(splitDigits(digits, { testCount: 10, trainCount: 10, seed: 0 }).test, 2);
    assert.equal(d.side, 14);
    assert.equal(d.pixels.length, 10 * 196);
    assert.throws(() => downsample(d, 3), RangeError);
  });
});
