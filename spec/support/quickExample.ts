/**
 * Runs an example as a user does (a child process, `--quick --seed 0 --out <tmp>`), checks what
 * every example promises (exactly one JSON summary line on stdout, `quick` and `seed` echoed, every
 * plot a valid PNG inside the output folder), hands the summary to the example's own checks, and
 * removes the folder.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { decodePng } from '../../src/plot/index.ts';

/** What every example's summary holds. */
export interface QuickSummary {
  readonly quick: boolean;
  readonly seed: number;
  readonly plots: readonly string[];
}

/**
 * @example withQuickExample<{ results: Row[] } & QuickSummary>('examples/cnf.ts', (s, dir) => assert.equal(s.results.length, 2))
 */
export const withQuickExample = <S extends QuickSummary>(script: string, check: (summary: S, dir: string) => void): void => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxion-example-'));
  try {
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', script, '--quick', '--out', dir, '--seed', '0'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24,
    });
    const lines = stdout.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `stdout must hold exactly the summary line, got ${lines.length} lines`);
    const summary = JSON.parse(lines[0] as string) as S;
    assert.equal(summary.quick, true);
    assert.equal(summary.seed, 0);
    for (const p of summary.plots) {
      assert.ok(p.startsWith(dir) && p.endsWith('.png') && existsSync(p), p);
      const png = decodePng(readFileSync(p));
      assert.ok(E.isRight(png), `${p} is not a valid PNG`);
      assert.ok(png.right.width > 100 && png.right.height > 100, `${p} has a plausible size`);
    }
    check(summary, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
