/**
 * Saving and loading checkpoints without losing anything, and without ever leaving a half-written
 * file at the target path.
 *
 * `saveCheckpoint` writes atomically: it encodes the checkpoint (refusing what would not load
 * back), writes the JSON to a fresh temporary file in the target's directory
 * (`.<name>.<pid>.<random>.tmp`), fsyncs it, renames it over the target and fsyncs the directory.
 * A reader, or a process killed at any moment, therefore sees either the previous complete file
 * or the new complete one. A writer killed mid-save leaves its temporary file behind; loading never
 * looks at temporary files, and the next save to the same target deletes those whose writer
 * process is no longer running (a live process's file, e.g. a concurrent save, is left alone).
 *
 * The fsyncs make the new file durable across power loss on file systems that honour them; on
 * Windows the directory fsync is skipped (not supported there).
 *
 * The document format and the exact-number rules are in `checkpointCodec.ts`.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint, type Issue } from './checkpointCodec.ts';

export { checkpointFormat, checkpointIssues, checkpointVersion, decodeCheckpoint, encodeCheckpoint, jsonIssues } from './checkpointCodec.ts';
export type { Checkpoint, Issue, Json, Metrics } from './checkpointCodec.ts';

/** Why a checkpoint could not be saved or loaded. `file` is the path as given. */
export type CheckpointError =
  /** A file-system call failed (`code` is Node's error code, e.g. `ENOENT`, `ENOSPC`). */
  | { readonly _tag: 'Io'; readonly file: string; readonly op: string; readonly code: string | undefined; readonly message: string }
  /** The file is empty, not UTF-8, or not JSON (e.g. truncated by a copy or a full disk). */
  | { readonly _tag: 'Corrupt'; readonly file: string; readonly reason: string }
  /** The file is a checkpoint of a format version this code does not read. */
  | { readonly _tag: 'UnknownVersion'; readonly file: string; readonly version: unknown }
  /** The document has the wrong structure (on load), or the checkpoint cannot be stored exactly (on save). */
  | { readonly _tag: 'Invalid'; readonly file: string; readonly stage: 'save' | 'load'; readonly issues: readonly Issue[] };

const MAX_LISTED = 20;

/**
 * A message naming the file and saying what is wrong; structural problems are listed one per
 * line with their JSON paths (the first 20, then a count).
 * @example formatCheckpointError({ _tag: 'Corrupt', file: 'run/ckpt.json', reason: 'the file is empty' })
 * // 'checkpoint run/ckpt.json is corrupt: the file is empty'
 */
export const formatCheckpointError = (e: CheckpointError): string => {
  switch (e._tag) {
    case 'Io':
      return e.code === 'ENOENT' && e.op === 'read' ? `no checkpoint at ${e.file}` : `cannot ${e.op} for checkpoint ${e.file}: ${e.message}`;
    case 'Corrupt': return `checkpoint ${e.file} is corrupt: ${e.reason}`;
    case 'UnknownVersion':
      return `checkpoint ${e.file} has format version ${JSON.stringify(e.version) ?? String(e.version)}, but this Fluxion reads version 1 only`;
    case 'Invalid': {
      const head = e.stage === 'load' ? `checkpoint ${e.file} is not valid:` : `not saving checkpoint ${e.file}: it cannot be stored exactly:`;
      const lines = e.issues.slice(0, MAX_LISTED).map((i) => `  ${i.path}: ${i.message}`);
      const more = e.issues.length > MAX_LISTED ? [`  … and ${e.issues.length - MAX_LISTED} more`] : [];
      return [head, ...lines, ...more].join('\n');
    }
  }
};

const ioError = (file: string, op: string, err: unknown): CheckpointError => ({
  _tag: 'Io', file, op,
  code: typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined,
  message: err instanceof Error ? err.message : String(err),
});

/** Runs one file-system call, turning its rejection into a value. */
const attempt = async <A>(file: string, op: string, f: () => Promise<A>): Promise<E.Either<CheckpointError, A>> => {
  try {
    return E.right(await f());
  } catch (err) {
    return E.left(ioError(file, op, err));
  }
};

const tempPrefix = (base: string): string => `.${base}.`;
const tempRe = /^(\d+)\.[0-9a-f]+\.tmp$/;

/** Whether a process id is running (or exists but is not ours to signal). */
const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return typeof err === 'object' && err !== null && 'code' in err && err.code === 'EPERM';
  }
};

/**
 * Temporary files of earlier saves to `file` whose writer process is gone (best effort: a file
 * that cannot be listed or deleted is left alone). Returns the names deleted.
 */
