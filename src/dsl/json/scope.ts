/**
 * The parts every document shares: its top-level fields, the `variables` section, and the
 * `let` section with the expression decoder over both. Each function appends its errors to a
 * shared list and returns what it could decode, so independent problems are all reported.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../construct.ts';
import type { Node, VarNode } from '../node.ts';
import type { Role } from '../ops.ts';
import { isSym } from '../shape.ts';
import { at, didYouMean, ioTsErrors, preview, specError, type Path, type SpecError } from './errors.ts';
import { exprDecoder, type ExprDecoder } from './exprDecode.ts';
import { NameC, VariableC } from './format.ts';
import { isPlainObject, ownValue, type SpecLimits } from './limits.ts';
import type { VariableSpec } from './specTypes.ts';

/** Field name → what it should hold (for "missing" messages). */
export type FieldDocs = Readonly<Record<string, string>>;

/**
 * The own fields of an object, after reporting unknown and missing ones; `undefined` when
 * `u` is not an object. The map only holds the known fields that are present.
 * @example fieldsOf({ state: 'y' }, at(undefined, 'dynamics'), 'dynamics', { state: 'a name', f: 'an expression' }, {}, errors)
 */
export const fieldsOf = (
  u: unknown, path: Path, what: string, required: FieldDocs, optional: FieldDocs, errors: SpecError[],
): ReadonlyMap<string, unknown> | undefined => {
  if (!isPlainObject(u)) {
    errors.push(specError('Type', path, `expected ${what} (an object), got ${preview(u)}`, u));
    return undefined;
  }
  const known = [...Object.keys(required), ...Object.keys(optional)];
  const out = new Map<string, unknown>();
  for (const k of Object.keys(u)) {
    if (known.includes(k)) out.set(k, ownValue(u, k));
    else errors.push(specError('Type', at(path, k), `unknown property ${JSON.stringify(k)}${didYouMean(k, known) || ` in ${what}`}`, ownValue(u, k)));
  }
  for (const [k, doc] of Object.entries(required))
    if (!out.has(k)) errors.push(specError('Type', at(path, k), `missing: expected ${doc}`, undefined));
  return out;
};

/**
 * The keys and values of a JSON object section (`variables`, `let`, `values`, `exprs`), checked to be an object.
 * @example entriesOf({ h: 'y' }, at(undefined, 'let'), 'let bindings', errors) // [['h', 'y']]
 */
export const entriesOf = (u: unknown, path: Path, what: string, errors: SpecError[]): [string, unknown][] | undefined => {
  if (!isPlainObject(u)) {
    errors.push(specError('Type', path, `expected ${what} (an object), got ${preview(u)}`, u));
    return undefined;
  }
  return Object.keys(u).map((k) => [k, ownValue(u, k)]);
};

/** Reports a name that is not an identifier; true when the name is fine. @example checkName('2fast', path, errors) // false */
export const checkName = (name: string, path: Path, errors: SpecError[]): boolean => {
  if (NameC.is(name)) return true;
  errors.push(specError('Name', path, `${JSON.stringify(name)} is not a valid name (letters, digits and _, not starting with a digit)`, name));
  return false;
};

/** The decoded `variables` section. */
export interface DecodedVariables {
  /** Every declared name; `undefined` for declarations that failed. */
  readonly vars: ReadonlyMap<string, VarNode | undefined>;
  /** The declarations that decoded, in document order. */
  readonly specs: readonly VariableSpec[];
}

/**
 * Decodes the `variables` section: each entry `{ role, shape, init? }`; parameter shapes must be
 * numeric and only parameters take an `init`.
 * @example decodeVariables({ y: { role: 'state', shape: ['batch', 2] } }, at(undefined, 'variables'), errors)
 */
