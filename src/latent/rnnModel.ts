/**
 * The RNN baseline's training objective and its gradient: the baseline's loss is an expression
 * (teacher-forced one-step Gaussian NLL), so its gradient is one symbolic reverse sweep, compiled
 * once into a float64 kernel together with the loss value.
 */
import * as E from 'fp-ts/lib/Either.js';
import { grad } from '../adjoint/vjp.ts';
import { initParams, type ParamValues } from '../dsl/params.ts';
import { kernelEvaluator, type F64Program } from '../interp/evaluator.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { rnnBaseline, rnnEnv, type RnnBaseline, type RnnOptions } from './rnn.ts';
import { observationsOf, type SpiralSet } from './spirals.ts';

/** The baseline for training (no extrapolation) with its compiled loss-and-gradient program. */
export interface RnnTrainable {
  readonly rnn: RnnBaseline;
  /** `[nll, ∂nll/∂θ…]` in `rnn.params` order. */
  readonly lossAndGrad: F64Program;
}

/**
 * Builds the training form of the baseline (`extrapolate` is forced to 0).
 * @example const r = rnnTrainable({ steps: 30, obsStd: 0.1 }); r.rnn.params.length // 6
 * @throws RangeError when a size is out of range (see `rnnBaseline`)
 */
export const rnnTrainable = (o: RnnOptions): RnnTrainable => {
  const rnn = rnnBaseline({ ...o, extrapolate: 0 });
  const gs = grad(rnn.nll.node, rnn.params.map((p) => p.expr.node));
  return { rnn, lossAndGrad: kernelEvaluator([rnn.nll.node, ...gs]) };
};

/**
 * Initial parameters of the baseline from `seed`.
 * @example initRnnParams(rnnTrainable({ steps: 30, obsStd: 0.1 }), 0).rnn_out_b.shape // [2]
 */
export const initRnnParams = (r: RnnTrainable, seed: number): ParamValues => initParams(r.rnn.params, seed);

/**
 * The baseline's loss on the trajectories `rows` and its gradient.
 * @example rnnStep(r, params, data.train, [0, 1, 2]) // right({ loss: 812.3, grads: { rnn_gru_Wi: … } })
 */
export const rnnStep = (
  r: RnnTrainable, params: ParamValues, set: SpiralSet, rows: readonly number[],
): E.Either<string, { readonly loss: number; readonly grads: ParamValues }> => {
  const out = r.lossAndGrad({ ...params, ...rnnEnv(r.rnn, observationsOf(set, rows)) });
  if (E.isLeft(out)) return E.left(`rnn loss: ${out.left}`);
  const [nll, ...gs] = out.right;
  const grads = Object.fromEntries(r.rnn.params.map((p, i) => [p.name, gs[i] as F64Tensor]));
  return E.right({ loss: (nll as F64Tensor).data[0] as number, grads });
};