const removeStaleTemps = async (dir: string, base: string): Promise<readonly string[]> => {
  const names = await readdir(dir).catch((): string[] => []);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(tempPrefix(base))) continue;
    const m = tempRe.exec(name.slice(tempPrefix(base).length));
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isRunning(pid)) continue;
    if (await unlink(join(dir, name)).then(() => true, () => false)) removed.push(name);
  }
  return removed;
};

/** Writes `text`, fsyncs and closes the handle; closes it on failure too. */
const writeSynced = async (fh: FileHandle, text: string): Promise<void> => {
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
};

/**
 * Saves a checkpoint atomically (see the module comment). Fails without touching the target if
 * the checkpoint would not load back exactly (`Invalid`, e.g. NaN in `config`, a tensor whose
 * data length does not match its shape) or if a file-system call fails (`Io`; the temporary
 * file is removed). The directory must exist.
 * @example
 * const r = await saveCheckpoint('runs/spiral/ckpt.json', { version: 1, iteration: 100, params, optimizer, rng, config: {} })
 * if (E.isLeft(r)) console.error(formatCheckpointError(r.left))
 */
export const saveCheckpoint = async (file: string, ckpt: Checkpoint): Promise<E.Either<CheckpointError, void>> => {
  const raw = encodeCheckpoint(ckpt);
  if (E.isLeft(raw)) return E.left({ _tag: 'Invalid', file, stage: 'save', issues: raw.left });
  const text = `${JSON.stringify(raw.right)}\n`;
  const target = resolve(file);
  const dir = dirname(target);
  const base = basename(target);
  await removeStaleTemps(dir, base);
  const tmp = join(dir, `${tempPrefix(base)}${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
  const fh = await attempt(file, `create a temporary file in ${dir}`, () => open(tmp, 'wx', 0o644));
  if (E.isLeft(fh)) return fh;
  const written = await attempt(file, `write and fsync ${tmp}`, () => writeSynced(fh.right, text));
  const moved = E.isRight(written) ? await attempt(file, `rename ${tmp} over the target`, () => rename(tmp, target)) : written;
  if (E.isLeft(moved)) {
    await unlink(tmp).catch(() => undefined);
    return moved;
  }
  if (process.platform === 'win32') return E.right(undefined);
  return attempt(file, `fsync the directory ${dir}`, async () => {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  });
};

const endOfInput = /end of JSON input|Unterminated/i;

/**
 * Decodes checkpoint bytes (the contents of `file`, which is used in messages only): UTF-8, then
 * JSON, then the checkpoint codec. Synchronous and free of I/O.
 * @example parseCheckpoint('ckpt.json', new TextEncoder().encode('{"format"')) // left(Corrupt: truncated)
 */
export const parseCheckpoint = (file: string, bytes: Uint8Array): E.Either<CheckpointError, Checkpoint> => {
  const corrupt = (reason: string): E.Either<CheckpointError, never> => E.left({ _tag: 'Corrupt', file, reason });
  if (bytes.length === 0) return corrupt('the file is empty');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return corrupt(`the file (${bytes.length} bytes) is not UTF-8 text`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const pos = /position (\d+)/.exec(msg);
    const truncated = endOfInput.test(msg) || (pos !== null && Number(pos[1]) >= text.trimEnd().length - 1);
    return corrupt(truncated
      ? `the JSON ends early after ${bytes.length} bytes (${msg}): the file is truncated`
      : `the file (${bytes.length} bytes) is not valid JSON: ${msg}`);
  }
  const r = decodeCheckpoint(doc);
  if (E.isRight(r)) return r;
  return r.left._tag === 'UnknownVersion'
    ? E.left({ _tag: 'UnknownVersion', file, version: r.left.version })
    : E.left({ _tag: 'Invalid', file, stage: 'load', issues: r.left.issues });
};

/**
 * Loads a checkpoint written by `saveCheckpoint`. Only `file` itself is read; leftover temporary
 * files of interrupted saves are ignored.
 * @example
 * const r = await loadCheckpoint('runs/spiral/ckpt.json')
 * // right(checkpoint), or left: no file, corrupt/truncated, unknown version, invalid (with JSON paths)
 */
export const loadCheckpoint = async (file: string): Promise<E.Either<CheckpointError, Checkpoint>> => {
  const bytes = await attempt(file, 'read', () => readFile(file));
  return E.isLeft(bytes) ? bytes : parseCheckpoint(file, bytes.right);
};
