/** Dynamics shared by the adjoint tests. */
import * as X from '../../src/dsl/expr.ts';
import { mlp } from '../../src/dsl/layers.ts';
import { dynamics, type Dynamics } from '../../src/dsl/model.ts';
import { param } from '../../src/dsl/params.ts';
import { sym } from '../../src/dsl/shape.ts';

export const Bt = sym('batch');

/** torchdiffeq's spiral: f = tanh((y³) W1 + b1) W2 + b2, y: [batch, 2]. */
export const spiral = (): Dynamics<readonly [typeof Bt, 2]> => {
  const y = X.state('y', [Bt, 2]);
  const W1 = param('W1', [2, 50], { kind: 'lecunUniform' });
  const b1 = param('b1', [50], { kind: 'lecunUniform', fanIn: 2 });
  const W2 = param('W2', [50, 2], { kind: 'lecunUniform' });
  const b2 = param('b2', [2], { kind: 'lecunUniform', fanIn: 50 });
  const f = X.add(X.matmul(X.tanh(X.add(X.matmul(X.mul(X.mul(y, y), y), W1.expr), b1.expr)), W2.expr), b2.expr);
  return dynamics({ state: y, params: [W1, b1, W2, b2], f });
};

/** MLP dynamics of depth d (d hidden tanh layers of width 16) on a [batch, 4] state. */
export const mlpDynamics = (d: number): Dynamics => {
  const y = X.state('y', [Bt, 4]);
  const hidden: number[] = Array.from({ length: d }, () => 16);
  const net = mlp('f', [4, ...hidden, 4] as const, 'tanh');
  return dynamics({ state: y, params: net.params, f: net.apply(y) });
};
