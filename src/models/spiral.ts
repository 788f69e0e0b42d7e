/**
 * torchdiffeq's classic spiral (examples/ode_demo.py), built with the TypeScript DSL: the true
 * system dy/dt = (y∘y∘y) A and the neural ODE f(t, y) = tanh((y∘y∘y) W1 + b1) W2 + b2 fitted
 * to it with a mean absolute error. `examples/specs/spiral.json` and `spiral-true.json` are
 * the same models as JSON specs; a test checks that both give the same nodes.
 */
import * as X from '../dsl/expr.ts';
import { linearNamed } from '../dsl/layers.ts';
import { l1 } from '../dsl/losses.ts';
import { dynamics, loss, model, type Dynamics, type Model } from '../dsl/model.ts';
import { sym, type Sym } from '../dsl/shape.ts';

/** The batch of trajectories, and the observation times of the loss. */
export const batch = sym('batch');
export const obs = sym('obs');

/** The state shape: a batch of points in the plane. */
export type SpiralShape = readonly [Sym<'batch'>, 2];

/** The true system's matrix. */
export const trueA: readonly (readonly [number, number])[] = [[-0.1, 2.0], [-2.0, -0.1]];

/** Options of the spiral model. */
export interface SpiralOptions {
  /** Hidden units (torchdiffeq: 50). */
  readonly hidden?: number;
  /** Seed of the parameter initializers. */
  readonly seed?: number;
}

/** The state, time and cubed state shared by both models. */
const parts = () => {
  const y = X.state('y', [batch, 2]);
  return { y, t: X.time('t'), y3: X.mul(X.mul(y, y), y) };
};

/**
 * The element-wise cube y∘y∘y of the spiral state: the `y3` let of the JSON specs.
 * @example spiralCube().node // the same node as the let y3 of spiral.json
 */
export const spiralCube = (): X.Expr<SpiralShape> => parts().y3;

/**
 * The true spiral dynamics dy/dt = (y∘y∘y) A, with no parameters.
 * @example spiralTrueDynamics().f.shape // ['batch', 2]
 */
export const spiralTrueDynamics = (): Dynamics<SpiralShape> => {
  const { y, t, y3 } = parts();
  const A = X.tensor(trueA.flat(), [2, 2]);
  return dynamics({ state: y, time: t, params: [], f: X.matmul(y3, A) });
};

/**
 * The true spiral as a model without loss (for generating data).
 * @example spiralTrueModel().name // 'spiral-true'
 */
export const spiralTrueModel = (): Model<SpiralShape> => model({ name: 'spiral-true', dynamics: spiralTrueDynamics() });

/**
 * The neural ODE of the spiral demo: PyTorch-initialised linear layers 2 → 50 → 2 with tanh,
 * applied to y∘y∘y, and the loss mean |yhat − ytrue| over trajectories of shape [obs, batch, 2].
 * @example const m = spiralModel(); m.params.map((p) => p.name) // ['W1', 'b1', 'W2', 'b2']
 */
export const spiralModel = (opts: SpiralOptions = {}): Model<SpiralShape> => {
  const hidden = opts.hidden ?? 50;
  const { y, t, y3 } = parts();
  const l1Layer = linearNamed('W1', 'b1', 2, hidden);
  const l2Layer = linearNamed('W2', 'b2', hidden, 2);
  const f = l2Layer.apply(X.tanh(l1Layer.apply(y3)));
  const yhat = X.input('yhat', [obs, batch, 2]);
  const ytrue = X.input('ytrue', [obs, batch, 2]);
  return model({
    name: 'spiral',
    dynamics: dynamics({ state: y, time: t, params: [...l1Layer.params, ...l2Layer.params], f }),
    loss: loss({ prediction: yhat, value: l1(yhat, ytrue) }),
    seed: opts.seed ?? 0,
  });
};
