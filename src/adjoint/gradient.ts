/**
 * One entry point for every gradient method on the Float64 path, chosen by a typed config:
 * `adjoint` (backsolve, O(1) memory in the number of steps) or `backprop` (discretise-then-
 * optimise, exact for the discrete solution, memory linear in steps, optional checkpointing).
 * Both return ∂L/∂z₀, ∂L/∂θ, ∂L/∂tᵢ, the loss and forward/backward evaluation counts.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import type { F64Evaluator } from '../interp/evaluator.ts';
import { compileAdjointGradient, type AdjointGradientFn, type GradientError, type SolveSettings } from './backsolveF64.ts';
import { compileBackpropGradient } from './backpropF64.ts';
import { formatSolveError } from '../solvers/index.ts';

/** A gradient method and its own options. */
export type GradientMethod =
  | { readonly kind: 'adjoint'; readonly forward: SolveSettings; readonly backward?: SolveSettings; readonly seminorm?: boolean }
  | { readonly kind: 'backprop'; readonly solver: SolveSettings; readonly checkpointEvery?: number };

/**
 * Compiles the gradient of a model's loss by the chosen method.
 * @example
 * const g = compileGradient(spiralModel(), { kind: 'backprop', solver: { method: dopri5, rtol: 1e-7, atol: 1e-9 } });
 * if (E.isRight(g)) g.right(values, z0, ts, target) // right({ loss, dz0, dparams, dts, stats })
 */
export const compileGradient = (m: Model, method: GradientMethod, evaluator?: F64Evaluator): E.Either<GradientError, AdjointGradientFn> => {
  const ev = evaluator === undefined ? {} : { evaluator };
  switch (method.kind) {
    case 'adjoint':
      return compileAdjointGradient(m, {
        forward: method.forward, ...ev,
        ...(method.backward === undefined ? {} : { backward: method.backward }),
        ...(method.seminorm === undefined ? {} : { seminorm: method.seminorm }),
      });
    case 'backprop':
      return compileBackpropGradient(m, { solver: method.solver, ...ev, ...(method.checkpointEvery === undefined ? {} : { checkpointEvery: method.checkpointEvery }) });
  }
};

/** One line for a gradient failure. @example formatGradientError({ _tag: 'Model', message: 'no loss' }) // 'no loss' */
export const formatGradientError = (e: GradientError): string =>
  e._tag === 'Model' ? e.message : `the ${e.phase} solve failed: ${formatSolveError(e.error)}`;
