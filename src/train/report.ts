/**
 * What a finished (or stopped) training run leaves in its output folder: training curves, a phase
 * portrait for 2-D states (true and predicted trajectories over the learned vector field), the
 * pretty-printed adjoint system (text and LaTeX), and a JSON summary.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Model } from '../dsl/model.ts';
import type { ParamValues } from '../dsl/params.ts';
import type { Trajectory } from '../data/trajectory.ts';
import { augmentedLayout, makeAdjointSystem } from '../adjoint/system.ts';
import { kernelEvaluator } from '../interp/evaluator.ts';
import { printLatex } from '../interp/printLatex.ts';
import { printText } from '../interp/printText.ts';
import { scalarT, type F64Tensor } from '../interp/tensor.ts';
import { formatPlotError, phasePortrait, trainingCurves, writePlot } from '../plot/index.ts';
import type { IterationLog } from './progress.ts';
import { predict, type SolverSettings } from './predict.ts';
import { fullTrajectory } from './windows.ts';

/**
 * The adjoint system of a model's dynamics as text and LaTeX, shared subexpressions bound once.
 * @example const { text, latex } = adjointPrintout(model)
 */
export const adjointPrintout = (model: Model): E.Either<string, { readonly text: string; readonly latex: string }> => {
  // Adjoint a, parameter adjoints θ̄ (printed with a bar), time adjoint t̄.
  const sys = makeAdjointSystem(model.dynamics, { adjoint: 'a', param: (p) => `${p}_bar`, time: `${timeName(model)}_bar` });
  if (E.isLeft(sys)) return sys;
  const slots = augmentedLayout(sys.right);
  const t = sys.right.t.name;
  const roots = slots.map((s) => ({ name: `d${barText(s.name)}/d${t}`, latex: `\\frac{d${barLatex(s.name)}}{d${t}}`, expr: s.rhs }));
  const names = new Map(slots.map((s) => [s.variable, barText(s.name)] as const));
  return E.right({ text: printText(roots, { names }), latex: printLatex(roots) });
};

const timeName = (m: Model): string => (m.dynamics.time.node.kind === 'var' ? m.dynamics.time.node.name : 't');
const subscripts = '₀₁₂₃₄₅₆₇₈₉';
/** `W1_bar` → `W̄₁` for text. */
const barText = (name: string): string => {
  const m = /^(.*?)(\d*)_bar$/.exec(name);
  if (m === null) return name;
  const [, base = '', digits = ''] = m;
  return `${base}\u0304${[...digits].map((d) => subscripts[Number(d)]).join('')}`;
};
/** `W1_bar` → `\bar{W}_{1}` for LaTeX. */
const barLatex = (name: string): string => {
  const m = /^(.*?)(\d*)_bar$/.exec(name);
  if (m === null) return name;
  const [, base = '', digits = ''] = m;
  return `\\bar{${base}}${digits === '' ? '' : `_{${digits}}`}`;
};

/** Mean absolute error of the model's prediction over the whole trajectory, and the prediction. */
export const trajectoryError = (model: Model, params: ParamValues, data: Trajectory, solver: SolverSettings): E.Either<string, { readonly mae: number; readonly prediction: F64Tensor }> => {
  const full = fullTrajectory(data);
  const p = predict(model, params, full.z0, full.ts, solver);
  if (E.isLeft(p)) return E.left(p.left._tag === 'SolveFailed' ? `prediction failed at t = ${'t' in p.left.error ? String(p.left.error.t) : '?'}` : p.left._tag);
  let acc = 0;
  p.right.trajectory.data.forEach((v, i) => { acc += Math.abs(v - (full.target.data[i] as number)); });
  return E.right({ mae: acc / full.target.data.length, prediction: p.right.trajectory });
};

/** The learned vector field on a grid covering the data (2-D states only). */
const fieldOn = (model: Model, params: ParamValues, data: Trajectory, n = 21) => {
  const ys = data.y.data;
  let lo = Infinity, hi = -Infinity;
  for (const v of ys) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const pad = 0.1 * (hi - lo);
  const grid = Array.from({ length: n }, (_, i) => lo - pad + ((hi - lo + 2 * pad) * i) / (n - 1));
  const pts = new Float64Array(n * n * 2);
  grid.forEach((y, j) => grid.forEach((x, i) => { pts[2 * (j * n + i)] = x; pts[2 * (j * n + i) + 1] = y; }));
  const z = model.dynamics.state.node, t = model.dynamics.time.node;
  if (z.kind !== 'var' || t.kind !== 'var') return undefined;
  const r = kernelEvaluator([model.dynamics.f.node])({ ...params, [z.name]: { shape: [n * n, 2], data: pts }, [t.name]: scalarT(data.t[0] as number) });
  if (E.isLeft(r)) return undefined;
  const f = (r.right[0] as F64Tensor).data;
  return { xs: grid, ys: grid, u: Array.from({ length: n * n }, (_, k) => f[2 * k] as number), v: Array.from({ length: n * n }, (_, k) => f[2 * k + 1] as number) };
};

/** Files written by `writeReport`. */
export interface Report {
  readonly files: readonly string[];
  readonly mae?: number;
  readonly warnings: readonly string[];
}

/**
 * Writes plots, the adjoint system and `summary.json` to `dir`.
 * @example await writeReport('out', model, params, data, logs, solver, { iterations: 2000 })
 */
export const writeReport = async (
  dir: string, model: Model, params: ParamValues, data: Trajectory, logs: readonly IterationLog[], solver: SolverSettings, summary: Record<string, unknown>,
): Promise<Report> => {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const warnings: string[] = [];
  const plot = async (name: string, spec: Parameters<typeof writePlot>[2]) => {
    const r = await writePlot(dir, name, spec);
    if (E.isLeft(r)) warnings.push(`${name}: ${formatPlotError(r.left)}`);
    else files.push(r.right.pngPath, r.right.svgPath);
  };
  if (logs.length > 0) await plot('training', trainingCurves(logs, { title: `${model.name}: training`, smoothing: 0.9 }));
  const err = trajectoryError(model, params, data, solver);
  if (E.isLeft(err)) warnings.push(`final prediction: ${err.left}`);
  const rowShape = data.y.shape.slice(1);
  if (E.isRight(err) && rowShape.length === 1 && rowShape[0] === 2) {
    const n = data.t.length;
    const pts = (d: Float64Array) => Array.from({ length: n }, (_, k) => [d[2 * k] as number, d[2 * k + 1] as number]);
    const field = fieldOn(model, params, data);
    await plot('phase', phasePortrait({
      title: `${model.name}: learned vector field`,
      ...(field === undefined ? {} : { field }),
      trajectories: [{ name: 'true', points: pts(data.y.data) }, { name: 'predicted', points: pts(err.right.prediction.data) }],
    }));
  }
  const adj = adjointPrintout(model);
  if (E.isRight(adj)) {
    await writeFile(join(dir, 'adjoint.txt'), adj.right.text + '\n');
    await writeFile(join(dir, 'adjoint.tex'), adj.right.latex + '\n');
    files.push(join(dir, 'adjoint.txt'), join(dir, 'adjoint.tex'));
  } else warnings.push(`adjoint system: ${adj.left}`);
  const mae = E.isRight(err) ? err.right.mae : undefined;
  await writeFile(join(dir, 'summary.json'), JSON.stringify({ model: model.name, ...summary, ...(mae === undefined ? {} : { trajectoryMAE: mae }) }, null, 2) + '\n');
  files.push(join(dir, 'summary.json'));
  return { files, warnings, ...(mae === undefined ? {} : { mae }) };
};
