/**
 * Encoding specs to JSON in canonical form: every node is written once. Variables are written
 * by name, finite scalars as numbers, `let` names as given, and any other subexpression with
 * more than one parent (or nested deeper than `maxInlineDepth`) is bound to a fresh `let` name
 * `v1`, `v2`, … (skipping taken names). Lets are listed dependencies first. Decoding the
 * result gives the same (interned) nodes, and encoding again gives the same JSON.
 */
import type { Model } from '../model.ts';
import { children, type Node, type VarNode } from '../node.ts';
import { applyAlgebra, freeVars, topoOrder } from '../../interp/traverse.ts';
import { exprFormat, modelFormat, type ExprDoc, type ModelDoc, type RawExpr, type RawTensor, type RawVariable } from './format.ts';
import { encodeRules, isScalarConst } from './opRules.ts';
import { modelSpecOf, type ExprSpec, type ModelSpec, type VariableSpec } from './specTypes.ts';
import { encodeTensor } from './tensorJson.ts';

/** Options of the encoders. */
export interface EncodeOptions {
  /** Parameter values to write: those the document gave (default), all, or none. */
  readonly values?: 'given' | 'all' | 'none';
  /** Subexpressions nested deeper than this many ops get a `let` name (default 32). */
  readonly maxInlineDepth?: number;
}

/** The default of `EncodeOptions.maxInlineDepth`: keeps encodings far below the decoder's depth limit. */
export const defaultMaxInlineDepth = 32;

interface EncodedDag {
  readonly lets: readonly (readonly [string, RawExpr])[];
  readonly refs: readonly RawExpr[];
}

/**
 * Encodes the DAG under `roots` with the user's `let` names; `taken` are names to avoid for
 * fresh lets (the variables).
 * @example encodeDag([f.node], new Map(), new Set(['y']), 32).refs[0]
 */
export const encodeDag = (
  roots: readonly Node[], userLets: ReadonlyMap<string, Node>, taken: ReadonlySet<string>, maxInlineDepth: number,
): EncodedDag => {
  const order = topoOrder([...roots, ...userLets.values()]);
  const parents = new Map<number, number>();
  const bump = (n: Node): void => void parents.set(n.id, (parents.get(n.id) ?? 0) + 1);
  for (const n of order) children(n).forEach(bump);
  roots.forEach(bump);

  const names = new Map<number, string>();
  const aliases = new Map<number, string[]>();
  for (const [name, node] of userLets) {
    if (node.kind !== 'var' && !names.has(node.id)) names.set(node.id, name);
    else aliases.set(node.id, [...(aliases.get(node.id) ?? []), name]);
  }
  const used = new Set([...taken, ...userLets.keys()]);
  let counter = 0;
  const fresh = (): string => {
    let s: string;
    do s = `v${++counter}`; while (used.has(s));
    used.add(s);
    return s;
  };

  const defs = new Map<number, RawExpr>();
  const heights = new Map<number, number>();
  const named = (k: Node): string | undefined => (k.kind === 'var' ? k.name : names.get(k.id));
  const ref = (k: Node): RawExpr => named(k) ?? (defs.get(k.id) as RawExpr);
  for (const n of order) {
    const kids = children(n);
    defs.set(n.id, applyAlgebra(encodeRules, n, kids.map(ref)));
    const h = kids.length === 0 ? (isScalarConst(n) ? 0 : 1)
      : 1 + kids.reduce((m, k) => Math.max(m, named(k) !== undefined ? 0 : (heights.get(k.id) ?? 0)), 0);
    heights.set(n.id, h);
    if (n.kind !== 'var' && !isScalarConst(n) && !names.has(n.id) && ((parents.get(n.id) ?? 0) >= 2 || h > maxInlineDepth))
      names.set(n.id, fresh());
  }

  const lets: (readonly [string, RawExpr])[] = [];
  for (const n of order) {
    const primary = named(n);
    if (n.kind !== 'var' && primary !== undefined) lets.push([primary, defs.get(n.id) as RawExpr]);
    for (const a of aliases.get(n.id) ?? []) if (primary !== undefined) lets.push([a, primary]);
  }
  return { lets, refs: roots.map(ref) };
};

