/**
 * `fluxion solve SPEC.json --y0 '[[2,0]]' --ts 0,0.5,1 [--method dopri5] [--rtol] [--atol]`:
 * solves a model's dynamics on the Float64 path and prints the solution and statistics.
 */
import * as E from 'fp-ts/lib/Either.js';
import { compileF64Dynamics } from '../ode/f64Dynamics.ts';
import { formatSolveError, integrate, methodByName, f64Space, type F64Batch, type IntegrateOptions } from '../solvers/index.ts';
import { fromNested, type F64Tensor } from '../interp/tensor.ts';
import { referenceEvaluator } from '../interp/evaluator.ts';
import { formatShape } from '../dsl/shape.ts';
import type { Command } from './command.ts';
import { fail, parseNumber, parseNumberList, type CliError, parseWithSpec } from './io.ts';
import { loadModelSpec, loadValues } from './specFile.ts';

const options = {
  y0: { type: 'string' },
  inputs: { type: 'string' },
  ts: { type: 'string' },
  method: { type: 'string' },
  rtol: { type: 'string' },
  atol: { type: 'string' },
  'max-steps': { type: 'string' },
  'first-step': { type: 'string' },
  'dt': { type: 'string' },
  jacobian: { type: 'string' },
  reference: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const num = (flag: string, v: string | undefined): E.Either<CliError, number | undefined> =>
  v === undefined ? E.right(undefined) : parseNumber(flag, v);

/** `fluxion solve`. @example await solve.run(['examples/specs/vanderpol.json', '--y0', '[[2,0]]', '--ts', '0,1', '--method', 'rodas4']) */
export const solve: Command = {
  run: async (args) => {
    const p = parseWithSpec(args, options);
    if (E.isLeft(p)) return p;
    const { file, values: v } = p.right;
    if (v.ts === undefined) return E.left(fail('--ts t0,t1,… is required', true));
    const ts = parseNumberList('--ts', v.ts);
    if (E.isLeft(ts)) return ts;
    const method = methodByName(v.method ?? 'dopri5');
    if (E.isLeft(method)) return E.left(fail(`--method: ${formatSolveError(method.left)}`, true));
    const nums = E.sequenceArray([num('--rtol', v.rtol), num('--atol', v.atol), num('--max-steps', v['max-steps']), num('--first-step', v['first-step']), num('--dt', v.dt)]);
    if (E.isLeft(nums)) return nums;
    const [rtol, atol, maxSteps, firstStep, dt] = nums.right;
    if (v.jacobian !== undefined && v.jacobian !== 'symbolic' && v.jacobian !== 'fd')
      return E.left(fail(`--jacobian: ${JSON.stringify(v.jacobian)} is not symbolic or fd`, true));
    const spec = await loadModelSpec(file);
    if (E.isLeft(spec)) return spec;
    const model = spec.right.model;
    const inputs: Record<string, F64Tensor> = {};
    if (v.inputs !== undefined) {
      const vals = await loadValues(v.inputs);
      if (E.isLeft(vals)) return vals;
      Object.assign(inputs, vals.right);
    }
    const z = model.dynamics.state.node;
    const zName = z.kind === 'var' ? z.name : 'y';
    if (v.y0 !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v.y0);
      } catch {
        return E.left(fail(`--y0: not JSON; give the initial state as a nested array, e.g. '[[2, 0]]'`, true));
      }
      const t = fromNested(parsed);
      if (t === undefined) return E.left(fail('--y0: expected a rectangular nested array of numbers', true));
      inputs[zName] = t;
    }
    const y0 = inputs[zName];
    if (y0 === undefined) return E.left(fail(`give the initial state: --y0 '[[…]]' or a "${zName}" entry in --inputs`, true));
    if (y0.shape.length !== z.shape.length || y0.shape.some((d, i) => i > 0 && d !== z.shape[i]))
      return E.left(fail(`initial state ${zName} has shape [${y0.shape.join(',')}], the spec declares ${formatShape(z.shape)}`));
    const { [zName]: _state, ...others } = inputs;
    const dyn = compileF64Dynamics(model.dynamics, model.values, { inputs: others, ...(v.reference === true ? { evaluator: referenceEvaluator } : {}) });
    if (E.isLeft(dyn)) return E.left(fail(`${file}: ${dyn.left}`));
    const batch = y0.shape[0] as number;
    const state: F64Batch = { data: y0.data, batch, dim: y0.data.length / Math.max(1, batch) };
    const useJac = method.right.kind === 'rosenbrock' && v.jacobian !== 'fd' && dyn.right.jacobian !== undefined;
    const opts: IntegrateOptions<F64Batch> = {
      method: method.right, ts: ts.right,
      ...(rtol === undefined ? {} : { rtol }), ...(atol === undefined ? {} : { atol }),
      ...(maxSteps === undefined ? {} : { maxSteps }), ...(firstStep === undefined ? {} : { firstStep }),
      ...(dt === undefined ? {} : { dt }),
      ...(useJac && dyn.right.jacobian !== undefined ? { jacobian: dyn.right.jacobian } : {}),
      ...(dyn.right.autonomous ? { autonomous: true } : {}),
    };
    const r = integrate(f64Space, dyn.right.f, state, opts);
    if (E.isLeft(r)) return E.left(fail(`${file}: ${formatSolveError(r.left)}`));
    const sol = r.right;
    const shape = [batch, ...dyn.right.rowShape];
    const ys = sol.ys.map((y) => fromFlat(y.data, shape));
    const stats = { ...sol.stats, method: method.right.name, jacobian: method.right.kind === 'rosenbrock' ? (useJac ? 'symbolic' : 'finite differences') : 'none' };
    if (v.json === true) return E.right(JSON.stringify({ ts: sol.ts, ys, stats }));
    const lines = (sol.ts as readonly number[]).map((t, k) => `t = ${t}: ${JSON.stringify(ys[k])}`);
    lines.push(`${stats.method}: ${stats.nfe} function evaluations, ${stats.accepted} accepted and ${stats.rejected} rejected steps${stats.njac > 0 ? `, ${stats.njac} Jacobians (${stats.jacobian}), ${stats.nlu} LU factorizations` : ''}`);
    return E.right(lines.join('\n'));
  },
};

const fromFlat = (data: Float64Array, shape: readonly number[]): unknown => {
  const build = (off: number, axis: number): unknown => {
    if (axis === shape.length) return data[off];
    const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: shape[axis] as number }, (_, i) => build(off + i * stride, axis + 1));
  };
  return build(0, 0);
};
