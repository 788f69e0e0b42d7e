/**
 * The scale benchmark's adjoint-system kernel alone: for each batch size, the median µs per
 * evaluation over repeated runs on fixed random inputs (min of 5 medians, to damp a shared
 * machine's noise); with `--source B`, prints the generated kernel for batch B instead.
 * Run: npx tsx bench/aug-kernel.ts [--source 256]
 */
import * as E from 'fp-ts/lib/Either.js';
import { augmentedRoots, makeAdjointSystem } from '../src/adjoint/system.ts';
import { compileKernel, formatKernelError, type Kernel } from '../src/interp/kernel/index.ts';
import { freeVars } from '../src/interp/traverse.ts';
import { loadScale, scaleModel } from './problems.ts';

const p = loadScale();
const sys = makeAdjointSystem(scaleModel(p.hidden, p.weights).dynamics);
if (E.isLeft(sys)) throw new Error(sys.left);
const roots = augmentedRoots(sys.right);
const kernelAt = (batch: number): Kernel => {
  const k = compileKernel(roots, freeVars(roots), new Map([['batch', batch]]));
  if (E.isLeft(k)) throw new Error(formatKernelError(k.left));
  return k.right;
};
if (process.argv[2] === '--source') process.stdout.write(`${kernelAt(Number(process.argv[3] ?? 16)).source}\n`);
else {
  for (const batch of [16, 256, 4096]) {
    const k = kernelAt(batch);
    const ins = k.inputSizes.map((n, j) => Float64Array.from({ length: n }, (_, i) => 0.5 * Math.sin(i + 3 * j)));
    const outs = k.allocOutputs();
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
    process.stdout.write(`${JSON.stringify({ batch, us_per_eval: Number((Math.min(...medians) * 1000).toPrecision(4)) })}\n`);
  }
}
