/**
 * What the float64 fast paths (`adjointF64.ts`, `backpropF64.ts`) share around their plans: buffer
 * programs bound to input buffers, the lookup of an input's value in the data, the check that
 * every input fills its shape, and the bounded cache of plans keyed by problem sizes.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { NodeOf } from '../../dsl/node.ts';
import type { BufferProgram } from '../../interp/evaluator.ts';
import { sizeOf, type F64Tensor } from '../../interp/tensor.ts';
import { invalidProblem, type GradientData, type GradientError } from './types.ts';

export type VarNode = NodeOf<'var'>;

/** A buffer program with its input buffers; state, cotangent, time and prediction slots are filled per call. */
export interface Bound {
  readonly prog: BufferProgram;
  readonly ins: Float64Array[];
  readonly vars: readonly VarNode[];
  readonly slot: (v: VarNode) => number;
}

/**
 * Allocates a program's input buffers.
 * @example bound(prog, freeVars(roots)).slot(z) // the index of z's buffer in `ins`, or −1
 */
export const bound = (prog: BufferProgram, vars: readonly VarNode[]): Bound => ({
  prog, vars, ins: prog.inputSizes.map((k) => new Float64Array(k)), slot: (v) => vars.indexOf(v),
});

/**
 * An input's value; later sources win on a shared name, as in `makeContext`
 * ({ ...params, ...dynamicsInputs, ...lossInputs }).
 * @example inputOf({ params: { W }, lossInputs: { W: W2 }, … }, 'W') // W2
 */
export const inputOf = (d: GradientData, name: string): F64Tensor | undefined =>
  d.lossInputs?.[name] ?? d.dynamicsInputs?.[name] ?? d.params[name];

/**
 * Checks that every non-special input has a value that fills its shape (buffer programs do not
 * check per call), and returns the key of the problem's sizes: plans depend on sizes only.
 * @example problemKey(d, [fVars, lossVars], special) // right('20,2|10|2,50|50|…')
 */
export const problemKey = (d: GradientData, varLists: readonly (readonly VarNode[])[], special: ReadonlySet<VarNode>): E.Either<GradientError, string> => {
  for (const vars of varLists) {
    for (const v of vars) {
      if (special.has(v)) continue;
      const x = inputOf(d, v.name);
      if (x === undefined) return E.left(invalidProblem(`no value for ${v.name}`));
      if (x.data.length !== sizeOf(x.shape)) return E.left(invalidProblem(`${v.name} has ${x.data.length} values for shape [${x.shape.join(',')}]`));
    }
  }
  let key = `${d.z0.shape.join(',')}|${d.ts.length}`;
  for (const vars of varLists) for (const v of vars) if (!special.has(v)) key += `|${(inputOf(d, v.name) as F64Tensor).shape.join(',')}`;
  return E.right(key);
};

/** Plans kept per prepared gradient (distinct batch sizes, observation counts, input shapes). */
const maxPlans = 16;

/**
 * The plan for `key`, made on a miss. The cache is bounded: problems of ever-new sizes must not
 * hold every plan made.
 * @example cachedPlan(plans, key, () => makePlan(d))
 */
export const cachedPlan = <P>(plans: Map<string, E.Either<GradientError, P>>, key: string, make: () => E.Either<GradientError, P>): E.Either<GradientError, P> => {
  const hit = plans.get(key);
  if (hit !== undefined) return hit;
  if (plans.size >= maxPlans) plans.clear();
  const made = make();
  plans.set(key, made);
  return made;
};

/**
 * Points a bound program's non-special input slots at the data's arrays.
 * @example fillInputs(plan.f, d, special)
 */
export const fillInputs = (b: Bound, d: GradientData, special: ReadonlySet<VarNode>): void => {
  for (let i = 0; i < b.vars.length; i++) {
    const v = b.vars[i] as VarNode;
    if (!special.has(v)) b.ins[i] = (inputOf(d, v.name) as F64Tensor).data;
  }
};
