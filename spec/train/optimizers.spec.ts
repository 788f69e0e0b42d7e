import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import type { ParamValues } from '../../src/dsl/params.ts';
import {
  baseLr, formatOptimizerError, initOptimizer, resolveOptimizer, stateIssues, step,
  type OptimizerConfig, type OptimizerError, type OptState,
} from '../../src/train/optimizers.ts';
import { assertProperty } from '../support/property.ts';

/** f(x) = ½ Σ aᵢ xᵢ², ∇f = a ⊙ x. */
const A = [1, 10];
const X0 = [1.5, -2];
const gradOf = (p: ParamValues): ParamValues => {
  const x = p['x']?.data ?? new Float64Array(0);
  return { x: { shape: [x.length], data: x.map((v, i) => (A[i] ?? 1) * v) } };
};
const param = (xs: readonly number[]): ParamValues => ({ x: { shape: [xs.length], data: Float64Array.from(xs) } });

const run = (cfg: OptimizerConfig, steps: number, grad = gradOf, x0: readonly number[] = X0): number[][] => {
  let params = param(x0);
  let state: OptState = initOptimizer(cfg, params);
  const out: number[][] = [];
  for (let k = 0; k < steps; k++) {
    const r = step(cfg, state, params, grad(params), baseLr(cfg));
    if (E.isLeft(r)) throw new Error(formatOptimizerError(r.left));
    ({ params, state } = r.right);
    out.push([...(params['x']?.data ?? [])]);
  }
  return out;
};

/**
 * x after steps 1–3 on f above from x₀ = [1.5, −2], computed with Python floats by transcribing
 * torch's single-tensor update (`_single_tensor_adam` etc.) statement by statement. Step 1 of
 * Adam checks by hand: m̂ = g, v̂ = g², so x₁ = x₀ − lr·g/(|g| + ε) = 1.5 − 0.1·1.5/(1.5 + 1e-8)
 * = 1.4 + 6.67e-10, and −2 + 0.1·20/(20 + 1e-8) = −1.9 − 5e-11. SGD by hand: x − 0.05·a·x.
 */
const reference: Readonly<Record<string, readonly [OptimizerConfig, readonly (readonly number[])[]]>> = {
  adam: [{ kind: 'adam', lr: 0.1 },
    [[1.4000000006666666, -1.90000000005], [1.3002390629683902, -1.8001664857113877], [1.2009028715453671, -1.7006233914339461]]],
  adamL2: [{ kind: 'adam', lr: 0.1, weightDecay: 0.1 },
    [[1.4000000006060607, -1.900000000049505], [1.3002390628454612, -1.800166485710387], [1.2009028713585914, -1.70062339143243]]],
  adamw: [{ kind: 'adamw', lr: 0.1, weightDecay: 0.1 },
    [[1.3850000006666665, -1.88000000005], [1.2714369980702136, -1.7614089501813404], [1.1595201611023598, -1.6443686829514537]]],
  sgd: [{ kind: 'sgd', lr: 0.05 },
    [[1.425, -1.0], [1.35375, -0.5], [1.2860625, -0.25]]],
  sgdMomentum: [{ kind: 'sgd', lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 },
    [[1.42425, -0.9989999999999999], [1.2913428375, 0.3518995500000004], [1.113034859285625, 1.4091959927025004]]],
  sgdNesterov: [{ kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true },
    [[1.3575, -0.09999999999999987], [1.1677875, 0.8050000000000003], [0.9471939375, 0.8097500000000001]]],
  rmsprop: [{ kind: 'rmsprop' },
    [[1.4000000066666662, -1.9000000005], [1.3315851209971206, -1.830943326143927], [1.2768515051692546, -1.7753494420032538]]],
  rmspropCenteredMomentum: [{ kind: 'rmsprop', lr: 0.01, momentum: 0.5, centered: true, weightDecay: 0.1 },
    [[1.3994962245959028, -1.899496218974129], [1.2801524648094356, -1.7795002590723903], [1.166441996687749, -1.6641709067239019]]],
};

