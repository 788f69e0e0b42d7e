import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import {
  encodeCheckpoint, formatCheckpointError, loadCheckpoint, parseCheckpoint, saveCheckpoint,
  type Checkpoint, type CheckpointError, type Json,
} from '../../src/train/checkpoint.ts';
import { initOptimizer, step, type OptimizerConfig } from '../../src/train/optimizers.ts';
import { seedRng } from '../../src/random/prng.ts';
import { bigCheckpoint, sameCheckpoint } from './fixtures/bigCheckpoint.ts';

const dir = mkdtempSync(join(tmpdir(), 'fluxion-ckpt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const loaded = async (file: string): Promise<Checkpoint> => {
  const r = await loadCheckpoint(file);
  if (E.isLeft(r)) throw new Error(formatCheckpointError(r.left));
  return r.right;
};
const failure = (r: E.Either<CheckpointError, unknown>): string => {
  assert.ok(E.isLeft(r), 'expected a failure');
  return formatCheckpointError(r.left);
};
/** The document of a valid checkpoint, to break in one place. */
const doc = (): Record<string, unknown> => JSON.parse(JSON.stringify(E.getOrElseW(() => ({}))(encodeCheckpoint(bigCheckpoint(1, 16))))) as Record<string, unknown>;
const parseDoc = (d: unknown): E.Either<CheckpointError, Checkpoint> => parseCheckpoint('x.json', new TextEncoder().encode(JSON.stringify(d)));

describe('checkpoints', () => {
  it('round-trip exactly: NaN, ±Infinity, -0, subnormals, extremes, metrics', async () => {
    const file = join(dir, 'exact.json');
    const ckpt = bigCheckpoint(5, 2000);
    assert.deepEqual(await saveCheckpoint(file, ckpt), E.right(undefined));
    const back = await loaded(file);
    assert.equal(sameCheckpoint(ckpt, back), undefined);
    assert.ok(Object.is(back.params['W']?.data[1], -0));
    assert.equal(back.optimizer.kind, 'adam');
    if (back.optimizer.kind === 'adam') assert.ok(Object.is(back.optimizer.expAvg['b']?.[0], -0));
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^\{"format":"fluxion-checkpoint","version":1,"iteration":5,/);
    assert.match(text, /"NaN","-0","Infinity","-Infinity",5e-324,/);
  });

  it('round-trips every optimizer state after a real step', async () => {
    const configs: readonly OptimizerConfig[] = [
      { kind: 'sgd', momentum: 0.9 }, { kind: 'sgd' }, { kind: 'adam' }, { kind: 'adamw' },
      { kind: 'rmsprop', momentum: 0.5, centered: true }, { kind: 'rmsprop' },
    ];
    for (const [i, cfg] of configs.entries()) {
      const params = { w: { shape: [3], data: Float64Array.of(0.1, -0.2, 1 / 3) } };
      const r = step(cfg, initOptimizer(cfg, params), params, { w: { shape: [3], data: Float64Array.of(1e-300, -7, Math.PI) } }, 0.01);
      assert.ok(E.isRight(r));
      const ckpt: Checkpoint = { version: 1, iteration: 1, params: r.right.params, optimizer: r.right.state, rng: seedRng(i), config: { cfg: { ...cfg } } };
      const file = join(dir, `opt-${i}.json`);
      assert.ok(E.isRight(await saveCheckpoint(file, ckpt)));
      assert.equal(sameCheckpoint(ckpt, await loaded(file)), undefined, JSON.stringify(cfg));
    }
  });

  it('any parameter name works, even __proto__ (own properties all the way through)', async () => {
    const cfg = { kind: 'adam' } as const;
    const params = Object.fromEntries([['__proto__', { shape: [2], data: Float64Array.of(1, 2) }]]);
    const r = step(cfg, initOptimizer(cfg, params), params, params, 0.1);
    assert.ok(E.isRight(r));
    assert.ok(Object.hasOwn(r.right.params, '__proto__') && r.right.state.kind === 'adam' && Object.hasOwn(r.right.state.expAvg, '__proto__'));
    const ckpt: Checkpoint = { version: 1, iteration: 1, params: r.right.params, optimizer: r.right.state, rng: seedRng(1), config: null };
    const file = join(dir, 'proto.json');
    assert.ok(E.isRight(await saveCheckpoint(file, ckpt)));
    const back = await loaded(file);
    assert.equal(sameCheckpoint(ckpt, back), undefined);
    assert.equal(Object.getPrototypeOf(back.params), Object.prototype);
  });

  it('refuses to save what would not load back exactly, without touching the target', async () => {
    const file = join(dir, 'refused.json');
    writeFileSync(file, 'previous');
    const base = bigCheckpoint(2, 8);
    const msg = failure(await saveCheckpoint(file, { ...base, config: { lr: NaN, deep: [{ x: -0 }], big: Infinity } }));
    assert.match(msg, /^not saving checkpoint .*refused\.json/);
    assert.match(msg, /config\.lr: NaN cannot be stored exactly in JSON/);
    assert.match(msg, /config\.deep\[0\]\.x: -0 cannot be stored exactly/);
    assert.match(msg, /config\.big: Infinity/);
    const cyclic: { [key: string]: Json } = {};
    cyclic['self'] = cyclic;
    assert.match(failure(await saveCheckpoint(file, { ...base, config: cyclic })), /config\.self: cyclic reference/);
    const wrong = { ...base, params: { W: { shape: [2, 3], data: new Float64Array(5) } } };
    assert.match(failure(await saveCheckpoint(file, wrong)), /params\.W\.data: has 5 values but shape \[2, 3\] needs 6/);
    assert.equal(readFileSync(file, 'utf8'), 'previous');
  });

  it('a missing file or directory is an I/O error, not an exception', async () => {
    assert.equal(failure(await loadCheckpoint(join(dir, 'nope.json'))), `no checkpoint at ${join(dir, 'nope.json')}`);
    assert.match(failure(await saveCheckpoint(join(dir, 'no-dir', 'c.json'), bigCheckpoint(1, 4))), /cannot create a temporary file in .*no-dir/);
  });

  it('empty, truncated, binary and non-JSON files are reported as corrupt, naming the file', async () => {
    const file = join(dir, 'good.json');
    assert.ok(E.isRight(await saveCheckpoint(file, bigCheckpoint(3, 500))));
    const bytes = readFileSync(file);
    const cases: readonly [string, Uint8Array, RegExp][] = [
      ['empty.json', new Uint8Array(0), /empty\.json is corrupt: the file is empty/],
      ['half.json', bytes.subarray(0, bytes.length >> 1), /half\.json is corrupt: the JSON ends early after \d+ bytes .*truncated/],
      ['cut.json', bytes.subarray(0, bytes.length - 3), /cut\.json is corrupt: .*truncated/],
      ['binary.json', Uint8Array.of(0x7b, 0xff, 0xfe, 0x00), /binary\.json is corrupt: the file \(4 bytes\) is not UTF-8 text/],
      ['garbage.json', new TextEncoder().encode('{"format": fluxion}'), /garbage\.json is corrupt: the file \(19 bytes\) is not valid JSON/],
    ];
    for (const [name, content, re] of cases) {
      writeFileSync(join(dir, name), content);
      assert.match(failure(await loadCheckpoint(join(dir, name))), re);
    }
  });

  it('reports every structural problem with its JSON path', () => {
    const d = doc();
    const params = d['params'] as Record<string, { shape: unknown; data: unknown[] }>;
    (params['W'] as { data: unknown[] }).data.pop();
    (params['b'] as { shape: unknown }).shape = [-1];
    d['iteration'] = 1.5;
    d['rng'] = [1, 2, 3];
    d['metrics'] = { loss: [1, 'oops'] };
    const msg = failure(parseDoc(d));
    assert.match(msg, /^checkpoint x\.json is not valid:/);
    assert.match(msg, /params\.W\.data: has 15 values but shape \[2, 8\] needs 16/);
    assert.match(msg, /params\.b\.shape\[0\]: expected an integer ≥ 0, got -1/);
    assert.match(msg, /iteration: expected an integer ≥ 0, got 1\.5/);
    assert.match(msg, /rng\[3\]: missing: expected a uint32/);
    assert.match(msg, /metrics\.loss\[1\]: expected a number .*got "oops"/);
  });

  it('checks optimizer state against the parameters and names unknown kinds', () => {
    const d = doc();
    const opt = d['optimizer'] as Record<string, Record<string, unknown[]>>;
    opt['expAvg']?.['W']?.push(1);
    assert.match(failure(parseDoc(d)), /optimizer\.expAvg\.W: has 17 values, parameter "W" has 16/);
    const e = doc();
    (e['optimizer'] as Record<string, unknown>)['kind'] = 'adagrad';
    assert.match(failure(parseDoc(e)), /optimizer\.kind: expected one of "sgd", "adam", "adamw", "rmsprop", got "adagrad"/);
    const f = doc();
    (f['params'] as Record<string, unknown>)['W'] = { shape: [2, 8], data: new Array(16).fill('nan') };
    assert.match(failure(parseDoc(f)), /params\.W\.data\[0\]: expected a number \(or "NaN", "Infinity", "-Infinity", "-0"\), got "nan"/);
  });

  it('unknown versions and foreign JSON are named as such', () => {
    assert.match(failure(parseDoc({ ...doc(), version: 2 })), /x\.json has format version 2, but this Fluxion reads version 1 only/);
    assert.match(failure(parseDoc({ hello: 'world' })), /format: expected "fluxion-checkpoint", got nothing: this is not a Fluxion checkpoint/);
    assert.match(failure(parseDoc([1, 2])), /\(root\): expected a checkpoint object, got an array of 2/);
  });

  it('ignores stray temporary files when loading; the next save removes those of dead writers', async () => {
    const file = join(dir, 'stray.json');
    assert.ok(E.isRight(await saveCheckpoint(file, bigCheckpoint(1, 100))));
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const deadTemp = `.stray.json.${dead}.0123abcd.tmp`;
    const ownTemp = `.stray.json.${process.pid}.4567ef01.tmp`;
    writeFileSync(join(dir, deadTemp), '{"format":"fluxion-checkpoint","version":1,"iter');
    writeFileSync(join(dir, ownTemp), 'half-written');
    assert.equal(sameCheckpoint(await loaded(file), bigCheckpoint(1, 100)), undefined);
    assert.ok(E.isRight(await saveCheckpoint(file, bigCheckpoint(2, 100))));
    const left = readdirSync(dir).filter((n) => n.startsWith('.stray.json.'));
    assert.deepEqual(left, [ownTemp], 'the dead writer’s temp file is gone; a live process’s (ours) is kept');
    assert.equal((await loaded(file)).iteration, 2);
  });
});
