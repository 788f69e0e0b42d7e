/** `fluxion eval SPEC.json --inputs VALUES.json`: evaluate a spec in float64, JSON out. */
import * as E from 'fp-ts/lib/Either.js';
import type { Node } from '../dsl/node.ts';
import { formatBindError } from '../interp/bind.ts';
import { evalF64 } from '../interp/evalF64.ts';
import { toNested, type F64Tensor } from '../interp/tensor.ts';
import type { Command } from './command.ts';
import { fail, parseWithSpec } from './io.ts';
import { loadSpec, loadValues } from './specFile.ts';

/**
 * Evaluates each root (dynamics `f`, and the loss when its inputs are given) with the spec's
 * parameter values and the user's inputs; prints one JSON object.
 * @example await evalCmd.run(['examples/specs/spiral.json', '--inputs', 'y.json'])
 */
export const evalCmd: Command = {
  run: async (args) => {
    const p = parseWithSpec(args, { inputs: { type: 'string' } });
    if (E.isLeft(p)) return p;
    const { file } = p.right;
    const inputsPath = p.right.values.inputs;
    if (inputsPath === undefined) return E.left(fail('--inputs VALUES.json is required', true));
    const s = await loadSpec(file);
    if (E.isLeft(s)) return s;
    const vals = await loadValues(inputsPath);
    if (E.isLeft(vals)) return vals;
    const env: Record<string, F64Tensor> = { ...vals.right };
    const roots: [string, Node][] = [];
    if (s.right.kind === 'model') {
      const m = s.right.spec.model;
      for (const [k, v] of Object.entries(m.values)) if (!(k in env)) env[k] = v;
      roots.push(['f', m.dynamics.f.node]);
      // The loss is evaluated only when the user gave its prediction.
      const pred = m.loss?.prediction.node;
      if (m.loss !== undefined && pred?.kind === 'var' && pred.name in vals.right) roots.push(['loss', m.loss.value.node]);
    } else {
      roots.push(...s.right.spec.exprs);
    }
    const out: Record<string, unknown> = {};
    for (const [name, node] of roots) {
      const r = evalF64([node], env);
      if (E.isLeft(r)) return E.left(fail(`${inputsPath}: ${name}: ${formatBindError(r.left)}`));
      out[name] = toNestedJson(r.right[0] as F64Tensor);
    }
    return E.right(JSON.stringify(out));
  },
};

/** Tensors as JSON: NaN and ±∞ become strings (JSON has no such numbers). */
const toNestedJson = (t: F64Tensor): unknown => {
  const fix = (v: unknown): unknown => (typeof v === 'number' ? (Number.isFinite(v) ? v : String(v)) : Array.isArray(v) ? v.map(fix) : v);
  return fix(toNested(t));
};
