/**
 * Losses as expression builders. Each returns a scalar expression, so it can be differentiated
 * symbolically like any other part of a model.
 */
import * as X from './expr.ts';
import type { Dim, Shape } from './shape.ts';

/** Mean squared error over all elements. @example mse(pred, target) */
export const mse = <S extends Shape>(pred: X.Expr<S>, target: X.Expr<S>): X.Expr<readonly []> =>
  X.mean(X.square(X.sub(pred, target)));

/** Mean absolute error over all elements (torchdiffeq's spiral loss). @example l1(pred, target) */
export const l1 = <S extends Shape>(pred: X.Expr<S>, target: X.Expr<S>): X.Expr<readonly []> =>
  X.mean(X.abs(X.sub(pred, target)));

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Total Gaussian log-likelihood Σ log N(x; mean, exp(logVar)); `logVar` may be a suffix or number.
 * @example gaussianLogLikelihood(x, decoded, Math.log(0.01))
 */
export const gaussianLogLikelihood = <S extends Shape>(
  x: X.Expr<S>, mean: X.Expr<S>, logVar: X.Operand<S>,
): X.Expr<readonly []> => {
  const lv: X.Expr<Shape> = typeof logVar === 'number' ? X.scalar(logVar) : logVar;
  const sq = X.broadcastBinary('div', X.square(X.sub(x, mean)), X.exp(lv));
  return X.mul(-0.5, X.sum(X.broadcastBinary('add', X.broadcastBinary('add', sq, lv), LOG_2PI)));
};

/**
 * Softmax cross-entropy between logits and one-hot (or soft) labels, averaged over rows.
 * Uses a stable log-sum-exp.
 * @example softmaxCrossEntropy(logits /* [B,10] *\/, labels)
 */
export const softmaxCrossEntropy = <M extends Dim, C extends Dim>(
  logits: X.Expr<readonly [M, C]>, labels: X.Expr<readonly [M, C]>,
): X.Expr<readonly []> => {
  const lse = X.logsumexpAxes(logits, [1], true);
  const logSoftmax = X.broadcastBinary('sub', logits, lse);
  return X.neg(X.mean(X.sumAxis(X.withShape(X.broadcastBinary('mul', labels, logSoftmax), logits.shape), 1)));
};

/**
 * KL(N(μ₁, e^{v₁}) ‖ N(μ₂, e^{v₂})) for diagonal Gaussians, summed over all elements.
 * @example klDiagGaussians(mu, logVar, X.scalar(0), X.scalar(0)) // against a standard normal
 */
export const klDiagGaussians = <S extends Shape>(
  mu1: X.Expr<S>, logVar1: X.Expr<S>, mu2: X.Operand<S>, logVar2: X.Operand<S>,
): X.Expr<readonly []> => {
  const lv2: X.Expr<Shape> = typeof logVar2 === 'number' ? X.scalar(logVar2) : logVar2;
  const diff = X.broadcastBinary('sub', mu1, mu2);
  const ratio = X.broadcastBinary('div', X.broadcastBinary('add', X.exp(logVar1), X.square(diff)), X.exp(lv2));
  const terms = X.broadcastBinary('sub', X.broadcastBinary('add', X.broadcastBinary('sub', lv2, logVar1), ratio), 1);
  return X.mul(0.5, X.sum(terms));
};
