/**
 * A continuous normalizing flow (FFJORD-style concat-squash network) trained by maximum likelihood
 * on two toy 2-D densities. For each it reports the held-out negative log-likelihood in nats (exact
 * trace, seeded test set) against the base Gaussian's, and writes the learned density and the
 * samples moving from the base to the data as PNG and SVG.
 *
 * Run: npx tsx examples/cnf.ts [--quick] [--out DIR] [--seed N] [--iterations N] [--trace exact|hutchinson]
 * Progress goes to stderr; stdout gets one JSON summary line at the end.
 */
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../src/dsl/expr.ts';
import { concatSquash } from '../src/dsl/layers.ts';
import { dynamics, type Dynamics } from '../src/dsl/model.ts';
import { initParams, type ParamDecl, type ParamValues } from '../src/dsl/params.ts';
import { sym } from '../src/dsl/shape.ts';
import { toy2d, type Toy2dName } from '../src/data/toy2d.ts';
import type { F64Tensor } from '../src/interp/tensor.ts';
import { draw, nextNormal, seedRng } from '../src/random/prng.ts';
import { dopri5, f64Space, formatSolveError, integrate, type F64Batch } from '../src/solvers/index.ts';
import {
  cnf, cnfField, compileCnf, formatFlowError, formatTrainCnfError, logDensity, standardNormalLogPdf, trainCnf,
  type CompiledCnf, type TraceKind,
} from '../src/flows/index.ts';
import { progress } from '../src/train/progress.ts';
import { densityHeatmap, formatPlotError, samplesOverTime, writePlot, type PlotSpec } from '../src/plot/index.ts';

interface Settings {
  readonly hidden: readonly number[];
  readonly iterations: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly rtol: number;
  readonly atol: number;
  readonly nTest: number;
  readonly grid: number;
  readonly nSamples: number;
}

const quickSettings: Settings = { hidden: [64], iterations: 200, batchSize: 200, lr: 1e-2, rtol: 1e-4, atol: 1e-4, nTest: 1000, grid: 60, nSamples: 600 };
const fullSettings: Settings = { hidden: [64], iterations: 1000, batchSize: 384, lr: 5e-3, rtol: 1e-5, atol: 1e-5, nTest: 4000, grid: 120, nSamples: 1500 };
const datasets: readonly Toy2dName[] = ['8gaussians', 'moons'];

const fail = (msg: string): never => {
  process.stderr.write(`cnf example: ${msg}\n`);
  process.exit(1);
};

const parseArgs = (argv: readonly string[]) => {
  let quick = false, out = 'out/cnf', seed = 0, trace: TraceKind = 'exact';
  let iterations: number | undefined;
  const intArg = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    return Number.isSafeInteger(n) && n >= 0 ? n : fail(`${flag} needs a non-negative integer, got ${v}`);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--quick': quick = true; break;
      case '--out': out = argv[++i] ?? fail('--out needs a directory'); break;
      case '--seed': seed = intArg(a, argv[++i]); break;
      case '--iterations': iterations = intArg(a, argv[++i]); break;
      case '--trace': {
        const t = argv[++i];
        trace = t === 'exact' || t === 'hutchinson' ? t : fail(`--trace is exact or hutchinson, got ${t}`);
        break;
      }
      default: fail(`unknown argument ${a}`);
    }
  }
  const base = quick ? quickSettings : fullSettings;
  return { quick, out, seed, trace, settings: iterations === undefined ? base : { ...base, iterations } };
};

const { quick, out, seed, trace, settings } = parseArgs(process.argv.slice(2));
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** `dz/dt = f(z, t)`: concat-squash layers with tanh between them (FFJORD's toy network). */
const flowDynamics = (hidden: readonly number[]): Dynamics<readonly [ReturnType<typeof sym>, 2]> => {
  const z = X.state('z', [sym('batch'), 2] as const);
  const t = X.time('t');
  const sizes = [2, ...hidden, 2];
  const layers = sizes.slice(1).map((o, i) => concatSquash(`cs${i + 1}`, sizes[i] as number, o));
  let h: X.Expr<readonly [ReturnType<typeof sym>, number]> = z;
  layers.forEach((l, i) => {
    const y = l.apply(h, t);
    h = i < layers.length - 1 ? X.tanh(y) : y;
  });
  const params: ParamDecl[] = layers.flatMap((l) => [...l.params]);
  return dynamics({ state: z, time: t, params, f: X.withShape(h, z.shape) });
};

const solver = { method: dopri5, rtol: settings.rtol, atol: settings.atol } as const;
const evalSolver = { method: dopri5, rtol: 1e-6, atol: 1e-6 } as const;
const mean = (xs: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] as number;
  return s / xs.length;
};

const nll = (c: CompiledCnf, values: ParamValues, x: F64Tensor): { readonly nll: number; readonly nfe: number } => {
  const r = logDensity(c, values, x, { solver: evalSolver });
  if (E.isLeft(r)) return fail(formatFlowError(r.left));
  return { nll: -mean(r.right.logp), nfe: r.right.stats.nfe };
};

/** The learned density on a square grid, as `exp(log p)` row-major by y. */
const densityGrid = (c: CompiledCnf, values: ParamValues, lim: number, n: number) => {
  const axis = Array.from({ length: n }, (_, i) => -lim + ((i + 0.5) * 2 * lim) / n);
  const pts = new Float64Array(n * n * 2);
  axis.forEach((y, j) => axis.forEach((x, i) => { pts[2 * (j * n + i)] = x; pts[2 * (j * n + i) + 1] = y; }));
  const r = logDensity(c, values, { shape: [n * n, 2], data: pts }, { solver: evalSolver });
  if (E.isLeft(r)) return fail(formatFlowError(r.left));
  const cell = (2 * lim / n) ** 2;
  const mass = r.right.logp.reduce((m, l) => m + Math.exp(l) * cell, 0);
  return { axis, values: Array.from(r.right.logp, Math.exp), mass };
};

