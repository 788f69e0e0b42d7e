/**
 * Fluxion's benchmarks, on exactly the problems our peers (torchdiffeq, JAX, diffrax) were timed
 * on (`../shared/bench/`). Each prints ONE JSON line on stdout; progress goes to stderr.
 *
 *   npm run bench -- spiral [--json] [--iters 50] [--warmup 20] [--modes adjoint,backprop] [--dtypes float64,float32]
 *   npm run bench -- scale  [--json] [--iters 15] [--warmup 5] [--batches 1,16,256,4096] [--modes …] [--dtypes …] [--placements kernel,auto]
 *   (spiral and scale take --runs N: N fresh runs per case, reporting the median of the runs on
 *   the host's fast state; see `pickRuns`)
 *   npm run bench -- derive [--reps 20]   (deriving the adjoint of tanh MLPs of depth 2–8)
 *   npm run bench -- memory            (bench/memory.ts: peak memory of one gradient per method)
 *
 * spiral: per iteration, 20 windows of 10 points of the true spiral from `batches` (iteration i
 * uses batch i mod 50), "initial" and "trained" weights, dopri5 at rtol 1e-7 / atol 1e-9, loss
 * mean |ŷ − y|. scale: hidden 64, y0 batches 1/16/256/4096 over [0, 1], dopri5 at 1e-5, loss
 * Σ y(1)². Every case runs in a fresh process; times are per iteration (forward + gradient), the
 * median over `iters` iterations after `warmup`; first_iteration_ms is the time to the first
 * gradient including model build and kernel generation. float32 means float32 results: the
 * adjoint placed by the cost model (`auto`, or `--placements`), on the kernel (computing in
 * double) or on tfjs (the backend `selectBackend` picks, or FLUXION_BACKEND); backprop on the
 * kernel. `backend` says which ran, `kernel_target` whether the kernel was WebAssembly (the
 * default) or JavaScript (`FLUXION_KERNEL=js`). The float64 adjoint also runs with automatic
 * placement (`--placements`): f and the adjoint system on the kernel or on tfjs, as the cost model
 * of src/interp/placement.ts picks; `backend` says which ran. The losses are checked against a
 * direct evaluation (plain loops, tight tolerance). calibration_tanh_ns (ns per Math.tanh, measured
 * in each case) shows how fast the shared machine ran at the time. Cases run with
 * TF_NUM_INTRAOP_THREADS=TF_NUM_INTEROP_THREADS=1 unless set (one thread, as the peers).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { CaseSpec } from './cases.ts';
import { deriveRows } from './derive.ts';
import { loadScale, loadSpiral } from './problems.ts';
import { scaleLossDirect, spiralLossDirect } from './verify.ts';

const here = (f: string): string => new URL(f, import.meta.url).pathname;
const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};
const list = (s: string | undefined, dflt: readonly string[]): string[] => (s === undefined ? [...dflt] : s.split(',').filter((x) => x !== ''));
const load = (): number[] => loadavg().map((x) => Number(x.toFixed(2)));

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: 'boolean' }, iters: { type: 'string' }, warmup: { type: 'string' }, reps: { type: 'string' },
    modes: { type: 'string' }, dtypes: { type: 'string' }, regimes: { type: 'string' }, batches: { type: 'string' }, placements: { type: 'string' },
    runs: { type: 'string' },
  },
});
const which = positionals[0] ?? 'spiral';

/** Runs one case in a fresh process; a failure becomes an `error` entry. */
/** One thread for native TensorFlow too (the peers were timed on one thread; on 2 cores it is also faster here). */
const childEnv = {
  ...process.env,
  TF_NUM_INTRAOP_THREADS: process.env['TF_NUM_INTRAOP_THREADS'] ?? '1',
  TF_NUM_INTEROP_THREADS: process.env['TF_NUM_INTEROP_THREADS'] ?? '1',
};

