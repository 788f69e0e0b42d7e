/**
 * Gradient methods for training, behind the trainer's `GradientFn`: any method of
 * `src/adjoint/gradients` (adjoint or backprop on float64 or tfjs, or tfjs-autodiff), applied to
 * window batches whose target is the loss's one data input.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import { formatGradientError, prepareGradient, type GradientConfig, type SolverOptions } from '../adjoint/gradients/index.ts';
import type { GradientFn } from './trainer.ts';
import type { TrainError } from './trainError.ts';

/** Which gradient to train with (a method of `src/adjoint/gradients`) and the forward solver. */
export interface TrainGradient {
  readonly config: GradientConfig;
  readonly solver: SolverOptions;
}

/**
 * A `GradientFn` for a model's loss on window batches.
 * @example gradientFn(model, { config: { method: 'adjoint', seminorm: true }, solver: { method: dopri5, rtol: 1e-7, atol: 1e-9 } })
 */
export const gradientFn = (model: Model, g: TrainGradient): E.Either<TrainError, GradientFn> => {
  const loss = model.loss;
  if (loss === undefined) return E.left({ _tag: 'Model', message: `model ${model.name} has no loss to train` });
  const [target, ...more] = loss.inputs;
  if (target === undefined || more.length > 0)
    return E.left({ _tag: 'Model', message: `loss: training on trajectory windows needs exactly one data input besides the prediction, found ${loss.inputs.map((v) => v.name).join(', ') || 'none'}` });
  const prepared = prepareGradient({ dynamics: model.dynamics, loss }, g.config);
  if (E.isLeft(prepared)) return E.left({ _tag: 'Model', message: formatGradientError(prepared.left) });
  const fn: GradientFn = (params, batch) => {
    const r = prepared.right({ params, z0: batch.z0, ts: batch.ts, lossInputs: { [target.name]: batch.target }, solver: g.solver });
    if (E.isLeft(r)) {
      const e = r.left;
      return E.left(e._tag === 'SolveFailed' ? { _tag: 'SolveFailed', iteration: 0, phase: e.phase, error: e.error } : { _tag: 'Model', message: formatGradientError(e) });
    }
    return E.right({ loss: r.right.loss, grads: r.right.dparams, nfeForward: r.right.stats.nfeForward, nfeBackward: r.right.stats.nfeBackward });
  };
  return E.right(fn);
};
