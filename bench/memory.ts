/**
 * O(1) memory, shown: peak live memory of one gradient by `adjoint` and by `backprop` as the number
 * of solver steps grows tenfold (a ten times longer span). Each case runs in a fresh child process
 * with --expose-gc; every 4th evaluation of the model forces a full garbage collection and samples
 * the live heap plus array buffers, so the figure is memory the method retains, not garbage not yet
 * collected. Also reported: the growth of the process's peak resident memory (getrusage maxRSS).
 * Run: npx tsx bench/memory.ts   (prints one JSON line)
 */
import { spawnSync } from 'node:child_process';
import * as E from 'fp-ts/lib/Either.js';
import { spiralModel } from '../src/models/spiral.ts';
import { compileGradient } from '../src/adjoint/gradient.ts';
import { kernelEvaluator, type F64Evaluator } from '../src/interp/evaluator.ts';
import { dopri5 } from '../src/solvers/index.ts';
import { draw, nextNormal, seedRng } from '../src/random/prng.ts';

const BATCH = 4096;

/** One measurement in this process: mode, span. */
const measure = (mode: 'adjoint' | 'backprop', span: number) => {
  const m = spiralModel();
  const solver = { method: dopri5, rtol: 1e-6, atol: 1e-8 };
  let calls = 0, peakLive = 0, sampling = false;
  const live = (): number => { const u = process.memoryUsage(); return u.heapUsed + u.arrayBuffers; };
  const sampled: F64Evaluator = (roots) => {
    const p = kernelEvaluator(roots);
    return (env) => {
      if (sampling && ++calls % 4 === 0) {
        (globalThis.gc as () => void)();
        peakLive = Math.max(peakLive, live());
      }
      return p(env);
    };
  };
  const g = compileGradient(m, mode === 'adjoint' ? { kind: 'adjoint', forward: solver } : { kind: 'backprop', solver }, sampled);
  if (E.isLeft(g)) throw new Error('compile failed');
  const z0 = { shape: [BATCH, 2], data: draw(nextNormal, seedRng(1), BATCH * 2)[0].map((v) => 0.6 * v) };
  const ts = [0, span];
  const target = { shape: [2, BATCH, 2], data: new Float64Array(2 * BATCH * 2) };
  // Warm-up on a short span: kernels compiled, caches filled.
  g.right(m.values, z0, [0, 0.01], target);
  (globalThis.gc as () => void)();
  const baseLive = live();
  const before = process.resourceUsage().maxRSS;
  const rssBefore = process.memoryUsage().rss / 1024;
  sampling = true;
  const r = g.right(m.values, z0, ts, target);
  sampling = false;
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  const peak = process.resourceUsage().maxRSS;
  return {
    mode, span, batch: BATCH, steps: r.right.stats.stepsForward, nfe_forward: r.right.stats.nfeForward, nfe_backward: r.right.stats.nfeBackward,
    peak_live_growth_mb: Math.max(0, peakLive - baseLive) / 2 ** 20,
    peak_rss_growth_mb: Math.max(0, peak - Math.max(before, rssBefore)) / 1024,
  };
};

const [, , child, mode, span] = process.argv;
if (child === '--child' && (mode === 'adjoint' || mode === 'backprop')) {
  process.stdout.write(JSON.stringify(measure(mode, Number(span))) + '\n');
} else {
  const cases: unknown[] = [];
  for (const mode2 of ['adjoint', 'backprop'] as const) {
    for (const s of [2.5, 25]) {
      process.stderr.write(`memory: ${mode2}, span ${s}\n`);
      const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', new URL(import.meta.url).pathname, '--child', mode2, String(s)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      cases.push(JSON.parse(r.stdout));
    }
  }
  process.stdout.write(JSON.stringify({ bench: 'memory', unit: 'MB', note: 'growth of peak live memory (heap + array buffers, sampled after forced GC every 4th evaluation) and of peak RSS during one gradient; fresh process per case', cases }) + '\n');
}
