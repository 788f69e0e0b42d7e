import * as E from 'fp-ts/lib/Either.js';
import { augmentedRoots, makeAdjointSystem } from '../src/adjoint/system.ts';
import { compileKernel, formatKernelError, type Kernel } from '../src/interp/kernel/index.ts';
import { freeVars } from '../src/interp/traverse.ts';
import { loadScale, scaleModel } from './problems.ts';

const p = loadScale();
const sys = makeAdjointSystem(scaleModel(p.hidden, p.weights).dynamics);
if (E.isLeft(sys)) throw new Error(sys.left);
const roots = augmentedRoots(sys.right);
const kernelAt = (batch: number, target: 'js' | 'wasm'): Kernel => {
  const k = compileKernel(roots, freeVars(roots), new Map([['batch', batch]]), { target });
  if (E.isLeft(k)) throw new Error(formatKernelError(k.left));
  return k.right;
};
for (const batch of [1, 16, 256, 4096]) {
  const res: Record<string, number | string> = { batch };
  let ref: Float64Array[] = [];
  for (const target of ['js', 'wasm'] as const) {
    const t0 = performance.now();
    const k = kernelAt(batch, target);
    res[`${target}_compile_ms`] = Number((performance.now() - t0).toFixed(2));
    const ins = k.inputSizes.map((n, j) => Float64Array.from({ length: n }, (_, i) => 2.5 * Math.sin(i + 3 * j)));
    const outs = k.allocOutputs();
    k.run(ins, outs);
    if (target === 'js') ref = outs.map((o) => o.slice());
    else {
      let diff = 0;
      outs.forEach((o, j) => o.forEach((v, i) => { if (!Object.is(v, (ref[j] as Float64Array)[i])) diff++; }));
      res['mismatches'] = diff;
    }
    const reps = Math.max(3, Math.round(200_000 / batch));
    for (let r = 0; r < reps; r++) k.runUnchecked(ins, outs);
    const medians: number[] = [];
    for (let round = 0; round < 5; round++) {
      const ts: number[] = [];
      for (let r = 0; r < reps; r++) { const t0 = performance.now(); k.runUnchecked(ins, outs); ts.push(performance.now() - t0); }
      medians.push(ts.sort((a, b) => a - b)[Math.floor(reps / 2)] as number);
    }
    res[`${target}_us`] = Number((Math.min(...medians) * 1000).toPrecision(4));
  }
  process.stdout.write(`${JSON.stringify(res)}\n`);
}
