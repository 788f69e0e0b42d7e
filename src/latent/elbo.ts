/**
 * The generative half of the latent ODE and its training objective: a decoder from the latent
 * state to the observation space, applied at every time of the latent trajectory the solver
 * produces, and the evidence lower bound
 *
 *   ELBO = (1/B) Σ_b [ Σ_{t,d} m[t,b] · log N(x[t,b,d]; dec(z[t,b])_d, σ²) − KL(q(z₀,b) ‖ N(0, I)) ]
 *
 * with q(z₀,b) = N(μ_b, diag exp(log σ²_b)), the mask m = 1 exactly at the observed times of
 * trajectory b (so irregular, per-trajectory observation times share one time grid), and a fixed
 * observation noise σ (the paper fixes it; torchdiffeq's script uses the data's noise level).
 * The KL term is analytic; a single reparameterised draw of z₀ gives the trajectory `zs`.
 *
 * The latent trajectory is a variable `zs: [T, B, L]` (the layout of a solver's output, time
 * first), so the same expression serves as the loss of an ODE gradient driver (prediction `zs`,
 * loss parameters the decoder's) and, with `zs` replaced by any expression, as a whole model.
 */
import * as X from '../dsl/expr.ts';
import { activations, type Activation, type Layer } from '../dsl/layers.ts';
import { param, type ParamDecl } from '../dsl/params.ts';
import type { Dim, Shape } from '../dsl/shape.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { batch, type Batch } from './encoder.ts';
import { observedMask, timeMajor, type SpiralSet } from './spirals.ts';

/** Options of the decoder. */
export interface DecoderOptions<L extends number, O extends number> {
  readonly latentDim: L;
  /** Observation size (spirals: 2). */
  readonly obsDim: O;
  /** Hidden units of the one hidden layer (paper: 20); 0 for a linear decoder. Default 20. */
  readonly hiddenDim?: number;
  /** Hidden activation (torchdiffeq: ReLU). Default `relu`. */
  readonly activation?: Activation;
  /** Prefix of parameter names (default `dec`): `${name}1_W`, `${name}1_b`, `${name}2_W`, … */
  readonly name?: string;
}

/** A decoder p(x | z): the same parameters on rows `[M, L]` or on trajectories `[T, M, L]`. */
export interface Decoder<L extends number, O extends number> {
  readonly params: readonly ParamDecl[];
  /** Rows: `[M, L] → [M, O]` (matmuls). */
  readonly rows: Layer<L, O>;
  /** Every time of a trajectory: `[T, M, L] → [T, M, O]`. */
  readonly apply: <T extends Dim, M extends Dim>(zs: X.Expr<readonly [T, M, L]>) => X.Expr<readonly [T, M, O]>;
}

/**
 * `x W + b` on the last axis of any rank: `[…, K] → […, N]`, as Σ_k x[…, k, 1] · W[k, :] (a
 * broadcast product and a sum, so leading named dims need no reshape; the same flop count as a
 * matmul).
 * @example alongLast(zs /* [T,B,4] *\/, W /* [4,20] *\/, b) // [T, B, 20]
 */
const alongLast = (x: X.Expr<Shape>, W: X.Expr<readonly [number, number]>, b: X.Expr<readonly [number]>): X.Expr<Shape> => {
  const r = x.shape.length;
  const prod = X.broadcastBinary('mul', X.reshape(x, [...x.shape, 1]), W);
  return X.broadcastBinary('add', X.sumAxes(prod, [r - 1]), b);
};

/**
 * Declares the decoder: linear, or one hidden layer (PyTorch initialisation).
 * @throws RangeError when a size is not a positive integer (hiddenDim may be 0)
 * @example
 * const dec = decoder({ latentDim: 4, obsDim: 2 }); // 4 → 20 → 2, ReLU
 * dec.apply(X.input('zs', [100, batch, 4])) // Expr<[100, batch, 2]>
 */
export const decoder = <const L extends number, const O extends number>(o: DecoderOptions<L, O>): Decoder<L, O> => {
  const name = o.name ?? 'dec', H = o.hiddenDim ?? 20;
  for (const [what, v, lo] of [['latentDim', o.latentDim, 1], ['obsDim', o.obsDim, 1], ['hiddenDim', H, 0]] as const)
    if (!Number.isInteger(v) || v < lo) throw new RangeError(`decoder ${name}: ${what} must be an integer ≥ ${lo}, got ${v}`);
  const sizes = H === 0 ? [o.latentDim, o.obsDim] : [o.latentDim, H, o.obsDim];
  const layers = sizes.slice(1).map((out, i) => {
    const inDim = sizes[i] as number;
    return {
      W: param(`${name}${i + 1}_W`, [inDim, out] as const, { kind: 'lecunUniform' }),
      b: param(`${name}${i + 1}_b`, [out] as const, { kind: 'lecunUniform', fanIn: inDim }),
    };
  });
  const act = activations[o.activation ?? 'relu'];
  const last = layers.length - 1;
  return {
    params: layers.flatMap((l) => [l.W, l.b]),
    rows: {
      params: layers.flatMap((l) => [l.W, l.b]),
      apply: <M extends Dim>(z: X.Expr<readonly [M, L]>) => {
        let h: X.Expr<readonly [M, number]> = z;
        layers.forEach((l, i) => {
          const y = X.add(X.matmul(h, l.W.expr), l.b.expr);
          h = i < last ? act(y) : y;
        });
        return X.withShape(h, [z.shape[0], o.obsDim] as const);
      },
    },
    apply: <T extends Dim, M extends Dim>(zs: X.Expr<readonly [T, M, L]>) => {
      let h: X.Expr<Shape> = zs;
      layers.forEach((l, i) => {
        const y = alongLast(h, l.W.expr, l.b.expr);
        h = i < last ? act(y) : y;
      });
      return X.withShape(h, [zs.shape[0], zs.shape[1], o.obsDim] as const);
    },
  };
};