/** Base draws pushed from t1 = 1 back to the data at t0 = 0, kept at a few times. */
const samplePath = (c: CompiledCnf, values: ParamValues, n: number, times: readonly number[]) => {
  const field = cnfField(c, values);
  if (E.isLeft(field)) return fail(field.left);
  const [z1] = draw(nextNormal, seedRng(seed, 'cnf-samples'), n * 2);
  const y0: F64Batch = { data: new Float64Array(n * 3), batch: n, dim: 3 };
  for (let b = 0; b < n; b++) y0.data.set(z1.subarray(2 * b, 2 * b + 2), 3 * b);
  const sol = integrate(f64Space, field.right, y0, { ...evalSolver, t0: 1, t1: 0, ts: times });
  if (E.isLeft(sol)) return fail(`sampling: ${formatSolveError(sol.left)}`);
  return sol.right.ys.map((y, k) => ({
    t: times[k] as number,
    points: Array.from({ length: n }, (_, b) => [y.data[3 * b] as number, y.data[3 * b + 1] as number]),
  }));
};

const plot = async (name: string, spec: PlotSpec): Promise<string> => {
  const r = await writePlot(out, name, spec);
  return E.isLeft(r) ? fail(formatPlotError(r.left)) : r.right.pngPath;
};

const started = performance.now();
const results = [];
const plots: string[] = [];
for (const name of datasets) {
  const t0 = performance.now();
  const base = flowDynamics(settings.hidden);
  const trainFlow = cnf(base, { trace });
  const exact = trace === 'exact' ? trainFlow : cnf(base, { trace: 'exact' });
  const compiled = compileCnf(exact);
  const init = initParams(base.params, seed);
  const [test] = toy2d(name, settings.nTest, seedRng(seed, `cnf-test-${name}`));
  const baseNll = -mean(standardNormalLogPdf(test));
  const untrained = nll(compiled, init, test).nll;
  log(`${name}: ${exact.traceMethod} trace, hidden [${settings.hidden.join(', ')}], ${settings.iterations} iterations of ${settings.batchSize}; base NLL ${baseNll.toFixed(3)}, untrained ${untrained.toFixed(3)}`);
  const every = Math.max(1, Math.round(settings.iterations / 20));
  // On a terminal, a progress bar on stderr; otherwise a line every 5 % (stdout stays for the summary).
  const bar = process.stderr.isTTY === true ? progress({ total: settings.iterations, tty: true }) : undefined;
  const trained = trainCnf(trainFlow, {
    init, data: (n, rng) => toy2d(name, n, rng), iterations: settings.iterations, batchSize: settings.batchSize,
    seed, solver, optimizer: { kind: 'adam', lr: settings.lr },
    schedule: { kind: 'cosine', total: settings.iterations, minLr: settings.lr / 20 }, clipNorm: 50,
    onIteration: (e) => {
      if (bar !== undefined) bar.log(e);
      else if (e.iteration % every === 0 || e.iteration === 1)
        log(`  ${name} iter ${e.iteration}/${settings.iterations} loss ${e.loss.toFixed(4)} nfe ${e.nfeForward}/${e.nfeBackward} ${e.timeMs.toFixed(0)} ms`);
    },
  });
  bar?.close();
  const tr = E.isLeft(trained) ? fail(formatTrainCnfError(trained.left)) : trained.right;
  const trainSeconds = (performance.now() - t0) / 1000;
  const testEval = nll(compiled, tr.params, test);
  const lim = 4;
  const grid = densityGrid(compiled, tr.params, lim, settings.grid);
  const frames = samplePath(compiled, tr.params, settings.nSamples, [1, 0.75, 0.5, 0.25, 0]);
  plots.push(await plot(`density-${name}`, densityHeatmap({
    title: `CNF density: ${name}`, subtitle: `test NLL ${testEval.nll.toFixed(3)} nats (base ${baseNll.toFixed(3)})`,
    xs: grid.axis, ys: grid.axis, values: grid.values, colorTitle: 'p(x)',
  })));
  plots.push(await plot(`samples-${name}`, samplesOverTime({ title: `CNF samples: ${name}, base (t = 1) → data (t = 0)`, frames, columns: frames.length })));
  const last = tr.history.slice(-Math.min(20, tr.history.length));
  results.push({
    dataset: name, testNll: testEval.nll, baseNll, untrainedNll: untrained, gridMass: grid.mass,
    finalTrainLoss: last.length === 0 ? null : mean(last.map((e) => e.loss)),
    iterations: settings.iterations, seconds: (performance.now() - t0) / 1000, trainSeconds,
    nfe: { forwardPerIteration: tr.nfe.meanForward, backwardPerIteration: tr.nfe.meanBackward, forward: tr.nfe.forward, backward: tr.nfe.backward, testEval: testEval.nfe },
  });
  log(`${name}: test NLL ${testEval.nll.toFixed(3)} nats (base Gaussian ${baseNll.toFixed(3)}, untrained ${untrained.toFixed(3)}), grid mass ${grid.mass.toFixed(3)}, ${trainSeconds.toFixed(1)} s`);
}
process.stdout.write(JSON.stringify({
  example: 'cnf', quick, seed, trace, hidden: settings.hidden, batchSize: settings.batchSize, iterations: settings.iterations,
  seconds: (performance.now() - started) / 1000, results, plots: plots.map((p) => join(p)),
}) + '\n');