describe('optimizers', () => {
  for (const [name, [cfg, expected]] of Object.entries(reference))
    it(`${name}: three steps equal the torch-formula values bit for bit`, () => {
      assert.deepEqual(run(cfg, 3), expected);
    });

  it("Adam's first step moves every coordinate by lr·sign(g) (up to lr·ε/|g|)", () =>
    assertProperty(fc.property(
      fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: 1e-3, max: 1e3, noNaN: true }).chain((m) => fc.tuple(fc.constant(m), fc.boolean())),
      fc.double({ min: 1e-4, max: 1, noNaN: true }),
      (p, [mag, neg], lr) => {
        const g = neg ? -mag : mag;
        const cfg = { kind: 'adam', lr } as const;
        const params = param([p]);
        const r = step(cfg, initOptimizer(cfg, params), params, { x: { shape: [1], data: Float64Array.of(g) } }, lr);
        assert.ok(E.isRight(r));
        const moved = (r.right.params['x']?.data[0] as number) - p;
        assert.ok(Math.abs(moved + lr * Math.sign(g)) <= lr * (1e-8 / mag) + 4 * Number.EPSILON * Math.max(1, Math.abs(p)), `moved ${moved}`);
      }), { seed: 42, numRuns: 200 }));

  const configs: readonly OptimizerConfig[] = [
    { kind: 'sgd', lr: 0.05 }, { kind: 'sgd', lr: 0.02, momentum: 0.9 }, { kind: 'sgd', lr: 0.02, momentum: 0.9, nesterov: true },
    { kind: 'adam', lr: 0.05 }, { kind: 'adamw', lr: 0.05, weightDecay: 1e-3 }, { kind: 'rmsprop', lr: 0.01 },
    { kind: 'rmsprop', lr: 0.005, momentum: 0.5, centered: true },
  ];
  for (const cfg of configs)
    it(`${JSON.stringify(cfg)} converges on a convex quadratic`, () => {
      // f(x) = ½ Σ aᵢ (xᵢ − cᵢ)², condition number 10, 4 coordinates.
      const a = [1, 3, 6, 10], c = [1, -2, 0.5, 3];
      const grad = (p: ParamValues): ParamValues => {
        const x = p['x']?.data ?? new Float64Array(0);
        return { x: { shape: [4], data: x.map((v, i) => (a[i] as number) * (v - (c[i] as number))) } };
      };
      const xs = run(cfg, 3000, grad, [0, 0, 0, 0]);
      const last = xs[xs.length - 1] ?? [];
      last.forEach((v, i) => assert.ok(Math.abs(v - (c[i] as number)) < 2e-3, `x[${i}] = ${v}, want ${c[i]}`));
    });

  it('never mutates params, grads or state', () => {
    for (const cfg of configs) {
      const params: ParamValues = { w: { shape: [2, 2], data: Float64Array.of(1, -2, 3, -4) }, b: { shape: [], data: Float64Array.of(0.5) } };
      const grads: ParamValues = { w: { shape: [2, 2], data: Float64Array.of(0.1, 0.2, -0.3, 0.4) }, b: { shape: [], data: Float64Array.of(-1) } };
      let state = initOptimizer(cfg, params);
      const s1 = step(cfg, state, params, grads, 0.1);
      assert.ok(E.isRight(s1));
      state = s1.right.state;
      const snapshot = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x instanceof Float64Array ? [...x] : x));
      const before = snapshot({ params, grads, state });
      const r = step(cfg, state, params, grads, 0.1);
      assert.ok(E.isRight(r));
      assert.equal(snapshot({ params, grads, state }), before, JSON.stringify(cfg));
      assert.notEqual(r.right.params['w']?.data, params['w']?.data);
      assert.deepEqual(r.right.params['w']?.shape, [2, 2]);
      assert.equal(r.right.state.step, 2);
    }
  });

  it('fills in PyTorch defaults', () => {
    assert.deepEqual(resolveOptimizer({ kind: 'adam' }), E.right({ kind: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }));
    assert.deepEqual(resolveOptimizer({ kind: 'adamw' }), E.right({ kind: 'adamw', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 }));
    assert.deepEqual(resolveOptimizer({ kind: 'rmsprop' }), E.right({ kind: 'rmsprop', lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false }));
    assert.deepEqual(resolveOptimizer({ kind: 'sgd' }), E.right({ kind: 'sgd', lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 }));
    assert.equal(baseLr({ kind: 'rmsprop' }), 1e-2);
  });

  it('reports expected failures as values', () => {
    const cfg = { kind: 'adam' } as const;
    const p = param([1, 2]);
    const s = initOptimizer(cfg, p);
    const fail = (r: E.Either<OptimizerError, unknown>): string => {
      assert.ok(E.isLeft(r));
      return formatOptimizerError(r.left);
    };
    assert.match(fail(step(cfg, s, p, {}, 0.1)), /no gradient for parameter "x"/);
    assert.match(fail(step(cfg, s, p, { x: { shape: [2], data: Float64Array.of(1, 2) }, y: { shape: [], data: Float64Array.of(1) } }, 0.1)), /"y", which is not a parameter/);
    assert.match(fail(step(cfg, s, p, param([1]), 0.1)), /gradient of "x" has 1 values, the parameter has 2/);
    assert.match(fail(step({ kind: 'sgd' }, s, p, p, 0.1)), /config is 'sgd' but its state was made for 'adam'/);
    assert.match(fail(step({ kind: 'adam', betas: [1, 0.999] }, s, p, p, 0.1)), /invalid betas\[0\] 1/);
    assert.match(fail(step(cfg, s, p, p, -1)), /invalid lr -1/);
    assert.match(fail(step({ kind: 'sgd', nesterov: true }, initOptimizer({ kind: 'sgd' }, p), p, p, 0.1)), /Nesterov/);
    const noMomentum = initOptimizer({ kind: 'sgd' }, p);
    assert.match(fail(step({ kind: 'sgd', momentum: 0.9 }, noMomentum, p, p, 0.1)), /no momentumBuffer for "x"/);
  });

  it('stateIssues checks buffers against parameters', () => {
    const p = param([1, 2]);
    assert.deepEqual(stateIssues(initOptimizer({ kind: 'rmsprop', centered: true }, p), p), []);
    const s: OptState = { kind: 'adam', step: 1, expAvg: { x: new Float64Array(3), z: new Float64Array(1) }, expAvgSq: {} };
    assert.deepEqual(stateIssues(s, p).map((i) => `${i.path}: ${i.message}`), [
      'expAvg.x: has 3 values, parameter "x" has 2',
      'expAvg.z: buffer for "z", which is not a parameter',
      'expAvgSq: no buffer for parameter "x"',
    ]);
  });
});
