/** `fluxion predict SPEC.json --params DIR/checkpoint.json --y0 JSON --ts …`: forecasts with trained parameters. */
import * as E from 'fp-ts/lib/Either.js';
import { shapeEq } from '../dsl/shape.ts';
import { fromNested, toNested } from '../interp/tensor.ts';
import { methodByName } from '../solvers/index.ts';
import { formatCheckpointError, loadCheckpoint } from '../train/checkpoint.ts';
import { predict as predictWith } from '../train/predict.ts';
import { formatTrainError } from '../train/trainError.ts';
import type { Command } from './command.ts';
import { fail, parseNumber, parseNumberList, parseWithSpec } from './io.ts';
import { loadModelSpec } from './specFile.ts';

/** `fluxion predict`. @example await predict.run(['examples/specs/spiral.json', '--params', 'out/checkpoint.json', '--y0', '[[2,0]]', '--ts', '0,1,2']) */
export const predict: Command = {
  run: async (args) => {
    const p = parseWithSpec(args, { params: { type: 'string' }, y0: { type: 'string' }, ts: { type: 'string' }, method: { type: 'string' }, rtol: { type: 'string' }, atol: { type: 'string' } });
    if (E.isLeft(p)) return p;
    const { file, values: v } = p.right;
    if (v.params === undefined) return E.left(fail('--params DIR/checkpoint.json is required', true));
    if (v.ts === undefined) return E.left(fail('--ts t0,t1,… is required', true));
    if (v.y0 === undefined) return E.left(fail("--y0 is required, e.g. --y0 '[[2, 0]]'", true));
    const ts = parseNumberList('--ts', v.ts);
    if (E.isLeft(ts)) return ts;
    const method = methodByName(v.method ?? 'dopri5');
    if (E.isLeft(method)) return E.left(fail(`--method: ${v.method ?? ''} is not a method`, true));
    const rtol = v.rtol === undefined ? E.right(1e-7) : parseNumber('--rtol', v.rtol);
    const atol = v.atol === undefined ? E.right(1e-9) : parseNumber('--atol', v.atol);
    if (E.isLeft(rtol)) return rtol;
    if (E.isLeft(atol)) return atol;
    let y0json: unknown;
    try {
      y0json = JSON.parse(v.y0);
    } catch {
      return E.left(fail("--y0: not JSON; give the initial state as a nested array, e.g. '[[2, 0]]'", true));
    }
    const y0 = fromNested(y0json);
    if (y0 === undefined) return E.left(fail('--y0: expected a rectangular nested array of numbers', true));
    const spec = await loadModelSpec(file);
    if (E.isLeft(spec)) return spec;
    const model = spec.right.model;
    const ckpt = await loadCheckpoint(v.params);
    if (E.isLeft(ckpt)) return E.left(fail(formatCheckpointError(ckpt.left)));
    for (const decl of model.params) {
      const got = ckpt.right.params[decl.name];
      if (got === undefined) return E.left(fail(`${v.params}: no values for parameter ${decl.name} of ${file}`));
      if (!shapeEq(got.shape, decl.shape)) return E.left(fail(`${v.params}: parameter ${decl.name} has shape [${got.shape.join(',')}], ${file} declares [${decl.shape.join(',')}]`));
    }
    const z = model.dynamics.state.node;
    if (y0.shape.length !== z.shape.length || y0.shape.some((d, i) => i > 0 && d !== z.shape[i]))
      return E.left(fail(`--y0 has shape [${y0.shape.join(',')}], the state of ${file} is [${z.shape.join(',')}]`));
    const r = predictWith(model, ckpt.right.params, y0, ts.right, { method: method.right, rtol: rtol.right, atol: atol.right });
    if (E.isLeft(r)) return E.left(fail(formatTrainError(r.left)));
    const tr = r.right.trajectory;
    const per = tr.data.length / ts.right.length;
    const ys = ts.right.map((_, k) => toNested({ shape: y0.shape, data: tr.data.subarray(k * per, (k + 1) * per) }));
    return E.right(JSON.stringify({ ts: ts.right, ys, nfe: r.right.nfe }));
  },
};
