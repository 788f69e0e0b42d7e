/**
 * What decoding a spec produces: a `ModelSpec` (the checked `Model` plus what the document
 * said that a `Model` does not keep — declaration order, initializers, `let` names, the seed,
 * which values were given) or an `ExprSpec` (named expressions, for printing and evaluating).
 * Encoding takes the same values back to JSON.
 */
import type { Node, VarNode } from '../node.ts';
import type { Model } from '../model.ts';
import type { Initializer } from '../params.ts';

/** A declared variable, with the initializer the document gave (parameters only). */
export interface VariableSpec {
  readonly node: VarNode;
  readonly init?: Initializer;
}

/** A decoded model document. */
export interface ModelSpec {
  readonly model: Model;
  /** Every declared variable in document order, used or not. */
  readonly variables: readonly VariableSpec[];
  /** The `let` names, in document order (several names may share a node). */
  readonly lets: ReadonlyMap<string, Node>;
  readonly seed?: number;
  /** Parameters whose values the document gave in `values` (the others were drawn). */
  readonly givenValues: ReadonlySet<string>;
}

/** A decoded expression document: named expressions over declared variables. */
export interface ExprSpec {
  readonly variables: readonly VariableSpec[];
  readonly lets: ReadonlyMap<string, Node>;
  /** The named expressions, in document order. */
  readonly exprs: ReadonlyMap<string, Node>;
}

/** Either kind of document. */
export type AnySpec =
  | { readonly kind: 'model'; readonly spec: ModelSpec }
  | { readonly kind: 'expr'; readonly spec: ExprSpec };

const uniqueVars = (nodes: readonly VarNode[]): VarNode[] => [...new Set(nodes)];

/**
 * The spec of a model built in TypeScript: variables in the order state, time, parameters,
 * dynamics inputs, prediction, loss inputs; parameters keep their initializers.
 * @example encodeModelSpec(modelSpecOf(spiralModel(), { lets: new Map([['y3', y3.node]]) }))
 */
export const modelSpecOf = (model: Model, opts: {
  readonly lets?: ReadonlyMap<string, Node>;
  readonly seed?: number;
  /** Mark every parameter's values as given, so encoding writes them. */
  readonly withValues?: boolean;
} = {}): ModelSpec => {
  const d = model.dynamics;
  const asVar = (n: Node): VarNode[] => (n.kind === 'var' ? [n] : []);
  const nodes = uniqueVars([
    ...asVar(d.state.node), ...asVar(d.time.node), ...model.params.map((p) => p.expr.node).flatMap(asVar),
    ...d.inputs, ...(model.loss === undefined ? [] : [...asVar(model.loss.prediction.node), ...model.loss.inputs]),
  ]);
  const inits = new Map(model.params.map((p) => [p.name, p.init]));
  const variables = nodes.map((node): VariableSpec => {
    const init = node.role === 'param' ? inits.get(node.name) : undefined;
    return init === undefined ? { node } : { node, init };
  });
  const base = {
    model, variables, lets: opts.lets ?? new Map<string, Node>(),
    givenValues: new Set(opts.withValues === true ? model.params.map((p) => p.name) : []),
  };
  return opts.seed === undefined ? base : { ...base, seed: opts.seed };
};

/**
 * A model's expressions as an expression document (`f`, and `loss` when there is one), so a
 * model spec can be printed and evaluated like any other.
 * @example [...exprSpecOfModel(spec).exprs.keys()] // ['f', 'loss']
 */
export const exprSpecOfModel = (spec: ModelSpec): ExprSpec => {
  const exprs = new Map<string, Node>([['f', spec.model.dynamics.f.node]]);
  if (spec.model.loss !== undefined) exprs.set('loss', spec.model.loss.value.node);
  return { variables: spec.variables, lets: spec.lets, exprs };
};
