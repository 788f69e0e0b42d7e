/**
 * Writes one of each plot into out/plot-smoke/ (SVG + PNG) from deterministic synthetic data, so
 * the plots can be looked at. Run: `npx tsx scripts/plot-smoke.ts`.
 */
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import {
  decodePng, densityHeatmap, formatPlotError, inkStats, lineChart, phasePortrait, samplesOverTime,
  scatter, systemFontFamilies, timeSeries, trainingCurves, writePlot, type PlotSpec,
} from '../src/plot/index.ts';

const dir = 'out/plot-smoke';

/** A tiny seeded LCG (deterministic output; quality is irrelevant here). */
const rng = (seed: number) => {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
};

// torchdiffeq's ode_demo spiral: dz/dt = (z³) A with A = [[-0.1, 2], [-2, -0.1]]; `k` perturbs it.
const spiral = (k: number) => (x: number, y: number): [number, number] =>
  [-0.1 * k * x ** 3 + 2 * y ** 3, -2 * x ** 3 - 0.1 * k * y ** 3];

const rk4 = (f: (x: number, y: number) => [number, number], h: number, steps: number, every: number) => {
  let p: [number, number] = [2, 0];
  const points: [number, number][] = [p];
  const times = [0];
  for (let i = 1; i <= steps; i++) {
    const [x, y] = p;
    const k1 = f(x, y);
    const k2 = f(x + (h / 2) * k1[0], y + (h / 2) * k1[1]);
    const k3 = f(x + (h / 2) * k2[0], y + (h / 2) * k2[1]);
    const k4 = f(x + h * k3[0], y + h * k3[1]);
    p = [x + (h / 6) * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]), y + (h / 6) * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])];
    if (i % every === 0) {
      points.push(p);
      times.push(i * h);
    }
  }
  return { points, times };
};

const specs = (): readonly (readonly [string, PlotSpec])[] => {
  const r = rng(2024);
  const log = Array.from({ length: 400 }, (_, i) => ({
    iteration: i + 1,
    loss: 1.8 * Math.exp(-i / 80) * (1 + 0.35 * (r.uniform() - 0.5)) + 0.004,
    nfeForward: Math.round(26 + i / 12 + 6 * r.uniform()),
    nfeBackward: Math.round(38 + i / 8 + 8 * r.uniform()),
    timeMs: 35 + i / 6 + 8 * r.uniform(),
  }));
  const grid = Array.from({ length: 21 }, (_, i) => -2 + i * 0.2);
  const learned = spiral(1.3);
  const field = {
    xs: grid, ys: grid,
    u: grid.map((y) => grid.map((x) => learned(x, y)[0])),
    v: grid.map((y) => grid.map((x) => learned(x, y)[1])),
  };
  const truth = rk4(spiral(1), 0.005, 5000, 2);
  const pred = rk4(learned, 0.005, 5000, 2);
  const trajectories = [{ name: 'true', points: truth.points }, { name: 'predicted', points: pred.points }];

  const n = 100;
  const axis = Array.from({ length: n }, (_, i) => -4 + (8 * i) / (n - 1));
  const ring = (x: number, y: number): number => Math.exp(-((Math.hypot(x, y) - 2.5) ** 2) / 0.18) / 4.7;
  const target = Array.from({ length: 800 }, () => {
    const a = 2 * Math.PI * r.uniform();
    const rad = 2.5 + 0.3 * r.normal();
    return [rad * Math.cos(a), rad * Math.sin(a)] as const;
  });
  const base = target.map(() => [r.normal(), r.normal()] as const);
  const frames = [0, 0.25, 0.5, 0.75, 1].map((t) => ({
    t, points: base.map((b, i) => [(1 - t) * b[0] + t * (target[i]?.[0] ?? 0), (1 - t) * b[1] + t * (target[i]?.[1] ?? 0)]),
  }));

  const tAll = Array.from({ length: 121 }, (_, i) => i * 0.1);
  const wave = (t: number): number => Math.sin(t) * Math.exp(-0.08 * t);
  const obs = Array.from({ length: 30 }, () => 6 * r.uniform()).sort((a, b) => a - b);
  return [
    ['training', trainingCurves(log, { title: 'Training: spiral ODE (adjoint, dopri5)', smoothing: 0.9 })],
    ['phase', phasePortrait({ title: 'Spiral: learned vector field', field, trajectories })],
    ['timeseries', timeSeries({ title: 'Spiral: state against time', trajectories: [
      { name: 'true', times: truth.times, points: truth.points },
      { name: 'predicted', times: pred.times, points: pred.points }] })],
    ['density', densityHeatmap({ title: 'Learned density p(x)', xs: axis, ys: axis, values: axis.map((y) => axis.map((x) => ring(x, y))) })],
    ['scatter', scatter({ title: 'Samples from the flow', points: target, color: target.map((p) => Math.atan2(p[1], p[0])), colorTitle: 'angle' })],
    ['samples', samplesOverTime({ title: 'CNF: samples from t = 0 to t = 1', frames, columns: 5 })],
    ['line', lineChart({ title: 'Latent ODE: reconstruction and extrapolation', xTitle: 't', yTitle: 'x(t)', series: [
      { name: 'true', x: tAll, y: tAll.map(wave) },
      { name: 'observed', x: obs, y: obs.map((t) => wave(t) + 0.08 * (r.uniform() - 0.5)), style: 'points' },
      { name: 'predicted', x: tAll, y: tAll.map((t) => 1.03 * Math.sin(0.98 * t) * Math.exp(-0.085 * t)) }],
    regions: [{ from: 6, to: 12, label: 'extrapolation' }] })],
  ];
};

const families = systemFontFamilies();
console.log(`fonts: ${families === null ? 'fc-list unavailable' : families.length === 0 ? 'none' : families.join(', ')}`);
let failed = false;
for (const [name, spec] of specs()) {
  const started = performance.now();
  const written = await writePlot(dir, name, spec);
  if (E.isLeft(written)) {
    console.error(`${name}: ${formatPlotError(written.left)}`);
    failed = true;
    continue;
  }
  const { pngPath, rendered } = written.right;
  const img = decodePng(readFileSync(pngPath));
  const ink = E.isRight(img) ? inkStats(img.right) : undefined;
  console.log(`${pngPath}  ${rendered.pngWidth}×${rendered.pngHeight}  ${(performance.now() - started).toFixed(0)} ms`
    + `  ink ${ink === undefined ? '?' : `${(ink.nonWhite * 100).toFixed(1)}%`}`
    + (rendered.warnings.length > 0 ? `  warnings: ${rendered.warnings.join('; ')}` : ''));
}
process.exitCode = failed ? 1 : 0;
