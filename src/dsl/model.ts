/**
 * Models: dynamics `dz/dt = f(z, t, θ)`, a loss on the solution at observation times, and the
 * parameter values, bundled as one immutable value. `make*` functions check and return `Either`
 * (the JSON decoder uses them); the plain builders throw on misuse (bugs in TypeScript callers).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as X from './expr.ts';
import type { NodeOf } from './node.ts';
import { initParams, type ParamDecl, type ParamValues } from './params.ts';
import { formatShape, shapeEq, type Shape } from './shape.ts';
import { freeVars } from '../interp/traverse.ts';

/** `dz/dt = f(z, t, θ)`; `inputs` are the other free variables of `f` (data, noise). */
export interface Dynamics<S extends Shape = Shape> {
  readonly state: X.Expr<S>;
  readonly time: X.Expr<readonly []>;
  readonly params: readonly ParamDecl[];
  readonly f: X.Expr<S>;
  readonly inputs: readonly NodeOf<'var'>[];
}

/** A scalar loss of the predicted trajectory `prediction` (shape `[T, ...state shape]`). */
export interface Loss {
  readonly prediction: X.Expr<Shape>;
  readonly value: X.Expr<readonly []>;
  readonly params: readonly ParamDecl[];
  readonly inputs: readonly NodeOf<'var'>[];
}

/** Dynamics, an optional loss and the parameter values. */
export interface Model<S extends Shape = Shape> {
  readonly name: string;
  readonly dynamics: Dynamics<S>;
  readonly loss?: Loss;
  readonly params: readonly ParamDecl[];
  readonly values: ParamValues;
}

const isVar = (e: X.Expr<Shape>, role: string): e is X.Expr<Shape> & { node: NodeOf<'var'> } =>
  e.node.kind === 'var' && e.node.role === role;

/** Checks that the free variables of `e` are `allowed`, declared params, or inputs; returns the inputs. */
const checkFree = (
  where: string, e: X.Expr<Shape>, allowed: readonly X.Expr<Shape>[], params: readonly ParamDecl[],
): E.Either<string, readonly NodeOf<'var'>[]> => {
  const inputs: NodeOf<'var'>[] = [];
  for (const v of freeVars([e.node])) {
    if (allowed.some((a) => a.node === v)) continue;
    if (v.role === 'param') {
      if (!params.some((p) => p.expr.node === v)) return E.left(`${where}: parameter ${v.name} is used but not declared in params`);
    } else if (v.role === 'input' || v.role === 'noise') inputs.push(v);
    else return E.left(`${where}: variable ${v.name} (role ${v.role}) is not the ${where === 'dynamics' ? 'state or time' : 'prediction'}`);
  }
  const names = new Set<string>();
  for (const p of params) {
    if (names.has(p.name)) return E.left(`${where}: parameter ${p.name} declared twice`);
    names.add(p.name);
  }
  return E.right(inputs);
};

/**
 * Checked dynamics. `f` must have the state's shape.
 * @example makeDynamics({ state: y, time: t, params: net.params, f: net.apply(y) })
 */
export const makeDynamics = <S extends Shape>(d: {
  readonly state: X.Expr<S>;
  readonly time?: X.Expr<readonly []>;
  readonly params: readonly ParamDecl[];
  readonly f: X.Expr<NoInfer<S>>;
}): E.Either<string, Dynamics<S>> => {
  const time = d.time ?? X.time('t');
  if (!isVar(d.state, 'state')) return E.left('dynamics: state must be a variable with role state');
  if (!isVar(time, 'time')) return E.left('dynamics: time must be a variable with role time');
  if (!shapeEq(d.f.shape, d.state.shape))
    return E.left(`dynamics: f has shape ${formatShape(d.f.shape)} but the state has ${formatShape(d.state.shape)}`);
  return E.map((inputs: readonly NodeOf<'var'>[]) => Object.freeze({ state: d.state, time, params: d.params, f: d.f, inputs }))(
    checkFree('dynamics', d.f, [d.state, time], d.params),
  );
};

