/**
 * The CLI's edge: reading files and arguments into values, and turning every expected failure
 * into one line for the user. Nothing here throws for a user error.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';

/** A user error: printed as one line, exit code 1 (2 for usage errors). */
export interface CliError {
  readonly message: string;
  readonly usage?: boolean;
}

/** What a command produced: text for stdout. */
export type CliResult = E.Either<CliError, string>;

/** A user error. @example fail('spec.json: dynamics.f: unknown op "tanhh"') */
export const fail = (message: string, usage = false): CliError => (usage ? { message, usage } : { message });

/**
 * Reads a text file; a missing or unreadable file is a user error naming it.
 * @example await readText('spec.json')
 */
export const readText = async (path: string): Promise<E.Either<CliError, string>> => {
  try {
    return E.right(await readFile(path, 'utf8'));
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : 'error';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : code;
    return E.left(fail(`${path}: cannot read (${why})`));
  }
};

/** Parsed options of one command. */
export type Parsed<C extends ParseArgsConfig> = ReturnType<typeof parseArgs<C>>;

/**
 * Strict argument parsing; unknown flags and missing values become one-line usage errors.
 * @example parse(['spec.json', '--latex'], { options: { latex: { type: 'boolean' } }, allowPositionals: true })
 */
export const parse = <C extends ParseArgsConfig>(args: readonly string[], config: C): E.Either<CliError, Parsed<C>> => {
  try {
    // `config` must already say `strict` is on (the default); the args are ours.
    return E.right(parseArgs<C>({ ...config, args: [...args] }));
  } catch (e) {
    return E.left(fail(e instanceof Error ? e.message.split('\n')[0] ?? 'bad arguments' : 'bad arguments', true));
  }
};

/**
 * Parses a command that takes exactly one spec file and flags: the file, and the flags' values.
 * @example parseWithSpec(['spec.json', '--latex'], { latex: { type: 'boolean' } }) // right({ file: 'spec.json', values: { latex: true } })
 */
export const parseWithSpec = <O extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[], options: O,
): E.Either<CliError, { readonly file: string; readonly values: Parsed<{ options: O; allowPositionals: true }>['values'] }> => {
  const p = parse(args, { options, allowPositionals: true });
  if (E.isLeft(p)) return p;
  const [file, ...extra] = p.right.positionals;
  if (file === undefined || extra.length > 0) return E.left(fail('give exactly one spec file', true));
  return E.right({ file, values: p.right.values });
};

/**
 * Parses a comma-separated list of finite numbers (for `--ts 0,0.5,1`).
 * @example parseNumberList('--ts', '0,0.5,1') // right([0, 0.5, 1])
 */
export const parseNumberList = (flag: string, s: string): E.Either<CliError, number[]> => {
  const parts = s.split(',').map((p) => p.trim());
  const out: number[] = [];
  for (const p of parts) {
    const v = Number(p);
    if (p === '' || !Number.isFinite(v)) return E.left(fail(`${flag}: ${JSON.stringify(p)} is not a number`, true));
    out.push(v);
  }
  return E.right(out);
};

/**
 * Parses one finite number flag.
 * @example parseNumber('--rtol', '1e-7') // right(1e-7)
 */
export const parseNumber = (flag: string, s: string): E.Either<CliError, number> => {
  const v = Number(s);
  return s.trim() !== '' && Number.isFinite(v) ? E.right(v) : E.left(fail(`${flag}: ${JSON.stringify(s)} is not a number`, true));
};
