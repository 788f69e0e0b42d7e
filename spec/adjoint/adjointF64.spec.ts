/**
 * The float64 adjoint of the gradient API (`adjointF64.ts`, the allocation-free path): finite
 * differences, bit-for-bit agreement with the reference evaluator, plan reuse across sizes, and
 * bad inputs as values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { linearNamed } from '../../src/dsl/layers.ts';
import { dynamics, loss, model, type Model } from '../../src/dsl/model.ts';
import type { ParamValues } from '../../src/dsl/params.ts';
import { sym } from '../../src/dsl/shape.ts';
import { lossValue, prepareGradient, type AdjointConfig, type GradientData, type GradientResult, type SolverOptions } from '../../src/adjoint/gradients/index.ts';
import { referenceEvaluator } from '../../src/interp/evaluator.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { spiralModel } from '../../src/models/spiral.ts';
import { dopri5, dopri8, tsit5 } from '../../src/solvers/index.ts';
import { fd4, moveAt, moveParam, near } from './gradients-fixtures.ts';

const B = sym('batch'), O = sym('obs');

/** f = tanh([z | t] W1 + b1) W2 + b2 reads t; the loss is mean (ẑ − y)². */
const timeModel = (): Model => {
  const z = X.state('z', [B, 2]), t = X.time('t');
  const l1 = linearNamed('W1', 'b1', 3, 4), l2 = linearNamed('W2', 'b2', 4, 2);
  const input = X.withShape(X.concat([z, X.broadcastTo(X.reshape(t, [1, 1]), [B, 1])], 1), [B, 3]);
  const yhat = X.input('yhat', [O, B, 2]), ytrue = X.input('ytrue', [O, B, 2]);
  return model({
    name: 'time', seed: 3,
    dynamics: dynamics({ state: z, time: t, params: [...l1.params, ...l2.params], f: l2.apply(X.tanh(l1.apply(input))) }),
    loss: loss({ prediction: yhat, value: X.mean(X.square(X.sub(yhat, ytrue))) }),
  });
};

/** Σ y(t₁)² with no data input (the scale benchmark's loss). */
const sumSquares = (): Model => {
  const z = X.state('y', [B, 2]);
  const l1 = linearNamed('W1', 'b1', 2, 5), l2 = linearNamed('W2', 'b2', 5, 2);
  const yhat = X.input('yhat', [2, B, 2]);
  return model({
    name: 'sum-squares', seed: 5,
    dynamics: dynamics({ state: z, params: [...l1.params, ...l2.params], f: l2.apply(X.tanh(l1.apply(X.mul(X.mul(z, z), z)))) }),
    loss: loss({ prediction: yhat, value: X.sum(X.square(X.slice(yhat, [1, 0, 0], [1, B, 2]))) }),
  });
};

const z0: F64Tensor = { shape: [3, 2], data: Float64Array.of(2, 0, 0.5, -1.2, -1, 0.3) };
const target = (T: number): F64Tensor => ({ shape: [T, 3, 2], data: Float64Array.from({ length: T * 6 }, (_, i) => Math.sin(i) * 1.5) });
const empty: F64Tensor = { shape: [0], data: new Float64Array(0) };
const tight = { method: dopri5, rtol: 1e-11, atol: 1e-13 } as const;

/** Settings of one run: the API config plus the forward solver. */
interface Opts {
  readonly cfg: AdjointConfig;
  readonly solver: SolverOptions;
}

const dataOf = (m: Model, params: ParamValues, z: F64Tensor, ts: readonly number[], tgt: F64Tensor, solver: SolverOptions): GradientData => {
  const input = (m.loss as NonNullable<Model['loss']>).inputs[0];
  return { params, z0: z, ts, lossInputs: input === undefined ? {} : { [input.name]: tgt }, solver };
};

const prepared = (m: Model, cfg: AdjointConfig) => {
  const g = prepareGradient({ dynamics: m.dynamics, loss: m.loss as NonNullable<Model['loss']> }, cfg);
  if (E.isLeft(g)) throw new Error(JSON.stringify(g.left));
  return g.right;
};

const grad = (m: Model, o: Opts, params: ParamValues, ts: readonly number[], tgt: F64Tensor): GradientResult => {
  const r = prepared(m, o.cfg)(dataOf(m, params, z0, ts, tgt, o.solver));
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  return r.right;
};

/** Every gradient against 4-point central differences of the loss solved at a tight tolerance. */
const checkFd = (m: Model, o: Opts, ts: readonly number[], tgt: F64Tensor | undefined, rtol: number): void => {
  const r = grad(m, o, m.values, ts, tgt ?? empty);
  const lossM = m.loss as NonNullable<Model['loss']>;
  const L = (params: ParamValues, z: F64Tensor, tt: readonly number[]): number => {
    const v = lossValue({ dynamics: m.dynamics, loss: lossM, params, z0: z, ts: tt, lossInputs: tgt === undefined ? {} : { ytrue: tgt }, solver: tight });
    if (E.isLeft(v)) throw new Error(JSON.stringify(v.left));
    return v.right;
  };
  const h = 1e-4;
  near(r.loss, L(m.values, z0, ts), 1e-7, 1e-10, `${m.name} loss`);
  for (const [name, t] of Object.entries(m.values)) {
    for (const i of [0, t.data.length - 1]) {
      const fd = fd4((s) => L(moveParam(m.values, name, i, s), z0, ts), h);
      near((r.dparams[name] as F64Tensor).data[i] as number, fd, rtol, 1e-7, `${m.name} d${name}[${i}]`);
    }
  }
  for (let i = 0; i < z0.data.length; i++) near(r.dz0.data[i] as number, fd4((s) => L(m.values, moveAt(z0, i, s), ts), h), rtol, 1e-7, `${m.name} dz0[${i}]`);
  ts.forEach((_, i) => near(r.dts[i] as number, fd4((s) => L(m.values, z0, ts.map((v, q) => (q === i ? v + s : v))), h), rtol, 1e-7, `${m.name} dts[${i}]`));
};

