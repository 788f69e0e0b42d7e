/**
 * The symbolic side of every gradient method, derived once per model: the adjoint system (whose
 * a/θ̄/t̄ right-hand sides are also the stage VJPs backprop needs), and the loss with its
 * gradients w.r.t. the prediction and the loss's own parameters. Plus the checks that a
 * problem's data fit the model, so a mismatch is an `InvalidProblem`, not a failure mid-solve.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Node, NodeOf } from '../../dsl/node.ts';
import type { ParamDecl } from '../../dsl/params.ts';
import { formatShape, isSym } from '../../dsl/shape.ts';
import type { F64Tensor } from '../../interp/tensor.ts';
import { augmentedRoots, makeAdjointSystem, type AdjointSystem } from '../system.ts';
import { grad } from '../vjp.ts';
import { invalidProblem, type GradientData, type GradientError, type GradientModel } from './types.ts';

type VarNode = NodeOf<'var'>;

/** Everything symbolic a gradient method evaluates. */
export interface Symbolic {
  readonly model: GradientModel;
  readonly system: AdjointSystem;
  readonly z: VarNode;
  readonly t: VarNode;
  /** `[f]`. */
  readonly fRoots: readonly Node[];
  /** `[f, −aᵀ∂f/∂z, −aᵀ∂f/∂θ…, −aᵀ∂f/∂t]` (the augmented layout). */
  readonly augRoots: readonly Node[];
  /** `augRoots` without `f`: with `a = k̄` these are the negated VJPs of one stage. */
  readonly vjpRoots: readonly Node[];
  readonly pred: VarNode;
  /** `[L, ∂L/∂prediction, ∂L/∂θ for each loss parameter]`. */
  readonly lossRoots: readonly Node[];
  readonly dynParams: readonly ParamDecl[];
  readonly lossParams: readonly ParamDecl[];
  /** Non-batch dims of the state. */
  readonly rowShape: readonly number[];
}

/** Derivations already made, held weakly by the dynamics and loss values they came from. */
const derived = new WeakMap<object, WeakMap<object, Symbolic>>();

/**
 * Derives the adjoint system and the loss gradients of a model (memoized per dynamics and loss
 * value, weakly, so repeated one-shot calls do not redo the symbolic work).
 * @example const s = deriveSymbolic({ dynamics: m.dynamics, loss: m.loss }); // right({ augRoots, lossRoots, … })
 */
export const deriveSymbolic = (model: GradientModel): E.Either<GradientError, Symbolic> => {
  const hit = derived.get(model.dynamics)?.get(model.loss);
  if (hit !== undefined) return E.right(hit);
  const r = derive(model);
  if (E.isRight(r)) {
    const inner = derived.get(model.dynamics) ?? new WeakMap<object, Symbolic>();
    inner.set(model.loss, r.right);
    derived.set(model.dynamics, inner);
  }
  return r;
};

const derive = (model: GradientModel): E.Either<GradientError, Symbolic> => {
  const sys = makeAdjointSystem(model.dynamics);
  if (E.isLeft(sys)) return E.left(invalidProblem(sys.left));
  const s = sys.right;
  const rest = s.z.shape.slice(1);
  if (s.z.shape.length < 1 || rest.some(isSym))
    return E.left(invalidProblem(`the state must be [batch, numeric dims…], got ${formatShape(s.z.shape)}`));
  const pred = model.loss.prediction.node;
  if (pred.kind !== 'var') return E.left(invalidProblem('the loss prediction must be a variable'));
  if (pred.shape.length !== s.z.shape.length + 1 || pred.shape.slice(1).some((d, i) => d !== s.z.shape[i]))
    return E.left(invalidProblem(`the prediction ${pred.name} has shape ${formatShape(pred.shape)}, expected [T, ${s.z.shape.join(',')}]`));
  const lossParamVars = model.loss.params.map((p) => p.expr.node);
  const [dPred, ...dLossParams] = grad(model.loss.value.node, [pred, ...lossParamVars]);
  if (dPred === undefined) return E.left(invalidProblem('the loss has no gradient'));
  const augRoots = augmentedRoots(s);
  return E.right({
    model, system: s, z: s.z, t: s.t,
    fRoots: [s.rhs.z], augRoots, vjpRoots: augRoots.slice(1), pred,
    lossRoots: [model.loss.value.node, dPred, ...dLossParams],
    dynParams: model.dynamics.params, lossParams: model.loss.params,
    rowShape: rest as readonly number[],
  });
};

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Checks the data against the model: z₀'s shape, the observation times, every parameter and
 * input present with its declared shape (named dims are checked when evaluated).
 * @example checkData(sym, { params, z0, ts: [0, 1], lossInputs: { ytrue }, solver }) // right(undefined)
 */
export const checkData = (s: Symbolic, d: GradientData): E.Either<GradientError, void> => {
  const bad = (m: string) => E.left(invalidProblem(m));
  const z0 = d.z0;
  if (z0.shape.length !== s.z.shape.length || !sameShape(z0.shape.slice(1), s.rowShape))
    return bad(`z0 has shape [${z0.shape.join(',')}], the state ${s.z.name} is ${formatShape(s.z.shape)}`);
  if (z0.data.length !== z0.shape.reduce((a, b) => a * b, 1)) return bad(`z0 has ${z0.data.length} values for shape [${z0.shape.join(',')}]`);
  if (d.ts.length === 0) return bad('ts is empty: it must hold at least the initial time');
  const dir = d.ts.length > 1 ? Math.sign((d.ts[1] as number) - (d.ts[0] as number)) : 1;
  for (let i = 0; i < d.ts.length; i++) {
    const v = d.ts[i] as number;
    if (!Number.isFinite(v)) return bad(`ts[${i}] = ${v} is not finite`);
    if (i > 0 && !(dir * (v - (d.ts[i - 1] as number)) > 0)) return bad(`ts must be strictly monotone; ts[${i}] = ${v} breaks it`);
  }
  for (const p of [...s.dynParams, ...s.lossParams]) {
    const v = d.params[p.name];
    if (v === undefined) return bad(`no value for parameter ${p.name}`);
    if (!sameShape(v.shape, p.shape)) return bad(`parameter ${p.name} has values of shape [${v.shape.join(',')}], declared ${formatShape(p.shape)}`);
  }
  const need = (vars: readonly VarNode[], given: Readonly<Record<string, F64Tensor>> | undefined) =>
    vars.find((v) => given?.[v.name] === undefined);
  const missingLoss = need(s.model.loss.inputs, d.lossInputs);
  if (missingLoss !== undefined) return bad(`the loss input ${missingLoss.name} ${formatShape(missingLoss.shape)} is not in lossInputs`);
  const missingDyn = need(s.model.dynamics.inputs, d.dynamicsInputs);
  if (missingDyn !== undefined) return bad(`the dynamics input ${missingDyn.name} ${formatShape(missingDyn.shape)} is not in dynamicsInputs`);
  return E.right(undefined);
};