const runChild = (spec: CaseSpec): Record<string, unknown> => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', here('./cases.ts'), JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 24, env: childEnv });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || 'unknown').trim().split('\n').slice(-3).join(' | ');
    log(`  failed: ${why}`);
    return { mode: spec.mode, dtype: spec.dtype, ...(spec.regime === undefined ? {} : { regime: spec.regime }), ...(spec.batch === undefined ? {} : { batch: spec.batch }), error: why };
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
};

/**
 * Several runs of each case: the host of our machines alternates between a fast and a slow state
 * (each run's `Math.tanh` calibration shows which), so each case reports the median, by iteration
 * time, of its runs whose calibration is within 15% of the fastest calibration of the whole
 * invocation; `runs` and `fast_runs` say how many there were. A case with no fast run reports the
 * median of all its runs, with `fast_runs: 0`.
 */
const pickRuns = (all: readonly (readonly Record<string, unknown>[])[]): Record<string, unknown>[] => {
  const cal = (c: Record<string, unknown>): number | undefined =>
    typeof c['calibration_tanh_ns'] === 'number' && typeof c['iter_median_ms'] === 'number' ? c['calibration_tanh_ns'] as number : undefined;
  const cals = all.flat().map(cal).filter((x): x is number => x !== undefined);
  const limit = 1.15 * Math.min(...cals);
  const byTime = (a: Record<string, unknown>, b: Record<string, unknown>): number => (a['iter_median_ms'] as number) - (b['iter_median_ms'] as number);
  return all.map((rs) => {
    const ok = rs.filter((c) => cal(c) !== undefined);
    if (ok.length === 0) return rs[0] ?? {};
    const fast = ok.filter((c) => (cal(c) as number) <= limit).sort(byTime);
    const from = fast.length > 0 ? fast : ok.slice().sort(byTime);
    return { ...(from[(from.length - 1) >> 1] as Record<string, unknown>), runs: rs.length, fast_runs: fast.length };
  });
};
const runsPerCase = Math.max(1, Math.floor(Number(values.runs ?? 1)) || 1);

const describe = (c: Record<string, unknown>): string =>
  `  ${String(c['mode'])} ${String(c['dtype'])} ${String(c['backend'] ?? '')} ${String(c['regime'] ?? c['batch'])}: ` +
  (c['error'] === undefined
    ? `median ${String(c['iter_median_ms'])} ms, min ${String(c['iter_min_ms'])} ms, nfe ${String(c['nfe_forward'])}+${String(c['nfe_backward'])}, first ${String(c['first_iteration_ms'])} ms, loss ${String(c['loss'])}`
    : `error ${String(c['error'])}`);

const machine = (before: number[]) => ({
  node: process.versions.node, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', load_before: before, load_after: load(),
  tf_threads: { intra: childEnv.TF_NUM_INTRAOP_THREADS, inter: childEnv.TF_NUM_INTEROP_THREADS },
});

/** Each case's loss against the direct evaluation of its problem. */
const withLossDiff = (rows: Record<string, unknown>[], direct: (c: Record<string, unknown>) => number | undefined): Record<string, unknown>[] =>
  rows.map((c) => {
    const d = direct(c);
    return typeof c['loss'] === 'number' && d !== undefined ? { ...c, loss_rel_diff_vs_direct: Number((Math.abs((c['loss'] as number) - d) / Math.abs(d)).toPrecision(3)) } : c;
  });

const cases = (bench: 'spiral' | 'scale', points: readonly (Partial<CaseSpec>)[], iters: number, warmup: number): Record<string, unknown>[] => {
  const modes = list(values.modes, ['adjoint', 'backprop']) as CaseSpec['mode'][];
  const dtypes = list(values.dtypes, ['float64', 'float32']) as CaseSpec['dtype'][];
  const out: Record<string, unknown>[][] = [];
  const placements = list(values.placements, bench === 'scale' ? ['kernel', 'auto'] : ['kernel']) as NonNullable<CaseSpec['placement']>[];
  for (const point of points) for (const dtype of dtypes) for (const mode of modes) {
    const forDtype = dtype === 'float64' || values.placements !== undefined ? placements : ['auto' as const];
    for (const placement of mode === 'adjoint' ? forDtype : [undefined]) {
      const spec: CaseSpec = { bench, mode, dtype, iters, warmup, ...point, ...(placement === undefined ? {} : { placement }) };
      log(`${bench}: ${mode} ${dtype}${placement === undefined ? '' : ` (${placement})`} ${point.regime ?? point.batch}…`);
      const rs = Array.from({ length: runsPerCase }, () => runChild(spec));
      for (const c of rs) log(describe(c));
      out.push(rs);
    }
  }
  return runsPerCase === 1 ? out.map((rs) => rs[0] as Record<string, unknown>) : pickRuns(out);
};

