/**
 * Measures the constants of the placement cost model (`src/interp/placement.ts`): µs per
 * evaluation of the spiral and scale vector fields and adjoint systems on the generated kernel
 * and on the active tfjs backend, at several batch sizes, with each program's workload, what the
 * model predicts and chooses. (The native backend's times vary by 2–3× between runs on our shared
 * 2-core machine; the constants are rounded from the medians of several runs, not fitted to one.)
 * Run: node --import tsx bench/placement.ts   (FLUXION_BACKEND=wasm for the wasm backend)
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Node } from '../src/dsl/node.ts';
import { augmentedRoots, makeAdjointSystem } from '../src/adjoint/system.ts';
import { selectBackend } from '../src/interp/backend.ts';
import { bufferProgram, kernelEvaluator, type BufferProgram } from '../src/interp/evaluator.ts';
import { choosePlacement, costModel, workload } from '../src/interp/placement.ts';
import { tfjsBufferProgram } from '../src/interp/tfjsBuffers.ts';
import { freeVars } from '../src/interp/traverse.ts';
import { spiralModel } from '../src/models/spiral.ts';
import { loadScale, scaleModel } from './problems.ts';

const b = await selectBackend();
if (E.isLeft(b)) throw new Error('no tfjs backend');
const usPer = (p: BufferProgram, budgetMs: number): number => {
  const ins = p.inputSizes.map((n) => Float64Array.from({ length: n }, (_, i) => 0.5 * Math.sin(i)));
  const outs = p.outputSizes.map((n) => new Float64Array(n));
  for (let i = 0; i < 5; i++) p.run(ins, outs);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < budgetMs || n < 3) {
    p.run(ins, outs);
    n++;
  }
  return ((performance.now() - t0) / n) * 1000;
};

const programs: [string, readonly Node[]][] = [];
for (const [name, m] of [['spiral', spiralModel()], ['scale', scaleModel(64, loadScale().weights)]] as const) {
  const s = makeAdjointSystem(m.dynamics);
  if (E.isLeft(s)) throw new Error(s.left);
  programs.push([`${name} f`, [m.dynamics.f.node]], [`${name} adjoint`, augmentedRoots(s.right)]);
}
const rows: { name: string; batch: number; work: number; elementwise: number; contraction: number; ops: number; kernelUs: number; tfjsUs: number; chosen: string; predicted: unknown }[] = [];
for (const [name, roots] of programs) {
  const vars = freeVars(roots);
  for (const batch of [1, 16, 64, 256, 1024, 4096]) {
    const sizes = new Map([['batch', batch]]);
    const k = bufferProgram(kernelEvaluator, roots, vars, sizes);
    const t = tfjsBufferProgram(roots, vars, sizes);
    const w = workload(roots, vars, sizes);
    if (E.isLeft(k) || E.isLeft(t) || E.isLeft(w)) throw new Error('compile');
    const row = {
      name, batch, ...w.right, kernelUs: usPer(k.right, 300), tfjsUs: usPer(t.right, 300),
      ...(() => {
        const c = choosePlacement(w.right, { request: 'auto', tfjsBackend: b.right.name });
        return { chosen: c.backend, predicted: c.predicted };
      })(),
    };
    t.right.dispose();
    rows.push(row);
    process.stderr.write(`${name} ${batch}: kernel ${row.kernelUs.toFixed(1)} µs, tfjs ${row.tfjsUs.toFixed(1)} µs, work ${row.work}, ops ${row.ops} → ${row.chosen}\n`);
  }
}
process.stdout.write(`${JSON.stringify({
  bench: 'placement', tfjs_backend: b.right.name,
  model: costModel,
  rows: rows.map((r) => ({ ...r, kernelUs: Number(r.kernelUs.toPrecision(4)), tfjsUs: Number(r.tfjsUs.toPrecision(4)) })),
})}\n`);
