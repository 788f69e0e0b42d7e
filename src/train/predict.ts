/**
 * Forward prediction with given parameters: solve the model's dynamics from initial states over
 * observation times, stack the states as `[T, B, ...row]`, and evaluate the model's loss on it.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import type { ParamValues } from '../dsl/params.ts';
import { compileF64Dynamics } from '../ode/f64Dynamics.ts';
import { kernelEvaluator } from '../interp/evaluator.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { f64Space, integrate, type Method } from '../solvers/index.ts';
import type { TrainError } from './trainError.ts';

/** Solver settings used for prediction and training. */
export interface SolverSettings {
  readonly method: Method;
  readonly rtol: number;
  readonly atol: number;
  readonly maxSteps?: number;
}

/** A predicted trajectory and its cost. */
export interface Prediction {
  /** `[T, B, ...row]`. */
  readonly trajectory: F64Tensor;
  readonly nfe: number;
}

/**
 * Solves from `z0` (`[B, ...row]`) and returns the states at `ts`.
 * @example predict(model, model.values, z0, [0, 0.1, 0.2], { method: dopri5, rtol: 1e-7, atol: 1e-9 })
 */
export const predict = (
  model: Model, params: ParamValues, z0: F64Tensor, ts: readonly number[], solver: SolverSettings,
): E.Either<TrainError, Prediction> => {
  const dyn = compileF64Dynamics(model.dynamics, params);
  if (E.isLeft(dyn)) return E.left({ _tag: 'Model', message: dyn.left });
  const b = z0.shape[0] as number;
  const d = z0.data.length / Math.max(1, b);
  const r = integrate(f64Space, dyn.right.f, { data: z0.data, batch: b, dim: d }, {
    method: solver.method, ts, rtol: solver.rtol, atol: solver.atol,
    ...(solver.maxSteps === undefined ? {} : { maxSteps: solver.maxSteps }),
  });
  if (E.isLeft(r)) return E.left({ _tag: 'SolveFailed', iteration: 0, phase: 'evaluation', error: r.left });
  const out = new Float64Array(ts.length * b * d);
  r.right.ys.forEach((y, k) => out.set(y.data, k * b * d));
  return E.right({ trajectory: { shape: [ts.length, ...z0.shape], data: out }, nfe: r.right.stats.nfe });
};

/**
 * The model's loss on a predicted trajectory; the loss's single other input gets `target`.
 * @example lossOn(model, params, prediction.trajectory, target) // right(0.0123)
 */
export const lossOn = (model: Model, params: ParamValues, trajectory: F64Tensor, target: F64Tensor): E.Either<TrainError, number> => {
  const loss = model.loss;
  if (loss === undefined) return E.left({ _tag: 'Model', message: `model ${model.name} has no loss` });
  const pred = loss.prediction.node;
  const targets = loss.inputs;
  if (pred.kind !== 'var') return E.left({ _tag: 'Model', message: 'loss: the prediction must be a variable' });
  const [tv, ...more] = targets;
  if (tv === undefined || more.length > 0)
    return E.left({ _tag: 'Model', message: `loss: expected exactly one data input besides the prediction, found ${targets.map((v) => v.name).join(', ') || 'none'}` });
  const r = kernelEvaluator([loss.value.node])({ ...params, [pred.name]: trajectory, [tv.name]: target });
  if (E.isLeft(r)) return E.left({ _tag: 'Model', message: `loss: ${r.left}` });
  return E.right((r.right[0] as F64Tensor).data[0] as number);
};
