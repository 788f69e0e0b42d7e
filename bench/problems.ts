/**
 * The benchmark problems of `../shared/bench/` (the ones torchdiffeq, JAX and diffrax were timed
 * on), read at run time and turned into Fluxion's layout: weights given as (out, in) become our
 * `[in, out]` by transposition; the spiral's iterations are windows of the true trajectory.
 * Only the benchmarks read the shared folder.
 */
import { readFileSync } from 'node:fs';
import * as X from '../src/dsl/expr.ts';
import { linearNamed } from '../src/dsl/layers.ts';
import { dynamics, loss, model, type Model } from '../src/dsl/model.ts';
import type { ParamValues } from '../src/dsl/params.ts';
import { sym } from '../src/dsl/shape.ts';
import type { F64Tensor } from '../src/interp/tensor.ts';

const sharedFile = (name: string): URL => new URL(`../../shared/bench/${name}`, import.meta.url);

type Matrix = readonly (readonly number[])[];

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isVector = (x: unknown): x is readonly number[] => Array.isArray(x) && x.every(isNumber);
const isMatrix = (x: unknown): x is Matrix => Array.isArray(x) && x.length > 0 && x.every(isVector);

/** Reads one field of a JSON object with a check; a malformed shared file is a hard error. */
const field = <T>(o: unknown, key: string, ok: (x: unknown) => x is T, what: string): T => {
  const v = typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined;
  if (!ok(v)) throw new Error(`bench: ${key} in the shared problem is not ${what}`);
  return v;
};
const isObject = (x: unknown): x is object => typeof x === 'object' && x !== null;

/** (out, in) rows → our row-major `[in, out]`. */
export const transposed = (w: Matrix): F64Tensor => {
  const out = w.length, inn = (w[0] as readonly number[]).length;
  const data = new Float64Array(inn * out);
  for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) data[i * out + o] = (w[o] as readonly number[])[i] as number;
  return { shape: [inn, out], data };
};
const vector = (v: readonly number[]): F64Tensor => ({ shape: [v.length], data: Float64Array.from(v) });
const rows = (m: Matrix): F64Tensor => ({ shape: [m.length, (m[0] as readonly number[]).length], data: Float64Array.from(m.flat()) });

/** torchdiffeq's MLP weights in our layout: W1 `[2,H]`, b1 `[H]`, W2 `[H,2]`, b2 `[2]`. */
const mlpWeights = (w: unknown): ParamValues => ({
  W1: transposed(field(w, 'W1', isMatrix, 'a matrix')),
  b1: vector(field(w, 'b1', isVector, 'a vector')),
  W2: transposed(field(w, 'W2', isMatrix, 'a matrix')),
  b2: vector(field(w, 'b2', isVector, 'a vector')),
});

/** One spiral iteration's data: 20 windows of 10 points. */
export interface SpiralBatch {
  readonly z0: F64Tensor;
  /** `[10, 20, 2]`: target[i][b] = true_y[s_b + i]. */
  readonly target: F64Tensor;
}

/** The spiral problem of `spiral.json`. */
export interface SpiralProblem {
  readonly ts: readonly number[];
  readonly rtol: number;
  readonly atol: number;
  readonly weights: { readonly initial: ParamValues; readonly trained: ParamValues };
  readonly batches: readonly SpiralBatch[];
  readonly trueY: Matrix;
}

/**
 * Reads `spiral.json`: the windows of every batch, t[0:batch_time], tolerances, both weight sets.
 * @example const p = loadSpiral(); p.batches.length // 50
 */
export const loadSpiral = (): SpiralProblem => {
  const j: unknown = JSON.parse(readFileSync(sharedFile('spiral.json'), 'utf8'));
  const t = field(j, 't', isVector, 'a vector');
  const trueY = field(j, 'true_y', isMatrix, 'a matrix');
  const T = field(j, 'batch_time', isNumber, 'a number');
  const bs = field(j, 'batches', isMatrix, 'a list of index lists');
  const w = field(j, 'weights', isObject, 'an object');
  const batches = bs.map((s): SpiralBatch => {
    const B = s.length;
    const z0 = new Float64Array(B * 2), target = new Float64Array(T * B * 2);
    s.forEach((start, b) => {
      const r0 = trueY[start];
      if (r0 === undefined || trueY[start + T - 1] === undefined) throw new Error(`bench: window ${start} leaves true_y`);
      z0.set(r0, 2 * b);
      for (let i = 0; i < T; i++) target.set(trueY[start + i] as readonly number[], (i * B + b) * 2);
    });
    return { z0: { shape: [B, 2], data: z0 }, target: { shape: [T, B, 2], data: target } };
  });
  return {
    ts: t.slice(0, T),
    rtol: field(j, 'rtol', isNumber, 'a number'),
    atol: field(j, 'atol', isNumber, 'a number'),
    weights: { initial: mlpWeights(field(w, 'init', isObject, 'an object')), trained: mlpWeights(field(w, 'trained', isObject, 'an object')) },
    batches,
    trueY,
  };
};

/** The scale problem of `scale.json`. */
export interface ScaleProblem {
  readonly t0: number;
  readonly t1: number;
  readonly rtol: number;
  readonly atol: number;
  readonly weights: ParamValues;
  readonly hidden: number;
  /** y0 by batch size. */
  readonly y0: ReadonlyMap<number, F64Tensor>;
}

/**
 * Reads `scale.json`.
 * @example loadScale().y0.get(4096)?.shape // [4096, 2]
 */
export const loadScale = (): ScaleProblem => {
  const j: unknown = JSON.parse(readFileSync(sharedFile('scale.json'), 'utf8'));
  const t = field(j, 't', isVector, 'a vector');
  const ys = field(j, 'y0', isObject, 'an object') as Record<string, unknown>;
  const y0 = new Map<number, F64Tensor>();
  for (const k of Object.keys(ys)) y0.set(Number(k), rows(field(ys, k, isMatrix, 'a matrix')));
  const weights = mlpWeights(field(j, 'weights', isObject, 'an object'));
  return {
    t0: t[0] as number, t1: t[t.length - 1] as number,
    rtol: field(j, 'rtol', isNumber, 'a number'), atol: field(j, 'atol', isNumber, 'a number'),
    weights, hidden: (weights['b1'] as F64Tensor).shape[0] as number, y0,
  };
};

/**
 * The scale model, built with the DSL: f = tanh((y∘y∘y) W1 + b1) W2 + b2 with `hidden` units, and
 * the loss sum(y(1)²) on the prediction `[2, batch, 2]` at t ∈ {t0, t1} (its second slice).
 * @example scaleModel(64).loss?.inputs.length // 0
 */
export const scaleModel = (hidden: number, values: ParamValues): Model => {
  const batch = sym('batch');
  const y = X.state('y', [batch, 2]);
  const l1 = linearNamed('W1', 'b1', 2, hidden);
  const l2 = linearNamed('W2', 'b2', hidden, 2);
  const f = l2.apply(X.tanh(l1.apply(X.mul(X.mul(y, y), y))));
  const yhat = X.input('yhat', [2, batch, 2]);
  const y1 = X.slice(yhat, [1, 0, 0], [1, batch, 2]);
  return model({
    name: 'scale',
    dynamics: dynamics({ state: y, time: X.time('t'), params: [...l1.params, ...l2.params], f }),
    loss: loss({ prediction: yhat, value: X.sum(X.square(y1)) }),
    values,
  });
};
