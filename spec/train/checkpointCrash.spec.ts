/**
 * Crash test for atomic saves: a child process saves ~5 MB checkpoints in a loop and is killed
 * with SIGKILL at seeded random moments. After every kill the target must load and equal one of
 * the complete versions written (the last one the child reported, or the one it was saving), and
 * the temporary files the kills leave behind must not disturb loading and must be removed by the
 * next save.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { nextUniform, seedRng } from '../../src/random/prng.ts';
import { formatCheckpointError, loadCheckpoint, saveCheckpoint, type Checkpoint } from '../../src/train/checkpoint.ts';
import { bigCheckpoint, sameCheckpoint } from './fixtures/bigCheckpoint.ts';

const ROUNDS = 10;
const VALUES = 80_000; // three arrays of this many numbers: a file of about 5 MB
/**
 * A kill comes after the writer's 1st or 2nd "saving" line, after a seeded random delay of up to
 * 1.5 × the time the parent's own first save took (a calibration, not an assertion), so kills
 * land in every phase of a save: encoding, writing the temp file, fsync, rename, and after.
 */
const DELAY_FACTOR = 1.5;

const repo = fileURLToPath(new URL('../../', import.meta.url));
const writer = fileURLToPath(new URL('./fixtures/crashWriter.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fluxion-crash-'));
const file = join(dir, 'ckpt.json');
let child: ChildProcess | undefined;

after(() => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const load = async (): Promise<Checkpoint> => {
  const r = await loadCheckpoint(file);
  if (E.isLeft(r)) throw new Error(formatCheckpointError(r.left));
  return r.right;
};
const temps = (): string[] => readdirSync(dir).filter((n) => n.startsWith('.ckpt.json.') && n.endsWith('.tmp'));

/** Starts the writer at iteration `start`; resolves once it has announced its `saves`-th save. */
const startWriter = async (start: number, saves: number): Promise<{ proc: ChildProcess; out: () => string; closed: Promise<unknown> }> => {
  const proc = spawn(process.execPath, ['--import', 'tsx', writer, file, String(start), String(VALUES)], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let out = '', err = '';
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => { out += s; });
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => { err += s; });
  const closed = once(proc, 'close');
  await new Promise<void>((resolve, reject) => {
    const onData = (): void => { if ((out.match(/^saving \d+$/gm) ?? []).length >= saves) resolve(); };
    proc.stdout?.on('data', onData);
    void closed.then(() => reject(new Error(`writer exited before save ${saves}: ${err}`)));
  });
  return { proc, out: () => out, closed };
};

describe('checkpoint crash safety', () => {
  it(`SIGKILL during ${ROUNDS} rounds of 5 MB saves never leaves a broken or mixed checkpoint`, { timeout: 120_000 }, async (t) => {
    const first = bigCheckpoint(0, VALUES);
    const t0 = performance.now();
    assert.ok(E.isRight(await saveCheckpoint(file, first)));
    const maxDelay = DELAY_FACTOR * (performance.now() - t0);
    let rng = seedRng(20240611, 'crash');
    let current = 0;
    let killedMidSave = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const [which, r1] = nextUniform(rng);
      const [u, r2] = nextUniform(r1);
      rng = r2;
      const w = await startWriter(current + 1, which < 0.5 ? 1 : 2);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(u * maxDelay)));
      w.proc.kill('SIGKILL');
      await w.closed;
      assert.equal(w.proc.signalCode, 'SIGKILL', `round ${round}: the writer stopped on its own\n${w.out()}`);
      const reported = [...w.out().matchAll(/^saved (\d+)$/gm)].map((m) => Number(m[1]));
      const lastDone = reported.length > 0 ? (reported[reported.length - 1] as number) : current;
      const ckpt = await load();
      assert.ok(ckpt.iteration === lastDone || ckpt.iteration === lastDone + 1,
        `round ${round}: file holds iteration ${ckpt.iteration}, last completed save was ${lastDone}`);
      assert.equal(sameCheckpoint(ckpt, bigCheckpoint(ckpt.iteration, VALUES)), undefined, `round ${round}: contents differ from version ${ckpt.iteration}`);
      if (temps().length > 0) killedMidSave++;
      current = ckpt.iteration;
    }
    // How many kills hit a save between creating and renaming its temp file (informational only).
    t.diagnostic(`${ROUNDS} kills within ${maxDelay.toFixed(0)} ms of a save starting, ${killedMidSave} left a temporary file behind (killed mid-save); final iteration ${current}`);
    // The writers are dead, so the next save removes every temporary file they left.
    assert.ok(E.isRight(await saveCheckpoint(file, bigCheckpoint(current + 1, 10))));
    assert.deepEqual(temps(), []);
    assert.equal((await load()).iteration, current + 1);
  });
});
