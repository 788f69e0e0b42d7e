/** Reading spec and value files at the CLI edge, with errors that name the file and JSON path. */
import * as E from 'fp-ts/lib/Either.js';
import { formatSpecError, parseModelSpec, parseSpec, type AnySpec, type ModelSpec } from '../dsl/json/index.ts';
import { fromNested, type F64Tensor } from '../interp/tensor.ts';
import { fail, readText, type CliError } from './io.ts';

const specErrors = (path: string, es: readonly { readonly path: string; readonly message: string }[] | readonly Parameters<typeof formatSpecError>[0][]): CliError =>
  fail(es.map((e) => `${path}: ${formatSpecError(e as Parameters<typeof formatSpecError>[0])}`).join('\n'));

/**
 * Reads and decodes a model or expression spec; every error is one line `FILE: path: message`.
 * @example await loadSpec('examples/specs/spiral.json')
 */
export const loadSpec = async (path: string): Promise<E.Either<CliError, AnySpec>> => {
  const text = await readText(path);
  if (E.isLeft(text)) return text;
  const r = parseSpec(text.right);
  return E.isLeft(r) ? E.left(specErrors(path, r.left)) : E.right(r.right);
};

/**
 * Reads and decodes a model spec (an expression document is an error naming the file).
 * @example await loadModelSpec('examples/specs/spiral.json')
 */
export const loadModelSpec = async (path: string): Promise<E.Either<CliError, ModelSpec>> => {
  const text = await readText(path);
  if (E.isLeft(text)) return text;
  const r = parseModelSpec(text.right);
  return E.isLeft(r) ? E.left(specErrors(path, r.left)) : E.right(r.right);
};

/**
 * Reads a JSON file; unreadable files and invalid JSON are one-line errors naming the file.
 * @example await readJson('examples/data/spiral.json')
 */
export const readJson = async (path: string): Promise<E.Either<CliError, unknown>> => {
  const text = await readText(path);
  if (E.isLeft(text)) return text;
  try {
    return E.right(JSON.parse(text.right) as unknown);
  } catch (e) {
    return E.left(fail(`${path}: invalid JSON (${e instanceof Error ? e.message : 'parse error'})`));
  }
};

/**
 * Reads a JSON object of named tensors (nested arrays or numbers), e.g. `{"y": [[2, 0]], "t": 0}`.
 * @example await loadValues('inputs.json')
 */
export const loadValues = async (path: string): Promise<E.Either<CliError, Readonly<Record<string, F64Tensor>>>> => {
  const parsed = await readJson(path);
  if (E.isLeft(parsed)) return parsed;
  const json = parsed.right;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return E.left(fail(`${path}: expected an object of named values, e.g. {"y": [[2, 0]]}`));
  const out: Record<string, F64Tensor> = Object.create(null) as Record<string, F64Tensor>;
  const errors: string[] = [];
  for (const [k, v] of Object.entries(json)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') {
      errors.push(`${path}: ${k}: reserved name`);
      continue;
    }
    const t = fromNested(v);
    if (t === undefined) errors.push(`${path}: ${k}: expected a number or a rectangular nested array of numbers`);
    else out[k] = t;
  }
  return errors.length > 0 ? E.left(fail(errors.join('\n'))) : E.right(out);
};
