/**
 * `fluxion gradcheck SPEC.json --data DATA.json`: computes the loss gradient on one batch of
 * windows by the adjoint, by backprop through the solver, and by central finite differences, and
 * prints them side by side with the function-evaluation counts (a check a user can run).
 */
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { formatGradientError, gradient, lossValue, type GradientProblem } from '../adjoint/gradients/index.ts';
import { decodeTrajectory } from '../data/trajectory.ts';
import { dopri5 } from '../solvers/index.ts';
import { windowsAt } from '../train/windows.ts';
import type { ParamValues } from '../dsl/params.ts';
import type { Command } from './command.ts';
import { fail, parseNumber, parseWithSpec } from './io.ts';
import { loadModelSpec } from './specFile.ts';

/** `fluxion gradcheck`. @example await gradcheck.run(['examples/specs/spiral.json', '--data', 'examples/data/spiral.json']) */
export const gradcheck: Command = {
  run: async (args) => {
    const p = parseWithSpec(args, { data: { type: 'string' }, rtol: { type: 'string' }, 'batch-time': { type: 'string' }, json: { type: 'boolean' } });
    if (E.isLeft(p)) return p;
    const { file, values: v } = p.right;
    if (v.data === undefined) return E.left(fail('--data DATA.json is required', true));
    const rtol = v.rtol === undefined ? E.right(1e-9) : parseNumber('--rtol', v.rtol);
    if (E.isLeft(rtol)) return rtol;
    const spec = await loadModelSpec(file);
    if (E.isLeft(spec)) return spec;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(v.data, 'utf8'));
    } catch (e) {
      return E.left(fail(`${v.data}: cannot read JSON (${e instanceof Error ? e.message : 'error'})`));
    }
    const data = decodeTrajectory(json);
    if (E.isLeft(data)) return E.left(fail(`${v.data}: ${data.left}`));
    const m = spec.right.model;
    const n = data.right.t.length;
    const bt = Math.min(10, n);
    const starts = [0, Math.floor(n / 3), Math.floor((2 * n) / 3)].filter((s) => s + bt <= n);
    const batch = windowsAt(data.right, starts, bt);
    const solver = { method: dopri5, rtol: rtol.right, atol: rtol.right * 1e-2 };
    const loss = m.loss;
    const target = loss?.inputs[0];
    if (loss === undefined || target === undefined || loss.inputs.length !== 1) return E.left(fail(`${file}: gradcheck needs a loss with one data input besides the prediction`));
    const problem: GradientProblem = { dynamics: m.dynamics, loss, params: m.values, z0: batch.z0, ts: batch.ts, lossInputs: { [target.name]: batch.target }, solver };
    const ra = gradient(problem, { method: 'adjoint', seminorm: true });
    const rb = gradient(problem, { method: 'backprop' });
    if (E.isLeft(ra)) return E.left(fail(formatGradientError(ra.left)));
    if (E.isLeft(rb)) return E.left(fail(formatGradientError(rb.left)));
    const lossAt = (params: ParamValues): number => {
      const r = lossValue({ ...problem, params });
      return E.isRight(r) ? r.right : NaN;
    };
    const rows: { param: string; index: number; adjoint: number; backprop: number; fd: number }[] = [];
    for (const decl of m.params) {
      const size = decl.shape.reduce((a, b) => a * b, 1);
      for (const index of [...new Set([0, Math.floor(size / 2), size - 1])]) {
        const base = m.values[decl.name];
        if (base === undefined) continue;
        const h = 1e-6 * Math.max(1, Math.abs(base.data[index] as number));
        const at = (d: number): number => lossAt({ ...m.values, [decl.name]: { shape: base.shape, data: base.data.map((x, i) => (i === index ? x + d : x)) } });
        rows.push({ param: decl.name, index, adjoint: ra.right.dparams[decl.name]?.data[index] ?? NaN, backprop: rb.right.dparams[decl.name]?.data[index] ?? NaN, fd: (at(h) - at(-h)) / (2 * h) });
      }
    }
    const stats = { adjoint: ra.right.stats, backprop: rb.right.stats };
    if (v.json === true) return E.right(JSON.stringify({ loss: ra.right.loss, rows, stats }));
    const fmt = (x: number): string => x.toExponential(6).padStart(15);
    const rel = (a: number, b: number): string => (Math.abs(a - b) / Math.max(1e-300, Math.abs(b))).toExponential(1).padStart(9);
    return E.right([
      `loss ${ra.right.loss} on ${starts.length} windows of ${bt} points (dopri5, rtol ${solver.rtol})`,
      `${'parameter'.padEnd(12)}${'adjoint'.padStart(15)}${'backprop'.padStart(15)}${'finite diff.'.padStart(15)}${'rel. err adj'.padStart(14)}${'rel. err bp'.padStart(13)}`,
      ...rows.map((r) => `${`${r.param}[${r.index}]`.padEnd(12)}${fmt(r.adjoint)}${fmt(r.backprop)}${fmt(r.fd)}${rel(r.adjoint, r.fd).padStart(14)}${rel(r.backprop, r.fd).padStart(13)}`),
      `adjoint: ${stats.adjoint.nfeForward} forward + ${stats.adjoint.nfeBackward} backward evaluations; backprop: ${stats.backprop.nfeForward} forward + ${stats.backprop.nfeBackward} backward`,
    ].join('\n'));
  },
};
