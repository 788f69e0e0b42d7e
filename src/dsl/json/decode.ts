/**
 * Decoding spec documents. Untrusted input goes through three stages: the text checks
 * (length, syntax with line and column, duplicate keys, nesting — `parse*` only), the safety
 * scan (limits, forbidden keys, non-JSON values), then decoding proper, which collects every
 * error with its path. Nothing from a spec is ever evaluated as code.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../expr.ts';
import { makeDynamics, makeLoss, makeModel, type Model } from '../model.ts';
import type { Node, VarNode } from '../node.ts';
import { param, type ParamDecl } from '../params.ts';
import { formatShape, shapeEq } from '../shape.ts';
import type { F64Tensor } from '../../interp/tensor.ts';
import { freeVars } from '../../interp/traverse.ts';
import { at, dedupeErrors, ioTsErrors, preview, specError, type Path, type SpecError } from './errors.ts';
import { exprFormat, modelFormat, SeedC, StringC } from './format.ts';
import { defaultLimits, isPlainObject, ownValue, scanValue, type SpecLimits } from './limits.ts';
import type { ExprDecoder } from './exprDecode.ts';
import { checkName, decodeLets, decodeVariables, entriesOf, fieldsOf, varRef, type DecodedVariables } from './scope.ts';
import type { AnySpec, ExprSpec, ModelSpec } from './specTypes.ts';
import { parseJsonText } from './syntax.ts';
import { TensorC } from './tensorJson.ts';

const root: Path = undefined;
const topFields = {
  model: {
    required: { fluxion: `"${modelFormat}"`, name: 'a string', variables: 'variable declarations', dynamics: '{"state", "time", "f"}' },
    optional: { let: 'let bindings', loss: '{"prediction", "value"}', values: 'parameter values', seed: 'a seed' },
  },
  expr: {
    required: { fluxion: `"${exprFormat}"`, variables: 'variable declarations', exprs: 'named expressions' },
    optional: { let: 'let bindings' },
  },
} as const;

const checkFormat = (u: unknown, want: string, errors: SpecError[]): boolean => {
  if (u === want || u === undefined) return u === want;
  errors.push(specError('Type', at(root, 'fluxion'), `expected ${JSON.stringify(want)}, got ${preview(u)}`, u));
  return false;
};

/** Checks f's shape and that it uses no other state or time variable than the dynamics'. */
const checkF = (f: Node, state: VarNode, time: VarNode, errors: SpecError[]): boolean => {
  const path = at(root, 'dynamics', 'f');
  const before = errors.length;
  if (!shapeEq(f.shape, state.shape))
    errors.push(specError('Model', path, `f has shape ${formatShape(f.shape)} but the state ${state.name} has shape ${formatShape(state.shape)}`, undefined));
  for (const v of freeVars([f])) {
    if (v.role === 'state' && v !== state)
      errors.push(specError('Model', path, `f uses the state variable ${v.name}, but the dynamics state is ${state.name}`, undefined));
    if (v.role === 'time' && v !== time)
      errors.push(specError('Model', path, `f uses the time variable ${v.name}, but the dynamics time is ${time.name}`, undefined));
  }
  return errors.length === before;
};

/** Checks the prediction is a trajectory of the state and the loss a scalar of no state or time. */
const checkLoss = (pred: VarNode, value: Node, state: VarNode | undefined, errors: SpecError[]): boolean => {
  const before = errors.length;
  if (state !== undefined && !(pred.shape.length === state.shape.length + 1 && shapeEq(pred.shape.slice(1), state.shape)))
    errors.push(specError('Model', at(root, 'loss', 'prediction'), `${pred.name} has shape ${formatShape(pred.shape)}, but a trajectory of the state ${state.name} ${formatShape(state.shape)} has shape [T,${state.shape.join(',')}]`, pred.name));
  const vpath = at(root, 'loss', 'value');
  if (value.shape.length !== 0)
    errors.push(specError('Model', vpath, `the loss must be a scalar, got shape ${formatShape(value.shape)}`, undefined));
  for (const v of freeVars([value]))
    if (v.role === 'state' || v.role === 'time')
      errors.push(specError('Model', vpath, `the loss uses the ${v.role} variable ${v.name}; it sees the solution only through the prediction ${pred.name}`, undefined));
  return errors.length === before;
};

/** Decodes `values`: each a declared parameter's tensor of the declared shape. */
const decodeValues = (u: unknown, variables: DecodedVariables, errors: SpecError[]): { values: Map<string, F64Tensor>; mentioned: Set<string> } => {
  const values = new Map<string, F64Tensor>();
  const mentioned = new Set<string>();
  const path = at(root, 'values');
  for (const [name, raw] of u === undefined ? [] : entriesOf(u, path, 'parameter values', errors) ?? []) {
    const p = at(path, name);
    mentioned.add(name);
    const v = varRef(name, p, ['param'], variables, errors);
    if (v === undefined) continue;
    const r = TensorC.decode(raw);
    if (E.isLeft(r)) errors.push(...ioTsErrors(p, r.left));
    else if (!shapeEq(r.right.shape, v.shape))
      errors.push(specError('Model', p, `values of shape [${r.right.shape.join(',')}] for parameter ${name} declared ${formatShape(v.shape)}`, raw));
    else values.set(name, { shape: v.shape as readonly number[], data: r.right.data });
  }
  return { values, mentioned };
};

