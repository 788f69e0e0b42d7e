/**
 * The loss side of every gradient method: the loss value and ∂L/∂(prediction), derived
 * symbolically from the model's loss expression and compiled once.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import type { NodeOf } from '../dsl/node.ts';
import type { ParamValues } from '../dsl/params.ts';
import { grad } from './vjp.ts';
import { kernelEvaluator, type F64Evaluator } from '../interp/evaluator.ts';
import type { F64Tensor } from '../interp/tensor.ts';

/** Loss value and its gradient w.r.t. the prediction `[T, B, ...row]` (same layout). */
export type LossGradientFn = (params: ParamValues, prediction: F64Tensor, target: F64Tensor) => E.Either<string, { readonly loss: number; readonly dPrediction: Float64Array }>;

/**
 * Compiles `L` and `∂L/∂prediction` of a model whose loss reads the prediction and one data input.
 * @example const lg = compileLossGradient(spiralModel()); lg.right(params, pred, target)
 */
export const compileLossGradient = (m: Model, evaluator: F64Evaluator = kernelEvaluator): E.Either<string, LossGradientFn> => {
  const loss = m.loss;
  if (loss === undefined) return E.left(`model ${m.name} has no loss`);
  const pred = loss.prediction.node;
  if (pred.kind !== 'var') return E.left('loss: the prediction must be a variable');
  const [targetVar, ...more] = loss.inputs as readonly NodeOf<'var'>[];
  if (targetVar === undefined || more.length > 0)
    return E.left(`loss: expected exactly one data input besides the prediction, found ${loss.inputs.map((v) => v.name).join(', ') || 'none'}`);
  const [dPred] = grad(loss.value.node, [pred]);
  if (dPred === undefined) return E.left('loss: no gradient');
  const prog = evaluator([loss.value.node, dPred]);
  return E.right((params, prediction, target) => {
    const r = prog({ ...params, [pred.name]: prediction, [targetVar.name]: target });
    if (E.isLeft(r)) return E.left(`loss: ${r.left}`);
    return E.right({ loss: (r.right[0] as F64Tensor).data[0] as number, dPrediction: (r.right[1] as F64Tensor).data });
  });
};
