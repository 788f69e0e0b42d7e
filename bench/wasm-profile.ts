/**
 * Where one evaluation of the WebAssembly adjoint-system kernel of the scale problem goes: the
 * kernel of the first i tape instructions is compiled and timed for every i (real weights and
 * y0; min of 5 medians), and each instruction's increment printed with what it is. Increments
 * are differences of noisy timings: small negative ones are noise. FWD=1 profiles f instead.
 * Run: npx tsx bench/wasm-profile.ts [batch]   (default 256)
 */
import * as E from 'fp-ts/lib/Either.js';
import { augmentedRoots, makeAdjointSystem } from '../src/adjoint/system.ts';
import { allocate } from '../src/interp/kernel/alloc.ts';
import { lower } from '../src/interp/kernel/lower.ts';
import { compileWasm } from '../src/interp/kernel/wasm/compileWasm.ts';
import { freeVars } from '../src/interp/traverse.ts';
import { loadScale, scaleModel } from './problems.ts';

const p = loadScale();
const sys = makeAdjointSystem(scaleModel(p.hidden, p.weights).dynamics);
if (E.isLeft(sys)) throw new Error(sys.left);
const roots = process.env['FWD'] !== undefined ? [scaleModel(p.hidden, p.weights).dynamics.f.node] : augmentedRoots(sys.right);
const vars = freeVars(roots);
const batch = Number(process.argv[2] ?? 256);
const t = lower(roots, vars, new Map([['batch', batch]]));
if (E.isLeft(t)) throw new Error('lower');
const tape = t.right;
const { locs, arenaSize } = allocate(tape);
process.stdout.write(`${vars.map((v) => `${v.name}${JSON.stringify(v.shape)}`).join(' ')}\n`);
const amp = Number(process.env.AMP ?? 0.5);
const time = (run: () => void): number => {
  const reps = Math.max(5, Math.round(100_000 / batch));
  for (let r = 0; r < reps; r++) run();
  const meds: number[] = [];
  for (let round = 0; round < 5; round++) {
    const ts: number[] = [];
    for (let r = 0; r < reps; r++) { const t0 = performance.now(); run(); ts.push(performance.now() - t0); }
    meds.push(ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)] as number * 1000);
  }
  return Math.min(...meds);
};
let prev = 0;
for (let i = 0; i <= tape.instrs.length; i++) {
  const k = compileWasm({ ...tape, instrs: tape.instrs.slice(0, i) }, locs, arenaSize);
  if (k === undefined) throw new Error('wasm');
  // Real inputs: the problem's y0 and weights; the adjoint state small.
  const ins = vars.map((v, j) => {
    const w = p.weights[v.name];
    if (w !== undefined) return Float64Array.from(w.data);
    if (v.name === 'y' || v.name === 'z') return Float64Array.from((p.y0.get(batch) as { data: Float64Array }).data);
    const n = (tape.inputShapes[j] as number[]).reduce((a, b) => a * b, 1);
    return Float64Array.from({ length: n }, (_, q) => amp * Math.sin(q + 3 * j));
  });
  const outs = tape.outputShapes.map((s) => new Float64Array(s.reduce((a, b) => a * b, 1)));
  const us = time(() => k.run(ins, outs));
  const ins_ = tape.instrs[i - 1];
  const d = ins_ === undefined ? '' : ins_.kind === 'matmul' ? `matmul m${ins_.m} k${ins_.k} n${ins_.n} xs${ins_.xStrides} ys${ins_.yStrides}` : ins_.kind === 'map' ? `map ${ins_.dims} steps ${ins_.steps.map((s) => s.op).join(',')} leaves ${ins_.leaves.map((l) => l.strides.join('/')).join(' ')}` : ins_.kind === 'reduce' ? `reduce ${ins_.op} kept ${ins_.keptDims}/${ins_.keptStrides} red ${ins_.redDims}/${ins_.redStrides}` : ins_.kind;
  process.stdout.write(`${i} +${(us - prev).toFixed(1)}us total ${us.toFixed(1)} ${d}\n`);
  prev = us;
}
