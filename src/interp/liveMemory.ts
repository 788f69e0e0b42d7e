/**
 * Memory a computation retains, measured: an evaluator wrapper that forces garbage collection
 * (`node --expose-gc`) every few evaluations and samples the live heap plus array buffers, so the
 * figure is what a method holds, not garbage not yet collected. Used by the ODE-Net memory
 * measurement (`src/odenet/memory.ts`) and `bench/memory.ts`.
 */
import { jsKernelEvaluator, type F64Evaluator } from './evaluator.ts';

/** Live memory now: V8 heap in use plus ArrayBuffer backing stores (where Float64Arrays live). */
const liveBytes = (): number => {
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
};

/** An evaluator that samples live memory, and the measurement around one run. */
export interface LiveSampler {
  readonly evaluator: F64Evaluator;
  /** Runs `f` and returns its result with the peak growth of live bytes over the start (after a forced GC). */
  readonly measure: <T>(f: () => T) => { readonly result: T; readonly growthBytes: number };
}

/**
 * Wraps `inner` so that, inside `measure`, every `every`-th evaluation is followed by `gc()` and
 * a sample of live bytes; `measure` also samples once after `f` returns. The default `inner` is
 * the JavaScript kernel, whose arenas are counted (WebAssembly memory is not). (The counters are the
 * measurement's own state, confined to this closure.)
 * @example const s = liveSampler(globalThis.gc); const g = prepareGradient(p, { method: 'backprop', on: { backend: 'float64', evaluator: s.evaluator } });
 * s.measure(() => g.right(data)).growthBytes // bytes held at the peak
 */
export const liveSampler = (gc: () => void, every = 8, inner: F64Evaluator = jsKernelEvaluator): LiveSampler => {
  let calls = 0, peak = 0, sampling = false;
  // Twice: V8 frees array buffers' backing stores concurrently, the second collection settles the first's.
  const collect = (): void => {
    gc();
    gc();
  };
  const sample = (): void => {
    collect();
    peak = Math.max(peak, liveBytes());
  };
  const evaluator: F64Evaluator = (roots) => {
    const p = inner(roots);
    return (env) => {
      const r = p(env);
      if (sampling && ++calls % every === 0) sample();
      return r;
    };
  };
  const measure = <T>(f: () => T): { readonly result: T; readonly growthBytes: number } => {
    collect();
    const base = liveBytes();
    peak = base;
    calls = 0;
    sampling = true;
    try {
      const result = f();
      sample();
      return { result, growthBytes: peak - base };
    } finally {
      sampling = false;
    }
  };
  return { evaluator, measure };
};