const modelError = (msg: string): SpecError[] => [specError('Model', root, msg, undefined)];

/** The decoded `dynamics` section; the fields are undefined when they failed (with an error). */
const dynamicsPart = (u: unknown, variables: DecodedVariables, decoder: ExprDecoder, errors: SpecError[]) => {
  const path = at(root, 'dynamics');
  const dyn = u === undefined ? undefined
    : fieldsOf(u, path, 'dynamics', { state: 'the state variable', time: 'the time variable', f: 'an expression' }, {}, errors);
  const state = varRef(dyn?.get('state'), at(path, 'state'), ['state'], variables, errors);
  const time = varRef(dyn?.get('time'), at(path, 'time'), ['time'], variables, errors);
  const f = dyn?.has('f') === true ? decoder.expr(dyn.get('f'), at(path, 'f')) : undefined;
  return f !== undefined && state !== undefined && time !== undefined && checkF(f, state, time, errors)
    ? { state, time, f } : undefined;
};

/** The decoded `loss` section: `null` when there is none, `undefined` when it failed. */
const lossPart = (u: unknown, state: VarNode | undefined, variables: DecodedVariables, decoder: ExprDecoder, errors: SpecError[]) => {
  if (u === undefined) return null;
  const path = at(root, 'loss');
  const lo = fieldsOf(u, path, 'a loss', { prediction: 'the prediction variable', value: 'an expression' }, {}, errors);
  const prediction = varRef(lo?.get('prediction'), at(path, 'prediction'), ['input'], variables, errors);
  const value = lo?.has('value') === true ? decoder.expr(lo.get('value'), at(path, 'value')) : undefined;
  return prediction !== undefined && value !== undefined && checkLoss(prediction, value, state, errors)
    ? { prediction, value } : undefined;
};

/** Builds the model from checked parts: parameters used only by the loss belong to the loss. */
const assemble = (
  name: string, variables: DecodedVariables, dyn: { state: VarNode; time: VarNode; f: Node },
  lo: { prediction: VarNode; value: Node } | null, values: ReadonlyMap<string, F64Tensor>, seed: number | undefined,
): E.Either<readonly SpecError[], Model> => {
  const params = variables.specs.filter((v) => v.node.role === 'param')
    // Parameter shapes were checked to be numeric.
    .map((v): ParamDecl => param(v.node.name, v.node.shape as readonly number[], v.init ?? { kind: 'zeros' }));
  const inF = new Set<Node>(freeVars([dyn.f]));
  const inLoss = new Set<Node>(lo === null ? [] : freeVars([lo.value]));
  const dynamics = makeDynamics({
    state: X.lift(dyn.state), time: X.wrap(dyn.time, []), f: X.lift(dyn.f),
    params: params.filter((p) => inF.has(p.expr.node) || !inLoss.has(p.expr.node)),
  });
  if (E.isLeft(dynamics)) return E.left(modelError(dynamics.left));
  const base = { name, dynamics: dynamics.right, values: Object.fromEntries(values), ...(seed === undefined ? {} : { seed }) };
  if (lo === null) return E.mapLeft(modelError)(makeModel(base));
  const loss = makeLoss({ prediction: X.lift(lo.prediction), value: X.wrap(lo.value, []), params: params.filter((p) => inLoss.has(p.expr.node)) });
  if (E.isLeft(loss)) return E.left(modelError(loss.left));
  return E.mapLeft(modelError)(makeModel({ ...base, loss: loss.right }));
};

/**
 * Decodes a model document (already parsed JSON) into a checked model, collecting every error.
 * @example
 * const r = decodeModelSpec(JSON.parse(fs.readFileSync('examples/specs/spiral.json', 'utf8')));
 * if (E.isLeft(r)) console.error(formatSpecErrors(r.left)); else r.right.model.dynamics.f
 */
