/**
 * O(1) memory, shown: peak live memory of one gradient by `adjoint`, by `backprop` and by
 * `backprop` keeping every 8th state, as the number of solver steps grows tenfold (a ten times
 * longer span), through the gradient API of `src/adjoint/gradients`. Each case runs in a fresh child process
 * with --expose-gc; every 4th evaluation of the model forces full garbage collections and samples
 * the live heap plus array buffers (`src/interp/liveMemory.ts`), so the figure is memory the method retains, not garbage not yet
 * collected. Also reported: the growth of the process's peak resident memory (getrusage maxRSS).
 * Run: npx tsx bench/memory.ts   (prints one JSON line)
 */
import { spawnSync } from 'node:child_process';
import * as E from 'fp-ts/lib/Either.js';
import { spiralModel } from '../src/models/spiral.ts';
import { prepareGradient, type GradientConfig } from '../src/adjoint/gradients/index.ts';
import { liveSampler } from '../src/interp/liveMemory.ts';
import { dopri5 } from '../src/solvers/index.ts';
import { draw, nextNormal, seedRng } from '../src/random/prng.ts';

const BATCH = 4096;

type Mode = 'adjoint' | 'backprop' | 'backprop-checkpoint8';
const modes: readonly Mode[] = ['adjoint', 'backprop', 'backprop-checkpoint8'];
const isMode = (s: string | undefined): s is Mode => modes.some((m) => m === s);

/** One measurement in this process: mode, span. */
const measure = (mode: Mode, span: number) => {
  const m = spiralModel();
  const loss = m.loss;
  if (loss === undefined) throw new Error('the spiral has a loss');
  const solver = { method: dopri5, rtol: 1e-6, atol: 1e-8 };
  const gc = globalThis.gc as () => void;
  const sampler = liveSampler(gc, 4);
  const live = (): number => { const u = process.memoryUsage(); return u.heapUsed + u.arrayBuffers; };
  const on = { backend: 'float64', evaluator: sampler.evaluator } as const;
  const cfg: GradientConfig = mode === 'adjoint' ? { method: 'adjoint', on } : { method: 'backprop', on, ...(mode === 'backprop' ? {} : { checkpointEvery: 8 }) };
  const g = prepareGradient({ dynamics: m.dynamics, loss }, cfg);
  if (E.isLeft(g)) throw new Error('compile failed');
  const z0 = { shape: [BATCH, 2], data: draw(nextNormal, seedRng(1), BATCH * 2)[0].map((v) => 0.6 * v) };
  const ts = [0, span];
  const target = { shape: [2, BATCH, 2], data: new Float64Array(2 * BATCH * 2) };
  // Warm-up on short spans: kernels compiled, caches filled, hot code optimised.
  const data = (ts: readonly number[]) => ({ params: m.values, z0, ts, lossInputs: { ytrue: target }, solver });
  for (const span0 of [0.01, 0.01]) g.right(data([0, span0]));
  gc();
  gc();
  const baseLive = live();
  const before = process.resourceUsage().maxRSS;
  const rssBefore = process.memoryUsage().rss / 1024;
  const { result: r, growthBytes } = sampler.measure(() => g.right(data(ts)));
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  const peak = process.resourceUsage().maxRSS;
  return {
    mode, span, batch: BATCH, steps_forward: r.right.stats.acceptedForward + r.right.stats.rejectedForward,
    steps_backward: r.right.stats.acceptedBackward + r.right.stats.rejectedBackward, nfe_forward: r.right.stats.nfeForward, nfe_backward: r.right.stats.nfeBackward,
    base_live_mb: baseLive / 2 ** 20,
    peak_live_mb: (baseLive + growthBytes) / 2 ** 20,
    peak_live_growth_mb: Math.max(0, growthBytes) / 2 ** 20,
    peak_rss_growth_mb: Math.max(0, peak - Math.max(before, rssBefore)) / 1024,
  };
};

const [, , child, mode, span] = process.argv;
if (child === '--child' && isMode(mode)) {
  process.stdout.write(JSON.stringify(measure(mode, Number(span))) + '\n');
} else {
  const cases: unknown[] = [];
  for (const mode2 of modes) {
    for (const s of [2.5, 25]) {
      process.stderr.write(`memory: ${mode2}, span ${s}\n`);
      const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', new URL(import.meta.url).pathname, '--child', mode2, String(s)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      cases.push(JSON.parse(r.stdout));
    }
  }
  process.stdout.write(JSON.stringify({ bench: 'memory', unit: 'MB', note: 'peak live memory (heap + array buffers, sampled after forced GCs every 4th evaluation) during one gradient, the live memory before it, their difference, and the growth of peak RSS; fresh process per case', cases }) + '\n');
}