const spiral = (): void => {
  const before = load();
  const p = loadSpiral();
  const regimes = list(values.regimes, ['initial', 'trained']) as ('initial' | 'trained')[];
  const iters = Math.max(15, Number(values.iters ?? 50)), warmup = Number(values.warmup ?? 20);
  const rows = cases('spiral', regimes.map((regime) => ({ regime })), iters, warmup);
  // The loss of batch 0 (every case's first iteration) against a direct evaluation at rtol 1e-12.
  const direct = new Map(regimes.map((regime) => [regime, spiralLossDirect(p, regime, 0)]));
  const lossCheck = regimes.map((regime) => ({ regime, batch: 0, direct_rtol_1e12: direct.get(regime) }));
  process.stdout.write(`${JSON.stringify({
    bench: 'spiral', problem: { batch_size: 20, batch_time: p.ts.length, rtol: p.rtol, atol: p.atol, method: 'dopri5', iterations_use_batches: 'i mod 50' },
    machine: machine(before), loss_check: lossCheck, cases: withLossDiff(rows, (c) => direct.get(c['regime'] as 'initial')),
  })}\n`);
};

const scale = (): void => {
  const before = load();
  const p = loadScale();
  const batches = list(values.batches, ['1', '16', '256', '4096']).map(Number);
  const iters = Math.max(15, Number(values.iters ?? 15)), warmup = Number(values.warmup ?? 5);
  const rows = cases('scale', batches.map((batch) => ({ batch })), iters, warmup);
  const direct = new Map(batches.map((batch) => [batch, scaleLossDirect(p, batch)]));
  const lossCheck = batches.map((batch) => ({ batch, direct_rtol_1e12: direct.get(batch) }));
  process.stdout.write(`${JSON.stringify({
    bench: 'scale', problem: { hidden: p.hidden, t: [p.t0, p.t1], rtol: p.rtol, atol: p.atol, method: 'dopri5', loss: 'sum(y(1)^2)' },
    machine: machine(before), loss_check: lossCheck, cases: withLossDiff(rows, (c) => direct.get(c['batch'] as number)),
  })}\n`);
};

const derive = (): void => {
  const before = load();
  const rows = deriveRows([2, 3, 4, 5, 6, 7, 8], Number(values.reps ?? 20));
  for (const r of rows) log(`  depth ${String(r['depth'])}: ${String(r['adjoint_nodes'])} nodes, derive ${String(r['derive_ms'])} ms, kernel ${String(r['wasm_kernel_ms'])} ms (WebAssembly), ${String(r['js_kernel_ms'])} ms (JavaScript)`);
  process.stdout.write(`${JSON.stringify({ bench: 'derive', machine: machine(before), rows })}\n`);
};

const memory = (): void => {
  const file = here('./memory.ts');
  if (!existsSync(file)) {
    log('memory: bench/memory.ts does not exist; skipped');
    process.stdout.write(`${JSON.stringify({ bench: 'memory', skipped: 'bench/memory.ts does not exist' })}\n`);
    return;
  }
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('bench/memory.ts failed');
  process.stdout.write(r.stdout);
};

const benches: Readonly<Record<string, () => void>> = { spiral, scale, derive, memory };
const run = benches[which];
if (run === undefined) {
  log(`unknown bench ${which}; use one of ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
run();
