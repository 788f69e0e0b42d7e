/**
 * Cost of deriving the adjoint: for tanh MLPs of depth 2–8 (hidden width 64) on a [batch, 2]
 * state, the time to build the augmented system symbolically (one reverse sweep + simplify), the
 * node counts of f and of the system, and the time and size of its generated kernel (WebAssembly
 * and JavaScript).
 * derive_first_ms is the first derivation in the process (cold JIT, new nodes); derive_ms and
 * the kernel times are medians of repeated runs after that.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../src/dsl/expr.ts';
import { mlp } from '../src/dsl/layers.ts';
import { dynamics } from '../src/dsl/model.ts';
import { sym } from '../src/dsl/shape.ts';
import { augmentedRoots, makeAdjointSystem } from '../src/adjoint/system.ts';
import { compileKernel, formatKernelError } from '../src/interp/kernel/index.ts';
import { dagSize, freeVars } from '../src/interp/traverse.ts';

const round = (x: number): number => Number(x.toPrecision(4));

/** Median of `reps` timings of `fn` (ms). */
const timed = <T>(reps: number, fn: () => T): { ms: number; value: T } => {
  const ts: number[] = [];
  let value = fn();
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    value = fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return { ms: ts[Math.floor(ts.length / 2)] as number, value };
};

/**
 * One row per depth (number of linear layers).
 * @example deriveRows([2, 3], 5)
 */
export const deriveRows = (depths: readonly number[], reps: number): Record<string, unknown>[] => {
  // A first pass over every depth (its first derivation is the cold one: JIT and node creation),
  // then the timed pass with everything compiled.
  const cold = rowsOnce(depths, 1);
  return rowsOnce(depths, reps).map((r, i) => ({ ...r, derive_first_ms: cold[i]?.['derive_first_ms'] }));
};

const rowsOnce = (depths: readonly number[], reps: number): Record<string, unknown>[] =>
  depths.map((depth) => {
    const y = X.state('y', [sym('batch'), 2]);
    const sizes = [2, ...Array.from({ length: depth - 1 }, () => 64), 2] as unknown as readonly [2, ...number[], 2];
    const net = mlp('f', sizes, 'tanh');
    const dyn = dynamics({ state: y, params: net.params, f: net.apply(y) });
    const first = performance.now();
    const sys0 = makeAdjointSystem(dyn);
    const firstMs = performance.now() - first;
    if (E.isLeft(sys0)) throw new Error(sys0.left);
    const derive = timed(reps, () => makeAdjointSystem(dyn));
    if (E.isLeft(derive.value)) throw new Error(derive.value.left);
    const roots = augmentedRoots(derive.value.right);
    const vars = freeVars(roots);
    const kernel = timed(reps, () => compileKernel(roots, vars, new Map([['batch', 1]]), { target: 'wasm' }));
    if (E.isLeft(kernel.value)) throw new Error(formatKernelError(kernel.value.left));
    const js = timed(reps, () => compileKernel(roots, vars, new Map([['batch', 1]]), { target: 'js' }));
    if (E.isLeft(js.value)) throw new Error(formatKernelError(js.value.left));
    return {
      depth, hidden: 64, params: net.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0),
      f_nodes: dagSize([dyn.f.node]), adjoint_nodes: dagSize(roots),
      derive_first_ms: round(firstMs), derive_ms: round(derive.ms),
      kernel_instructions: kernel.value.right.instructionCount,
      wasm_kernel_ms: round(kernel.ms), wasm_module_bytes: kernel.value.right.codeSize,
      js_kernel_ms: round(js.ms), js_source_chars: js.value.right.codeSize,
    };
  });
