/**
 * Gradient methods for training, behind the trainer's `GradientFn`: the adjoint (backsolve) or
 * backprop through the solver, on the Float64 path with generated kernels.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import { compileGradient, type GradientMethod } from '../adjoint/gradient.ts';
import type { GradientFn } from './trainer.ts';
import type { TrainError } from './trainError.ts';

/** Which gradient to train with, and its solver settings. */
export type GradientConfig = GradientMethod;

/**
 * A `GradientFn` for a model's loss on window batches.
 * @example gradientFn(model, { kind: 'adjoint', forward: { method: dopri5, rtol: 1e-7, atol: 1e-9 } })
 */
export const gradientFn = (model: Model, config: GradientConfig): E.Either<TrainError, GradientFn> => {
  const g = compileGradient(model, config);
  if (E.isLeft(g)) return E.left(g.left._tag === 'Model' ? { _tag: 'Model', message: g.left.message } : { _tag: 'SolveFailed', iteration: 0, phase: g.left.phase, error: g.left.error });
  const fn: GradientFn = (params, batch) => {
    const r = g.right(params, batch.z0, batch.ts, batch.target);
    if (E.isLeft(r)) {
      const e = r.left;
      return E.left(e._tag === 'Model' ? { _tag: 'Model', message: e.message } : { _tag: 'SolveFailed', iteration: 0, phase: e.phase, error: e.error });
    }
    return E.right({ loss: r.right.loss, grads: r.right.dparams, nfeForward: r.right.stats.nfeForward, nfeBackward: r.right.stats.nfeBackward });
  };
  return E.right(fn);
};