test('the float64 adjoint matches finite differences: spiral, time-dependent, no data input, increasing and decreasing times', () => {
  const o: Opts = { cfg: { method: 'adjoint', seminorm: true }, solver: { method: dopri5, rtol: 1e-10, atol: 1e-12 } };
  checkFd(spiralModel(), o, [0, 0.2, 0.45, 0.6], target(4), 1e-5);
  checkFd(timeModel(), o, [0.1, 0.4, 0.5], target(3), 1e-5);
  checkFd(timeModel(), { ...o, cfg: { method: 'adjoint', seminorm: false, restartSteps: true } }, [1.2, 0.7, 0.3], target(3), 1e-5);
  checkFd(sumSquares(), o, [0, 0.8], undefined, 1e-5);
  checkFd(timeModel(), { cfg: { method: 'adjoint', backward: { method: tsit5, rtol: 1e-10, atol: 1e-12 } }, solver: { method: dopri8, rtol: 1e-10, atol: 1e-12 } }, [0, 0.3, 0.5], target(3), 1e-5);
});

test('the kernel path and the reference evaluator give the same gradient bit for bit', () => {
  for (const [m, ts] of [[spiralModel(), [0, 0.1, 0.25, 0.3]], [timeModel(), [0.5, 0.2, 0]]] as const) {
    for (const seminorm of [true, false]) {
      const solver = { method: dopri5, rtol: 1e-7, atol: 1e-9 };
      const a = grad(m, { cfg: { method: 'adjoint', seminorm, on: { backend: 'float64', placement: 'kernel' } }, solver }, m.values, ts, target(ts.length));
      const b = grad(m, { cfg: { method: 'adjoint', seminorm, on: { backend: 'float64', evaluator: referenceEvaluator } }, solver }, m.values, ts, target(ts.length));
      assert.deepEqual(a, b, `${m.name} seminorm ${seminorm}`);
    }
  }
});

test('one prepared gradient serves several batch sizes, observation counts and parameter values', () => {
  const m = spiralModel();
  const cfg: AdjointConfig = { method: 'adjoint', seminorm: true };
  const solver = { method: dopri5, rtol: 1e-7, atol: 1e-9 };
  const g = prepared(m, cfg);
  const moved = moveParam(m.values, 'W1', 3, 0.3);
  const z1: F64Tensor = { shape: [1, 2], data: Float64Array.of(1, 1) };
  const t1: F64Tensor = { shape: [2, 1, 2], data: Float64Array.of(1, 1, 0.5, 0.7) };
  const calls: [ParamValues, F64Tensor, readonly number[], F64Tensor][] = [
    [m.values, z0, [0, 0.1, 0.2], target(3)], [moved, z0, [0, 0.1, 0.2], target(3)], [m.values, z1, [0, 0.3], t1], [m.values, z0, [0, 0.1, 0.2, 0.3], target(4)],
    [m.values, z0, [0, 0.1, 0.2], target(3)],
  ];
  for (const [p, z, ts, tgt] of calls) assert.deepEqual(g(dataOf(m, p, z, ts, tgt, solver)), prepared(m, cfg)(dataOf(m, p, z, ts, tgt, solver)));
  // Methods alternate on one plan (workspaces are per tableau, held weakly by it).
  const other = { method: tsit5, rtol: 1e-7, atol: 1e-9 };
  for (const sv of [other, solver, other, { ...solver, method: dopri8 }, solver])
    assert.deepEqual(g(dataOf(m, m.values, z0, [0, 0.1, 0.2], target(3), sv)), prepared(m, cfg)(dataOf(m, m.values, z0, [0, 0.1, 0.2], target(3), sv)));
});

test('bad inputs are values, not exceptions', () => {
  const m = spiralModel();
  const solver = { method: dopri5, rtol: 1e-7, atol: 1e-9 };
  const g = prepared(m, { method: 'adjoint' });
  const { W1: _, ...noW1 } = m.values;
  const bad = (r: ReturnType<typeof g>, re: RegExp) => {
    assert.ok(E.isLeft(r));
    assert.match(JSON.stringify(r.left), re);
  };
  bad(g(dataOf(m, noW1, z0, [0, 0.1], target(2), solver)), /no value for parameter W1/);
  bad(g(dataOf(m, { ...m.values, W1: { shape: [50, 2], data: new Float64Array(100) } }, z0, [0, 0.1], target(2), solver)), /W1 has values of shape \[50,2\]/);
  bad(g(dataOf(m, { ...m.values, W1: { shape: m.values.W1?.shape ?? [], data: new Float64Array(1) } }, z0, [0, 0.1], target(2), solver)), /W1 has 1 values/);
  bad(g(dataOf(m, m.values, z0, [0, 0.1], target(3), solver)), /loss/);
  const r = g(dataOf(m, m.values, z0, [0, 5], target(2), { ...solver, maxSteps: 2 }));
  assert.ok(E.isLeft(r) && r.left._tag === 'SolveFailed' && r.left.phase === 'forward' && r.left.error._tag === 'MaxStepsReached');
  const rb = prepared(m, { method: 'adjoint', backward: { ...solver, maxSteps: 2 } })(dataOf(m, m.values, z0, [0, 5], target(2), solver));
  assert.ok(E.isLeft(rb) && rb.left._tag === 'SolveFailed' && rb.left.phase === 'backward' && rb.left.error._tag === 'MaxStepsReached' && rb.left.error.t < 5);
});