const varName = (n: Node): string => {
  if (n.kind !== 'var') throw new Error('fluxion bug: a checked model has a non-variable state or time');
  return n.name;
};

const rawVariable = (v: VariableSpec): RawVariable => {
  const base = { role: v.node.role, shape: [...v.node.shape] };
  return v.init === undefined ? base : { ...base, init: v.init };
};

/** The declared variables plus any the model or lets use that the spec does not list. */
const allVariables = (declared: readonly VariableSpec[], model: Model | undefined, used: readonly Node[]): VariableSpec[] => {
  const have = new Set<VarNode>(declared.map((v) => v.node));
  const inits = new Map((model?.params ?? []).map((p) => [p.name, p.init]));
  const out = [...declared];
  for (const node of [...(model === undefined ? [] : modelSpecOf(model).variables.map((v) => v.node)), ...freeVars(used)]) {
    if (have.has(node)) continue;
    have.add(node);
    const init = node.role === 'param' ? inits.get(node.name) : undefined;
    out.push(init === undefined ? { node } : { node, init });
  }
  return out;
};

const variablesOf = (vs: readonly VariableSpec[]): Record<string, RawVariable> =>
  Object.fromEntries(vs.map((v) => [v.node.name, rawVariable(v)]));

/**
 * A model spec as a JSON value in canonical form (see the module comment).
 * @example JSON.stringify(encodeModelSpec(decoded)) // the document again, when it was canonical
 */
export const encodeModelSpec = (spec: ModelSpec, opts: EncodeOptions = {}): ModelDoc => {
  const m = spec.model;
  const roots = [m.dynamics.f.node, ...(m.loss === undefined ? [] : [m.loss.value.node])];
  const vars = allVariables(spec.variables, m, [...roots, ...spec.lets.values()]);
  const enc = encodeDag(roots, spec.lets, new Set(vars.map((v) => v.node.name)), opts.maxInlineDepth ?? defaultMaxInlineDepth);
  const which = opts.values ?? 'given';
  const values = which === 'none' ? [] : m.params
    .filter((p) => which === 'all' || spec.givenValues.has(p.name))
    .flatMap((p): [string, RawTensor][] => {
      const v = m.values[p.name];
      return v === undefined ? [] : [[p.name, encodeTensor(v.data, v.shape)]];
    });
  const lossDoc = m.loss === undefined || m.loss.prediction.node.kind !== 'var' ? {}
    : { loss: { prediction: m.loss.prediction.node.name, value: enc.refs[1] as RawExpr } };
  return {
    fluxion: modelFormat,
    name: m.name,
    variables: variablesOf(vars),
    ...(enc.lets.length === 0 ? {} : { let: Object.fromEntries(enc.lets) }),
    dynamics: {
      state: varName(m.dynamics.state.node),
      time: varName(m.dynamics.time.node),
      f: enc.refs[0] as RawExpr,
    },
    ...lossDoc,
    ...(values.length === 0 ? {} : { values: Object.fromEntries(values) }),
    ...(spec.seed === undefined ? {} : { seed: spec.seed }),
  };
};

/**
 * An expression spec as a JSON value in canonical form.
 * @example encodeExprSpec({ variables: [], lets: new Map(), exprs: new Map([['two', C.scalar(2)]]) })
 * // { fluxion: 'expr/1', variables: {}, exprs: { two: 2 } }
 */
export const encodeExprSpec = (spec: ExprSpec, opts: EncodeOptions = {}): ExprDoc => {
  const roots = [...spec.exprs.values()];
  const vars = allVariables(spec.variables, undefined, [...roots, ...spec.lets.values()]);
  const enc = encodeDag(roots, spec.lets, new Set(vars.map((v) => v.node.name)), opts.maxInlineDepth ?? defaultMaxInlineDepth);
  return {
    fluxion: exprFormat,
    variables: variablesOf(vars),
    ...(enc.lets.length === 0 ? {} : { let: Object.fromEntries(enc.lets) }),
    exprs: Object.fromEntries([...spec.exprs.keys()].map((k, i) => [k, enc.refs[i] as RawExpr])),
  };
};