export const decodeModelSpec = (json: unknown, limits: SpecLimits = defaultLimits): E.Either<readonly SpecError[], ModelSpec> => {
  const unsafe = scanValue(json, limits);
  if (unsafe.length > 0) return E.left(unsafe);
  const errors: SpecError[] = [];
  const top = fieldsOf(json, root, 'a model spec', topFields.model.required, topFields.model.optional, errors);
  if (top === undefined || !checkFormat(top.get('fluxion'), modelFormat, errors)) return E.left(errors);
  const name = top.get('name');
  if (name !== undefined && !StringC.is(name)) errors.push(specError('Type', at(root, 'name'), `expected a string, got ${preview(name)}`, name));
  const variables = decodeVariables(top.get('variables'), at(root, 'variables'), errors);
  const { decoder, lets } = decodeLets(top.get('let'), variables, errors, limits);
  const dyn = dynamicsPart(top.get('dynamics'), variables, decoder, errors);
  const lo = lossPart(top.get('loss'), dyn?.state, variables, decoder, errors);
  const { values, mentioned } = decodeValues(top.get('values'), variables, errors);
  for (const v of variables.specs)
    if (v.node.role === 'param' && v.init === undefined && !mentioned.has(v.node.name))
      errors.push(specError('Model', at(root, 'variables', v.node.name), `parameter ${v.node.name} needs an "init" or an entry in "values"`, undefined));
  const seed = top.get('seed');
  if (seed !== undefined && !SeedC.is(seed)) errors.push(specError('Type', at(root, 'seed'), `expected ${SeedC.name}, got ${preview(seed)}`, seed));

  if (errors.length > 0 || typeof name !== 'string' || dyn === undefined || lo === undefined || (seed !== undefined && !SeedC.is(seed)))
    return E.left(dedupeErrors(errors.length > 0 ? errors : modelError('the model could not be decoded')));
  const model = assemble(name, variables, dyn, lo, values, seed);
  if (E.isLeft(model)) return model;
  const spec = { model: model.right, variables: variables.specs, lets, givenValues: new Set(values.keys()) };
  return E.right(seed === undefined ? spec : { ...spec, seed });
};

/**
 * Decodes an expression document: variables, lets and one or more named `exprs`.
 * @example decodeExprSpec({ fluxion: 'expr/1', variables: { x: { role: 'input', shape: [3] } }, exprs: { y: { op: 'exp', args: ['x'] } } })
 */
export const decodeExprSpec = (json: unknown, limits: SpecLimits = defaultLimits): E.Either<readonly SpecError[], ExprSpec> => {
  const unsafe = scanValue(json, limits);
  if (unsafe.length > 0) return E.left(unsafe);
  const errors: SpecError[] = [];
  const top = fieldsOf(json, root, 'an expression spec', topFields.expr.required, topFields.expr.optional, errors);
  if (top === undefined || !checkFormat(top.get('fluxion'), exprFormat, errors)) return E.left(errors);
  const variables = decodeVariables(top.get('variables'), at(root, 'variables'), errors);
  const { decoder, lets } = decodeLets(top.get('let'), variables, errors, limits);
  const exprs = new Map<string, Node>();
  const entries = top.has('exprs') ? entriesOf(top.get('exprs'), at(root, 'exprs'), 'named expressions', errors) : undefined;
  if (entries !== undefined && entries.length === 0)
    errors.push(specError('Type', at(root, 'exprs'), 'expected at least one named expression', {}));
  for (const [name, body] of entries ?? []) {
    const p = at(root, 'exprs', name);
    if (!checkName(name, p, errors)) continue;
    const n = decoder.expr(body, p);
    if (n !== undefined) exprs.set(name, n);
  }
  return errors.length > 0 ? E.left(dedupeErrors(errors)) : E.right({ variables: variables.specs, lets, exprs });
};

/**
 * Decodes either kind of document, chosen by its `"fluxion"` tag.
 * @example decodeSpec(json) // right({ kind: 'model', spec }) for a "model/1" document
 */
export const decodeSpec = (json: unknown, limits: SpecLimits = defaultLimits): E.Either<readonly SpecError[], AnySpec> => {
  const tag = isPlainObject(json) ? ownValue(json, 'fluxion') : undefined;
  if (tag === modelFormat) return E.map((spec: ModelSpec): AnySpec => ({ kind: 'model', spec }))(decodeModelSpec(json, limits));
  if (tag === exprFormat) return E.map((spec: ExprSpec): AnySpec => ({ kind: 'expr', spec }))(decodeExprSpec(json, limits));
  const unsafe = scanValue(json, limits);
  if (unsafe.length > 0) return E.left(unsafe);
  return E.left([isPlainObject(json)
    ? specError('Type', at(root, 'fluxion'), `expected "${modelFormat}" or "${exprFormat}", got ${preview(tag)}`, tag)
    : specError('Type', root, `expected a spec (an object with "fluxion"), got ${preview(json)}`, json)]);
};

/**
 * Parses and decodes a model spec's text; invalid JSON is reported with line and column.
 * @example parseModelSpec(fs.readFileSync('examples/specs/spiral.json', 'utf8'))
 */
export const parseModelSpec = (text: string, limits: SpecLimits = defaultLimits): E.Either<readonly SpecError[], ModelSpec> =>
  E.chain((json: unknown) => decodeModelSpec(json, limits))(parseJsonText(text, limits));

/** Parses and decodes an expression spec's text. @example parseExprSpec('{"fluxion": "expr/1", …}') */
export const parseExprSpec = (text: string, limits: SpecLimits = defaultLimits): E.Either<readonly SpecError[], ExprSpec> =>
  E.chain((json: unknown) => decodeExprSpec(json, limits))(parseJsonText(text, limits));

/** Parses and decodes either kind of spec. @example parseSpec(text) // right({ kind: 'expr', spec }) */
export const parseSpec = (text: string, limits: SpecLimits = defaultLimits): E.Either<readonly SpecError[], AnySpec> =>
  E.chain((json: unknown) => decodeSpec(json, limits))(parseJsonText(text, limits));
