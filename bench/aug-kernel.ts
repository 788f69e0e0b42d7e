/**
 * The scale benchmark's adjoint-system kernel alone, on both kernel targets: for each batch size,
 * µs per evaluation of the generated JavaScript and of the WebAssembly kernel (min of 5 medians
 * over repeated runs on fixed inputs, to damp a shared machine's noise), their compile times,
 * and how many output values differ between the two (0: they agree bit for bit). With
 * `--source B`, prints the generated JavaScript kernel for batch B instead.
 * Run: npx tsx bench/aug-kernel.ts [--source 256]
 */
import * as E from 'fp-ts/lib/Either.js';
import { augmentedRoots, makeAdjointSystem } from '../src/adjoint/system.ts';
import { compileKernel, formatKernelError, kernelTargets, type Kernel, type KernelTarget } from '../src/interp/kernel/index.ts';
import { freeVars } from '../src/interp/traverse.ts';
import { loadScale, scaleModel } from './problems.ts';

const p = loadScale();
const sys = makeAdjointSystem(scaleModel(p.hidden, p.weights).dynamics);
if (E.isLeft(sys)) throw new Error(sys.left);
const roots = augmentedRoots(sys.right);
const kernelAt = (batch: number, target: KernelTarget): Kernel => {
  const k = compileKernel(roots, freeVars(roots), new Map([['batch', batch]]), { target });
  if (E.isLeft(k)) throw new Error(formatKernelError(k.left));
  return k.right;
};
const usPerEval = (k: Kernel, ins: readonly Float64Array[], outs: readonly Float64Array[], batch: number): number => {
  const reps = Math.max(3, Math.round(200_000 / batch));
  for (let r = 0; r < reps; r++) k.runUnchecked(ins, outs);
  const medians: number[] = [];
  for (let round = 0; round < 5; round++) {
    const ts: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      k.runUnchecked(ins, outs);
      ts.push(performance.now() - t0);
    }
    medians.push(ts.sort((a, b) => a - b)[Math.floor(reps / 2)] as number);
  }
  return Number((Math.min(...medians) * 1000).toPrecision(4));
};
if (process.argv[2] === '--source') process.stdout.write(`${kernelAt(Number(process.argv[3] ?? 16), 'js').source}\n`);
else {
  for (const batch of [1, 16, 256, 4096]) {
    const row: Record<string, number> = { batch };
    const results: Float64Array[][] = [];
    for (const target of kernelTargets) {
      const t0 = performance.now();
      const k = kernelAt(batch, target);
      row[`${target}_compile_ms`] = Number((performance.now() - t0).toFixed(2));
      // The problem's weights and y0 (so tanh sees its real arguments); a small adjoint state.
      const ins = freeVars(roots).map((v, j) => {
        const w = p.weights[v.name];
        if (w !== undefined) return Float64Array.from(w.data);
        const y0 = p.y0.get(batch);
        if (v.name === 'y' && y0 !== undefined) return Float64Array.from(y0.data);
        return Float64Array.from({ length: k.inputSizes[j] as number }, (_, i) => 0.5 * Math.sin(i + 3 * j));
      });
      const outs = k.allocOutputs();
      k.run(ins, outs);
      results.push(outs.map((o) => o.slice()));
      row[`${target}_us`] = usPerEval(k, ins, outs, batch);
    }
    const [a, b] = results as [Float64Array[], Float64Array[]];
    row['differing_values'] = a.reduce((n, o, j) => n + o.reduce((m, v, i) => m + (Object.is(v, b[j]?.[i]) ? 0 : 1), 0), 0);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
}
