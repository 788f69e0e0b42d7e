/** Why training stopped, as values, and the one-line messages users read. */
import { formatSolveError, type SolveError } from '../solvers/index.ts';

/** A training failure; solve failures keep the solver's error (time t, which failure). */
export type TrainError =
  | { readonly _tag: 'SolveFailed'; readonly iteration: number; readonly phase: 'forward' | 'backward' | 'evaluation'; readonly error: SolveError }
  | { readonly _tag: 'NonFiniteLoss'; readonly iteration: number; readonly loss: number }
  | { readonly _tag: 'NonFiniteGradient'; readonly iteration: number; readonly norm: number }
  | { readonly _tag: 'Optimizer'; readonly iteration: number; readonly message: string }
  | { readonly _tag: 'InvalidOptions'; readonly option: string; readonly reason: string }
  | { readonly _tag: 'Model'; readonly message: string };

/**
 * One line for a training failure.
 * @example formatTrainError({ _tag: 'NonFiniteLoss', iteration: 12, loss: NaN }) // 'iteration 12: the loss is NaN; …'
 */
export const formatTrainError = (e: TrainError): string => {
  switch (e._tag) {
    case 'SolveFailed':
      return `iteration ${e.iteration}: the ${e.phase} solve failed: ${formatSolveError(e.error)}`;
    case 'NonFiniteLoss':
      return `iteration ${e.iteration}: the loss is ${e.loss}; lower the learning rate or clip gradients (--clip)`;
    case 'NonFiniteGradient':
      return `iteration ${e.iteration}: the gradient norm is ${e.norm}; lower the learning rate or clip gradients (--clip)`;
    case 'Optimizer':
      return `iteration ${e.iteration}: optimizer: ${e.message}`;
    case 'InvalidOptions':
      return `${e.option}: ${e.reason}`;
    case 'Model':
      return e.message;
  }
};
