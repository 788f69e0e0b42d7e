/**
 * The expression decoder: JSON expressions to interned nodes, with an explicit stack (no
 * recursion, so nesting and long `let` chains cannot overflow) and a path at every node.
 * Errors are collected; a failed subexpression makes its parents fail silently (no cascade of
 * follow-on errors) while its siblings are still decoded. `let` bodies are decoded on first
 * use, once, in any order; a reference back into the chain being decoded is a cycle.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../construct.ts';
import type { Node, VarNode } from '../node.ts';
import { at, didYouMean, ioTsErrors, preview, specError, type Path, type SpecError } from './errors.ts';
import { defaultLimits, isPlainObject, ownValue, type SpecLimits } from './limits.ts';
import { opByName, type Builder } from './opRules.ts';

/** The names an expression may use. */
export interface Scope {
  /** Declared variables; `undefined` marks a declaration that failed to decode. */
  readonly vars: ReadonlyMap<string, VarNode | undefined>;
  /** `let` bodies (JSON) in document order. */
  readonly lets: ReadonlyMap<string, unknown>;
  /** Names whose declaration was rejected: references to them fail without a new error. */
  readonly poisoned: ReadonlySet<string>;
}

/** Decodes expressions in one scope, sharing `let` results between calls. */
export interface ExprDecoder {
  /** Decodes one expression found at `path`; `undefined` when it (or a part) failed. */
  readonly expr: (json: unknown, path: Path) => Node | undefined;
  /** Decodes a `let` body by name (once); `undefined` when it failed. */
  readonly letNode: (name: string) => Node | undefined;
  /** True once the node limit was hit; later calls return `undefined` at once. */
  readonly aborted: () => boolean;
}

type Frame =
  | { readonly tag: 'enter'; readonly json: unknown; readonly path: Path }
  | { readonly tag: 'exit'; readonly n: number; readonly build: Builder | undefined; readonly path: Path; readonly json: unknown }
  | { readonly tag: 'letDone'; readonly name: string };

const exprHint = 'an expression (a number, a name, or an object with "op")';

/**
 * A decoder for expressions in `scope`; errors are appended to `errors`.
 * @example
 * const errors: SpecError[] = [];
 * const d = exprDecoder({ vars: new Map([['y', yNode]]), lets: new Map(), poisoned: new Set() }, errors);
 * d.expr({ op: 'tanh', args: ['y'] }, at(undefined, 'f')) // the node tanh(y)
 */