/** What the ELBO is computed from. T times, B trajectories, L latent and O observed sizes. */
export interface ElboInputs<T extends Dim, L extends number, O extends number> {
  /** The latent trajectory at every time of the grid (z(t₀) = z₀ first). */
  readonly zs: X.Expr<readonly [T, Batch, L]>;
  /** Observations on the same grid; entries where `mask` is 0 are ignored but must be finite. */
  readonly xs: X.Expr<readonly [T, Batch, O]>;
  /** 1 where observed, 0 elsewhere. */
  readonly mask: X.Expr<readonly [T, Batch, 1]>;
  readonly mu: X.Expr<readonly [Batch, L]>;
  readonly logvar: X.Expr<readonly [Batch, L]>;
}

/** The ELBO and its parts, each a scalar averaged over the batch. */
export interface Elbo<T extends Dim, O extends number> {
  /** The decoded trajectory `[T, B, O]`. */
  readonly decoded: X.Expr<readonly [T, Batch, O]>;
  /** (1/B) Σ masked log-likelihood. */
  readonly logLik: X.Expr<readonly []>;
  /** (1/B) Σ KL(q(z₀) ‖ N(0, I)). */
  readonly kl: X.Expr<readonly []>;
  /** `logLik − kl`. */
  readonly elbo: X.Expr<readonly []>;
  /** `−elbo`, the quantity to minimise. */
  readonly loss: X.Expr<readonly []>;
}

/**
 * The ELBO of a decoded latent trajectory with observation noise std `obsStd`.
 * @throws RangeError when `obsStd` is not positive and finite
 * @example
 * const v = elboVariables(100, 4, 2);
 * const e = elbo(decoder({ latentDim: 4, obsDim: 2 }), { ...v, mu: enc.mu, logvar: enc.logvar }, 0.1);
 * e.loss.shape // []
 */
export const elbo = <T extends Dim, L extends number, O extends number>(
  dec: Decoder<L, O>, i: ElboInputs<T, L, O>, obsStd: number,
): Elbo<T, O> => {
  if (!(obsStd > 0) || !Number.isFinite(obsStd)) throw new RangeError(`elbo: obsStd must be positive and finite, got ${obsStd}`);
  const decoded = dec.apply(i.zs);
  const logVar = 2 * Math.log(obsStd);
  // −½ [(x − x̂)²/σ² + log σ² + log 2π] at every observed entry.
  const perEntry = X.mul(-0.5, X.add(X.mul(X.square(X.sub(i.xs, decoded)), 1 / (obsStd * obsStd)), logVar + Math.log(2 * Math.PI)));
  const masked = X.broadcastBinary('mul', perEntry, i.mask);
  const llRows = X.withShape(X.sumAxes(masked, [0, 2]), [batch] as const);
  // KL(N(μ, e^v) ‖ N(0, 1)) = ½ (e^v + μ² − 1 − v), per latent coordinate.
  const klTerms = X.mul(0.5, X.sub(X.sub(X.add(X.exp(i.logvar), X.square(i.mu)), 1), i.logvar));
  const klRows = X.sumAxis(klTerms, 1);
  const logLik = X.mean(llRows), kl = X.mean(klRows);
  const e = X.mean(X.sub(llRows, klRows));
  return { decoded, logLik, kl, elbo: e, loss: X.neg(e) };
};

/**
 * Input variables `zs: [T, batch, L]`, `xs: [T, batch, O]` and `mask: [T, batch, 1]` (names
 * `zs`, `xs`, `mask` unless given), for the ELBO as the loss of an ODE gradient driver.
 * @example const { zs, xs, mask } = elboVariables(100, 4, 2)
 */
export const elboVariables = <const T extends Dim, const L extends number, const O extends number>(
  times: T, latentDim: L, obsDim: O, names: { readonly zs?: string; readonly xs?: string; readonly mask?: string } = {},
): Pick<ElboInputs<T, L, O>, 'zs' | 'xs' | 'mask'> => ({
  zs: X.input(names.zs ?? 'zs', [times, batch, latentDim] as const),
  xs: X.input(names.xs ?? 'xs', [times, batch, obsDim] as const),
  mask: X.input(names.mask ?? 'mask', [times, batch, 1] as const),
});

/**
 * The data inputs of the ELBO for the trajectories `rows`: noisy observations and the mask over
 * the observation region, time-major, keyed by the variables' names.
 * @example elboEnv(data.train, [0, 1, 2]) // { xs: [100, 3, 2], mask: [100, 3, 1] }
 * @throws RangeError when a row is out of range
 */
export const elboEnv = (
  set: SpiralSet, rows: readonly number[], names: { readonly xs?: string; readonly mask?: string } = {},
): Record<string, F64Tensor> => ({
  [names.xs ?? 'xs']: timeMajor(set, set.noisy, rows),
  [names.mask ?? 'mask']: observedMask(set, rows),
});
