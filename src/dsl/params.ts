/**
 * Parameters: a `param` variable plus how to initialise it. Initializers are data (so a JSON spec
 * can carry them) and are seeded per parameter name, so adding a parameter never changes the
 * values drawn for the others.
 */
import * as X from './expr.ts';
import { formatShape, staticSize, type Shape } from './shape.ts';
import { draw, nextNormal, nextUniform, seedRng } from '../random/prng.ts';
import type { F64Tensor } from '../interp/tensor.ts';

/** How a parameter's initial values are drawn. Fan-in/fan-out are the first/last dims. */
export type Initializer =
  | { readonly kind: 'zeros' }
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'normal'; readonly mean: number; readonly std: number }
  | { readonly kind: 'uniform'; readonly low: number; readonly high: number }
  /** Glorot/Xavier uniform: U(±sqrt(6 / (fanIn + fanOut))). */
  | { readonly kind: 'glorotUniform' }
  /** He/Kaiming normal: N(0, 2 / fanIn). */
  | { readonly kind: 'heNormal' }
  /** PyTorch's `nn.Linear` default: U(±1/sqrt(fanIn)), `fanIn` given for biases. */
  | { readonly kind: 'lecunUniform'; readonly fanIn?: number };

/** A declared parameter: its variable and initializer. Shapes are fully numeric. */
export interface ParamDecl<S extends readonly number[] = readonly number[]> {
  readonly expr: X.Expr<S>;
  readonly name: string;
  readonly shape: S;
  readonly init: Initializer;
}

/**
 * Declares a parameter.
 * @example const W1 = param('W1', [2, 50], { kind: 'glorotUniform' })
 */
export const param = <const S extends readonly number[]>(name: string, shape: S, init: Initializer): ParamDecl<S> => {
  if (staticSize(shape as Shape) === undefined) throw new Error(`fluxion: param ${name} needs a numeric shape, got ${formatShape(shape)}`);
  return Object.freeze({ expr: X.variable(name, 'param', shape), name, shape, init });
};

// Weights are laid out [...spatial, in, out] (dense [in, out], conv filters [kh, kw, cin, cout]):
// fan-in = spatial·in, fan-out = spatial·out.
const fans = (shape: readonly number[]): [number, number] => {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0] as number, shape[0] as number];
  const spatial = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [spatial * (shape[shape.length - 2] as number), spatial * (shape[shape.length - 1] as number)];
};

/**
 * Draws one parameter's initial values from `seed` (streamed by the parameter's name).
 * @example initValues(param('b', [3], { kind: 'zeros' }), 0).data // [0, 0, 0]
 */
export const initValues = (p: ParamDecl, seed: number): F64Tensor => {
  const n = p.shape.reduce((a, b) => a * b, 1);
  const s = seedRng(seed, p.name);
  const [fanIn, fanOut] = fans(p.shape);
  const uniform = (lo: number, hi: number): Float64Array => draw(nextUniform, s, n)[0].map((u) => lo + (hi - lo) * u);
  const normal = (mu: number, sd: number): Float64Array => draw(nextNormal, s, n)[0].map((z) => mu + sd * z);
  const data = ((): Float64Array => {
    const init = p.init;
    switch (init.kind) {
      case 'zeros': return new Float64Array(n);
      case 'constant': return new Float64Array(n).fill(init.value);
      case 'normal': return normal(init.mean, init.std);
      case 'uniform': return uniform(init.low, init.high);
      case 'glorotUniform': {
        const a = Math.sqrt(6 / (fanIn + fanOut));
        return uniform(-a, a);
      }
      case 'heNormal': return normal(0, Math.sqrt(2 / fanIn));
      case 'lecunUniform': {
        const a = 1 / Math.sqrt(init.fanIn ?? fanIn);
        return uniform(-a, a);
      }
    }
  })();
  return { shape: p.shape, data };
};

/** Parameter values by name. */
export type ParamValues = Readonly<Record<string, F64Tensor>>;

/**
 * Initial values of every parameter.
 * @example initParams([W1, b1], 0) // { W1: …, b1: … }
 */
export const initParams = (ps: readonly ParamDecl[], seed: number): ParamValues =>
  Object.fromEntries(ps.map((p) => [p.name, initValues(p, seed)]));
