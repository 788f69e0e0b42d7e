/**
 * Reading spec text. `JSON.parse` reports no position on Node 20 and silently keeps the last of
 * two equal keys, so the text is first checked by a small iterative JSON scanner that gives the
 * line and column of the first syntax error, the JSON path it was in, every duplicated key, and
 * stops at the nesting limit before anything is built. Only then is the text parsed.
 */
import * as E from 'fp-ts/lib/Either.js';
import { at, formatSegments, segmentsOf, specError, type Path, type SpecError } from './errors.ts';
import { defaultLimits, type SpecLimits } from './limits.ts';

interface Container {
  readonly kind: 'object' | 'array';
  readonly path: Path;
  readonly keys: Set<string>;
  index: number;
  key: string | undefined;
}

/** What the scanner expects next. */
type Expect = 'value' | 'firstValue' | 'key' | 'firstKey' | 'colon' | 'commaOrEnd';

const expectText: { readonly [K in Expect]: string } = {
  value: 'a value',
  firstValue: "a value or ']'",
  key: 'a key (a string)',
  firstKey: "a key (a string) or '}'",
  colon: "':'",
  commaOrEnd: "',' or the end of the array/object",
};

const numberRe = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const hexRe = /^[0-9a-fA-F]{4}$/;

/** End (exclusive) of the JSON string starting at `i` (a quote), or -1 when it is invalid. */
const stringEnd = (text: string, i: number): number => {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c < 0x20) return -1;
    if (c === 0x5c) {
      const d = text[j + 1];
      if (d === 'u') {
        if (!hexRe.test(text.slice(j + 2, j + 6))) return -1;
        j += 5;
      } else if (d !== undefined && '"\\/bfnrt'.includes(d)) j++;
      else return -1;
    }
  }
  return -1;
};

const badString = 'invalid string (a bad escape, a control character or no closing quote)';

const position = (text: string, offset: number): { line: number; column: number } => {
  let line = 1, start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
};

type SyntaxSpecError = Extract<SpecError, { readonly _tag: 'Syntax' }>;

const syntaxError = (text: string, offset: number, path: Path, what: string): SyntaxSpecError => {
  const { line, column } = position(text, offset);
  const segments = segmentsOf(path);
  return {
    _tag: 'Syntax', path: formatSegments(segments), segments, line, column, offset,
    message: `invalid JSON at line ${line}, column ${column}: ${what}`,
    value: text.slice(offset, offset + 20),
  };
};

const shown = (text: string, i: number): string => {
  const c = text.codePointAt(i);
  return c === undefined ? 'the end of the text' : `'${String.fromCodePoint(c)}'`;
};

/**
 * Checks JSON text without building it: syntax (first error, with line and column), duplicate
 * keys (all of them) and the nesting limit.
 * @example checkJsonText('{"a": }')[0]?.message // "invalid JSON at line 1, column 7: expected a value, got '}'"
 */
export const checkJsonText = (text: string, limits: SpecLimits = defaultLimits): SpecError[] => {
  const errors: SpecError[] = [];
  const stack: Container[] = [];
  let expect: Expect = 'value';
  let i = 0;
  let done = false;
  const here = (): Path => {
    const top = stack[stack.length - 1];
    if (top === undefined) return undefined;
    return top.kind === 'array' ? at(top.path, top.index) : top.key === undefined ? top.path : at(top.path, top.key);
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (done) {
      errors.push(syntaxError(text, i, undefined, `unexpected ${shown(text, i)} after the end of the document`));
      return errors;
    }
    const top = stack[stack.length - 1];
    if (expect === 'colon') {
      if (c !== ':') return [...errors, syntaxError(text, i, here(), `expected ':', got ${shown(text, i)}`)];
      expect = 'value';
      i++;
      continue;
    }
    if (expect === 'commaOrEnd' && top !== undefined) {
      const close = top.kind === 'array' ? ']' : '}';
      if (c === ',') {
        if (top.kind === 'array') top.index++;
        else top.key = undefined;
        expect = top.kind === 'array' ? 'value' : 'key';
        i++;
      } else if (c === close) {
        stack.pop();
        i++;
        expect = 'commaOrEnd';
        done = stack.length === 0;
      } else return [...errors, syntaxError(text, i, here(), `expected ',' or '${close}', got ${shown(text, i)}`)];
      continue;
    }
    if (expect === 'key' || expect === 'firstKey') {
      if (c === '}' && expect === 'firstKey') {
        stack.pop();
        i++;
        expect = 'commaOrEnd';
        done = stack.length === 0;
        continue;
      }
      const end = c === '"' ? stringEnd(text, i) : -1;
      if (end === -1 || top === undefined)
        return [...errors, syntaxError(text, i, here(), c === '"' ? badString : `expected ${expectText[expect]}, got ${shown(text, i)}`)];
      const raw = text.slice(i, end);
      const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      if (top.keys.has(key)) {
        const e = syntaxError(text, i, at(top.path, key), `duplicate key ${JSON.stringify(key)}`);
        errors.push({ ...e, message: `duplicate key ${JSON.stringify(key)} (line ${e.line}, column ${e.column})` });
      }
      top.keys.add(key);
      top.key = key;
      i = end;
      expect = 'colon';
      continue;
    }
    // A value is expected.
    if (c === ']' && expect === 'firstValue' && top !== undefined) {
      stack.pop();
      i++;
      expect = 'commaOrEnd';
      done = stack.length === 0;
      continue;
    }
    if (c === '{' || c === '[') {
      if (stack.length + 1 > limits.maxDepth) {
        errors.push(specError('Limit', here(), `nesting deeper than ${limits.maxDepth} levels`, undefined));
        return errors;
      }
      stack.push({ kind: c === '{' ? 'object' : 'array', path: here(), keys: new Set(), index: 0, key: undefined });
      expect = c === '{' ? 'firstKey' : 'firstValue';
      i++;
      continue;
    }
    numberRe.lastIndex = i;
    const num = c === '-' || (c >= '0' && c <= '9') ? numberRe.exec(text)?.[0].length : undefined;
    const str = c === '"' ? stringEnd(text, i) - i : undefined;
    const lit = ['true', 'false', 'null'].find((w) => text.startsWith(w, i))?.length;
    const len = str !== undefined ? (str > 0 ? str : undefined) : num ?? lit;
    if (len === undefined)
      return [...errors, syntaxError(text, i, here(), c === '"' ? badString : `expected ${expectText[expect]}, got ${shown(text, i)}`)];
    i += len;
    expect = 'commaOrEnd';
    done = stack.length === 0;
  }
  if (!done) errors.push(syntaxError(text, text.length, here(), `unexpected end of the text (expected ${expectText[expect]})`));
  return errors;
};

/**
 * Parses spec text after the length limit and `checkJsonText`; the result is plain JSON data.
 * @example parseJsonText('{"a": [1, 2]}') // right({ a: [1, 2] })
 */
export const parseJsonText = (text: string, limits: SpecLimits = defaultLimits): E.Either<readonly SpecError[], unknown> => {
  if (text.length > limits.maxTextLength)
    return E.left([specError('Limit', undefined, `the text has ${text.length} characters, more than the limit ${limits.maxTextLength}`, undefined)]);
  const errors = checkJsonText(text, limits);
  if (errors.length > 0) return E.left(errors);
  return E.right(JSON.parse(text) as unknown);
};
