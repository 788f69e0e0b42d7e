/**
 * Neural-network building blocks as expression builders. A layer is a value: the parameters it
 * declares and a pure function from input expressions to output expressions.
 */
import * as X from './expr.ts';
import { param, type Initializer, type ParamDecl } from './params.ts';
import type { Dim } from './shape.ts';

/** A layer from feature size `I` to `O`, applied to a batch of rows. */
export interface Layer<I extends number, O extends number> {
  readonly params: readonly ParamDecl[];
  readonly apply: <M extends Dim>(x: X.Expr<readonly [M, I]>) => X.Expr<readonly [M, O]>;
}

/** Options of a linear layer. */
export interface LinearOptions {
  readonly bias?: boolean;
  readonly weightInit?: Initializer;
  readonly biasInit?: Initializer;
}

/**
 * `x W + b` with `W: [I, O]`, `b: [O]`, named `${name}_W` / `${name}_b` unless `name` ends the
 * parameter names itself (pass names to `linearNamed`). Default init is PyTorch's.
 * @example const l1 = linear('l1', 2, 50); const h = l1.apply(y) // Expr<[B, 50]>
 */
export const linear = <const I extends number, const O extends number>(
  name: string, inDim: I, outDim: O, opts: LinearOptions = {},
): Layer<I, O> => linearNamed(`${name}_W`, `${name}_b`, inDim, outDim, opts);

/**
 * A linear layer with explicit parameter names (e.g. torchdiffeq's W1/b1).
 * @example linearNamed('W1', 'b1', 2, 50)
 */
export const linearNamed = <const I extends number, const O extends number>(
  wName: string, bName: string, inDim: I, outDim: O, opts: LinearOptions = {},
): Layer<I, O> => {
  const W = param(wName, [inDim, outDim] as const, opts.weightInit ?? { kind: 'lecunUniform' });
  const b = (opts.bias ?? true) ? param(bName, [outDim] as const, opts.biasInit ?? { kind: 'lecunUniform', fanIn: inDim }) : undefined;
  return {
    params: b === undefined ? [W] : [W, b],
    apply: (x) => {
      const xw = X.matmul(x, W.expr);
      return b === undefined ? xw : X.add(xw, b.expr);
    },
  };
};

/** Elementwise activations by name, for builders that take one. */
export const activations = {
  tanh: X.tanh, relu: X.relu, softplus: X.softplus, sigmoid: X.sigmoid,
} as const;
export type Activation = keyof typeof activations;

/**
 * A multilayer perceptron: linear layers with an activation between them (none after the last).
 * @example const net = mlp('f', [2, 50, 2], 'tanh')
 */
export const mlp = <const I extends number, const O extends number>(
  name: string, sizes: readonly [I, ...number[], O], activation: Activation = 'tanh',
): Layer<I, O> => {
  const layers = sizes.slice(1).map((out, i) => linear(`${name}${i + 1}`, sizes[i] as number, out));
  const act = activations[activation];
  return {
    params: layers.flatMap((l) => l.params),
    apply: <M extends Dim>(x: X.Expr<readonly [M, I]>) => {
      let h: X.Expr<readonly [M, number]> = x;
      layers.forEach((l, i) => {
        const z = l.apply(h);
        h = i < layers.length - 1 ? act(z) : z;
      });
      return h as X.Expr<readonly [M, O]>;
    },
  };
};

/** A time-conditioned layer: output depends on the input rows and the scalar time. */
export interface TimeLayer<I extends number, O extends number> {
  readonly params: readonly ParamDecl[];
  readonly apply: <M extends Dim>(x: X.Expr<readonly [M, I]>, t: X.Expr<readonly []>) => X.Expr<readonly [M, O]>;
}

/**
 * FFJORD's concat-squash layer: `(x W + b) ⊙ σ(t g + c) + t h`.
 * @example const l = concatSquash('cs1', 2, 64); l.apply(z, t)
 */
export const concatSquash = <const I extends number, const O extends number>(
  name: string, inDim: I, outDim: O,
): TimeLayer<I, O> => {
  const lin = linear(name, inDim, outDim);
  const gateW = param(`${name}_gW`, [1, outDim] as const, { kind: 'lecunUniform', fanIn: 1 });
  const gateB = param(`${name}_gb`, [outDim] as const, { kind: 'lecunUniform', fanIn: 1 });
  const hyper = param(`${name}_hW`, [1, outDim] as const, { kind: 'lecunUniform', fanIn: 1 });
  return {
    params: [...lin.params, gateW, gateB, hyper],
    apply: (x, t) => {
      const gate = X.sigmoid(X.add(X.mul(X.reshape(gateW.expr, [outDim]), t), gateB.expr));
      const shift = X.mul(X.reshape(hyper.expr, [outDim]), t);
      return X.add(X.mul(lin.apply(x), gate), shift);
    },
  };
};