export const exprDecoder = (scope: Scope, errors: SpecError[], limits: SpecLimits = defaultLimits): ExprDecoder => {
  const letResults = new Map<string, Node | undefined>();
  const active: string[] = [];
  let count = 0;
  let stopped = false;
  const names = (): string[] => [...scope.vars.keys(), ...scope.lets.keys()];

  const run = (initial: readonly Frame[]): Node | undefined => {
    const frames: Frame[] = [...initial];
    const values: (Node | undefined)[] = [];
    const enterName = (name: string, path: Path, json: unknown): void => {
      if (scope.vars.has(name)) {
        values.push(scope.vars.get(name));
      } else if (scope.poisoned.has(name)) {
        values.push(undefined);
      } else if (letResults.has(name)) {
        values.push(letResults.get(name));
      } else if (scope.lets.has(name)) {
        const from = active.indexOf(name);
        if (from >= 0) {
          const cycle = [...active.slice(from), name].join(' → ');
          errors.push(specError('Cycle', at(undefined, 'let', name), `cycle ${cycle}`, scope.lets.get(name)));
          values.push(undefined);
          return;
        }
        active.push(name);
        frames.push({ tag: 'letDone', name }, { tag: 'enter', json: scope.lets.get(name), path: at(undefined, 'let', name) });
      } else {
        errors.push(specError('Name', path, `${JSON.stringify(name)} is not a declared variable or let name${didYouMean(name, names())}`, json));
        values.push(undefined);
      }
    };
    const enterOp = (json: Readonly<Record<string, unknown>>, path: Path): void => {
      const op = ownValue(json, 'op');
      const rule = typeof op === 'string' ? opByName.get(op) : undefined;
      let ok = true;
      if (rule === undefined) {
        ok = false;
        const msg = typeof op === 'string'
          ? `unknown op ${JSON.stringify(op)}${didYouMean(op, opByName.keys())}`
          : op === undefined ? `missing: expected an op name ("op": "add", …)` : `expected an op name, got ${preview(op)}`;
        errors.push(specError(typeof op === 'string' ? 'Name' : 'Type', at(path, 'op'), msg, op));
      }
      let build: Builder | undefined;
      if (rule !== undefined) {
        const r = rule.codec.decode(json);
        if (E.isLeft(r)) {
          ok = false;
          errors.push(...ioTsErrors(path, r.left));
        } else build = r.right;
      }
      // `args` is decoded by this walk; an op without arguments (const) has none, and its codec
      // reports an `args` key as unknown. Arguments of an unknown op are still checked.
      const args = ownValue(json, 'args');
      const arity = rule?.arity;
      const argList = Array.isArray(args) && arity !== 0 ? args : [];
      if (arity !== undefined && arity !== 0) {
        const want = arity === 'many' ? 'one or more expressions' : arity === 1 ? '1 expression' : `${arity} expressions`;
        if (!Array.isArray(args)) {
          ok = false;
          errors.push(specError('Type', at(path, 'args'),
            args === undefined ? `missing: expected an array of ${want}` : `expected an array of ${want}, got ${preview(args)}`, args));
        } else if (arity === 'many' ? args.length === 0 : args.length !== arity) {
          ok = false;
          errors.push(specError('Type', at(path, 'args'), `${String(op)} takes ${want}, got ${args.length}`, args));
        }
      }
      frames.push({ tag: 'exit', n: argList.length, build: ok ? build : undefined, path, json });
      for (let i = argList.length - 1; i >= 0; i--) frames.push({ tag: 'enter', json: argList[i], path: at(path, 'args', i) });
    };

    while (frames.length > 0) {
      const f = frames.pop() as Frame;
      switch (f.tag) {
        case 'enter': {
          if (++count > limits.maxExprNodes) {
            errors.push(specError('Limit', f.path, `more than ${limits.maxExprNodes} expression nodes`, undefined));
            stopped = true;
            return undefined;
          }
          const j = f.json;
          if (typeof j === 'number') values.push(C.scalar(j));
          else if (typeof j === 'string') enterName(j, f.path, j);
          else if (isPlainObject(j)) enterOp(j, f.path);
          else {
            errors.push(specError('Type', f.path, `expected ${exprHint}, got ${preview(j)}`, j));
            values.push(undefined);
          }
          break;
        }
        case 'exit': {
          const args = values.splice(values.length - f.n, f.n);
          if (f.build === undefined || args.some((a) => a === undefined)) {
            values.push(undefined);
            break;
          }
          const r = f.build(args as readonly Node[]);
          if (E.isLeft(r)) errors.push(specError('Shape', f.path, r.left, f.json));
          values.push(E.isLeft(r) ? undefined : r.right);
          break;
        }
        case 'letDone': {
          letResults.set(f.name, values[values.length - 1]);
          active.pop();
          break;
        }
      }
    }
    return values[0];
  };

  return {
    expr: (json, path) => (stopped ? undefined : run([{ tag: 'enter', json, path }])),
    letNode: (name) => {
      if (letResults.has(name) || stopped) return letResults.get(name);
      if (!scope.lets.has(name)) return undefined;
      active.push(name);
      return run([{ tag: 'letDone', name }, { tag: 'enter', json: scope.lets.get(name), path: at(undefined, 'let', name) }]);
    },
    aborted: () => stopped,
  };
};