export const decodeVariables = (u: unknown, path: Path, errors: SpecError[]): DecodedVariables => {
  const vars = new Map<string, VarNode | undefined>();
  const specs: VariableSpec[] = [];
  for (const [name, decl] of u === undefined ? [] : entriesOf(u, path, 'variable declarations', errors) ?? []) {
    const p = at(path, name);
    vars.set(name, undefined);
    if (!checkName(name, p, errors)) continue;
    const r = VariableC.decode(decl);
    if (E.isLeft(r)) {
      errors.push(...ioTsErrors(p, r.left));
      continue;
    }
    const { role, shape, init } = r.right;
    let ok = true;
    if (role === 'param' && shape.some(isSym)) {
      errors.push(specError('Type', at(p, 'shape'), `a parameter's shape must be numeric, got [${shape.join(',')}]`, shape));
      ok = false;
    }
    if (init !== undefined && role !== 'param') {
      errors.push(specError('Type', at(p, 'init'), `only parameters take an init (${name} has role ${role})`, init));
      ok = false;
    }
    const node = C.variable(name, role, shape);
    if (E.isLeft(node)) errors.push(specError('Name', p, node.left, decl));
    if (!ok || E.isLeft(node)) continue;
    vars.set(name, node.right);
    specs.push(init === undefined ? { node: node.right } : { node: node.right, init });
  }
  return { vars, specs };
};

/** The decoded `let` section and the expression decoder of the document. */
export interface DecodedScope {
  readonly decoder: ExprDecoder;
  /** The `let` bindings that decoded, in document order. */
  readonly lets: ReadonlyMap<string, Node>;
}

/**
 * Decodes the `let` section (every body, in document order) and returns the decoder for the
 * document's other expressions. A let name that is also a variable is an error.
 * @example decodeLets({ y3: { op: 'mul', args: ['y2', 'y'] }, y2: { op: 'mul', args: ['y', 'y'] } }, vars, errors, limits)
 */
export const decodeLets = (
  u: unknown, variables: DecodedVariables, errors: SpecError[], limits: SpecLimits,
): DecodedScope => {
  const path = at(undefined, 'let');
  const bodies = new Map<string, unknown>();
  const poisoned = new Set<string>();
  for (const [name, body] of u === undefined ? [] : entriesOf(u, path, 'let bindings', errors) ?? []) {
    if (!checkName(name, at(path, name), errors)) poisoned.add(name);
    else if (variables.vars.has(name)) {
      errors.push(specError('Name', at(path, name), `${name} is declared both as a variable and as a let name`, body));
      poisoned.add(name);
    } else bodies.set(name, body);
  }
  const decoder = exprDecoder({ vars: variables.vars, lets: bodies, poisoned }, errors, limits);
  const lets = new Map<string, Node>();
  for (const name of bodies.keys()) {
    const n = decoder.letNode(name);
    if (n !== undefined) lets.set(name, n);
  }
  return { decoder, lets };
};

/**
 * Resolves a field that must name a declared variable of one of `roles`; `undefined` (with an
 * error unless the declaration itself failed) otherwise.
 * @example varRef('y', at(undefined, 'dynamics', 'state'), ['state'], vars, errors)
 */
export const varRef = (
  u: unknown, path: Path, roles: readonly Role[], variables: DecodedVariables, errors: SpecError[],
): VarNode | undefined => {
  if (u === undefined) return undefined;
  const want = `a variable with role ${roles.join(' or ')}`;
  if (typeof u !== 'string') {
    errors.push(specError('Type', path, `expected the name of ${want}, got ${preview(u)}`, u));
    return undefined;
  }
  if (!variables.vars.has(u)) {
    errors.push(specError('Name', path, `${JSON.stringify(u)} is not a declared variable${didYouMean(u, variables.vars.keys())}`, u));
    return undefined;
  }
  const v = variables.vars.get(u);
  if (v !== undefined && !roles.includes(v.role)) {
    errors.push(specError('Name', path, `${u} has role ${v.role}; expected ${want}`, u));
    return undefined;
  }
  return v;
};
