/**
 * The latent ODE of Chen et al. 2018 (§5) and its RNN baseline, as expression builders, with the
 * paper's spiral data, training (the negative ELBO's gradient composed from the encoder's VJP,
 * the reparameterisation and the adjoint) and the paper's evaluation (predictive RMSE).
 * @example
 * import { spirals, encoder, sampleZ0, decoder, elbo, elboVariables } from './latent/index.ts';
 * const [data] = spirals({ observed: 30 }, seedRng(0));
 * const enc = encoder({ steps: 30, latentDim: 4 });
 * const e = elbo(decoder({ latentDim: 4, obsDim: 2 }), { ...elboVariables(100, 4, 2), mu: enc.mu, logvar: enc.logvar }, 0.1);
 */
export { gru, zeroState, type Gru } from './gru.ts';
export { batch, encoder, encoderEnv, sampleZ0, type Batch, type Encoder, type EncoderOptions } from './encoder.ts';
export { decoder, elbo, elboEnv, elboVariables, type Decoder, type DecoderOptions, type Elbo, type ElboInputs } from './elbo.ts';
export { rnnBaseline, rnnEnv, stackTime, type RnnBaseline, type RnnOptions } from './rnn.ts';
export {
  observationsOf, observedMask, paperObservationCounts, spiralPoint, spirals, spiralTimeStep, timeMajor,
  type Observations, type SpiralData, type SpiralOptions, type SpiralSet, type SpiralSettings,
} from './spirals.ts';
export {
  initLatentParams, latentOde, latentStep, posterior, prepareLatentGradient,
  type LatentBatch, type LatentOde, type LatentOdeOptions, type LatentStep,
} from './latentModel.ts';
export { initRnnParams, rnnStep, rnnTrainable, type RnnTrainable } from './rnnModel.ts';
export { trainLatent, trainRnn, type FitOptions, type FitResult } from './train.ts';
export {
  lastValueBaselineRmse, latentPredict, meanBaselineRmse, rmse, rnnExtrapolate, scoreLatent, scoreRnn, spread, trajectoryRmses, type Scores, type Spread,
} from './evaluate.ts';