const orThrow = <T>(r: E.Either<string, T>): T => {
  if (E.isLeft(r)) throw new Error(`fluxion: ${r.left}`);
  return r.right;
};

/**
 * Dynamics from typed parts; a derivative of another shape than the state does not compile.
 * @example const dyn = dynamics({ state: y, time: t, params, f: X.matmul(X.tanh(X.matmul(y, W1)), W2) })
 * @throws when a variable of `f` is neither state, time, declared parameter nor input
 */
export const dynamics = <S extends Shape>(d: {
  readonly state: X.Expr<S>;
  readonly time?: X.Expr<readonly []>;
  readonly params: readonly ParamDecl[];
  readonly f: X.Expr<NoInfer<S>>;
}): Dynamics<S> => orThrow(makeDynamics(d));

/**
 * Checked loss on a prediction variable.
 * @example makeLoss({ prediction: yhat, params: [], value: l1(yhat, ytrue) })
 */
export const makeLoss = (l: {
  readonly prediction: X.Expr<Shape>;
  readonly params?: readonly ParamDecl[];
  readonly value: X.Expr<readonly []>;
}): E.Either<string, Loss> => {
  if (l.prediction.node.kind !== 'var') return E.left('loss: prediction must be a variable');
  if (l.value.shape.length !== 0) return E.left(`loss: value must be a scalar, got shape ${formatShape(l.value.shape)}`);
  const params = l.params ?? [];
  return E.map((inputs: readonly NodeOf<'var'>[]) => Object.freeze({ prediction: l.prediction, value: l.value, params, inputs }))(
    checkFree('loss', l.value, [l.prediction], params),
  );
};

/** A loss; @throws on misuse. @example loss({ prediction: yhat, value: l1(yhat, ytrue) }) */
export const loss = (l: Parameters<typeof makeLoss>[0]): Loss => orThrow(makeLoss(l));

/**
 * Checked model: parameter values must match the declared shapes; missing values are drawn
 * from the initializers with `seed`.
 * @example makeModel({ name: 'spiral', dynamics: dyn, loss: lo, seed: 0 })
 */
export const makeModel = <S extends Shape>(m: {
  readonly name: string;
  readonly dynamics: Dynamics<S>;
  readonly loss?: Loss;
  readonly values?: ParamValues;
  readonly seed?: number;
}): E.Either<string, Model<S>> => {
  const params: ParamDecl[] = [...m.dynamics.params];
  for (const p of m.loss?.params ?? []) {
    const same = params.find((q) => q.name === p.name);
    if (same === undefined) params.push(p);
    else if (same.expr.node !== p.expr.node) return E.left(`model: parameter ${p.name} declared differently in dynamics and loss`);
  }
  const drawn = initParams(params.filter((p) => m.values?.[p.name] === undefined), m.seed ?? 0);
  const values: Record<string, ParamValues[string]> = {};
  for (const p of params) {
    const v = (m.values !== undefined && Object.prototype.hasOwnProperty.call(m.values, p.name) ? m.values[p.name] : undefined) ?? drawn[p.name];
    if (v === undefined) return E.left(`model: no value for parameter ${p.name}`);
    if (!shapeEq(v.shape, p.shape)) return E.left(`model: parameter ${p.name} has values of shape [${v.shape.join(',')}], declared ${formatShape(p.shape)}`);
    values[p.name] = v;
  }
  for (const k of Object.keys(m.values ?? {})) if (!params.some((p) => p.name === k)) return E.left(`model: values given for unknown parameter ${k}`);
  const base = { name: m.name, dynamics: m.dynamics, params, values };
  return E.right(Object.freeze(m.loss === undefined ? base : { ...base, loss: m.loss }));
};

/** A model; @throws on misuse. @example model({ name: 'spiral', dynamics: dyn, loss: lo }) */
export const model = <S extends Shape>(m: Parameters<typeof makeModel<S>>[0]): Model<S> => orThrow(makeModel(m));
