/**
 * Benchmark: the spiral dynamics f = tanh((y∘y∘y) W1 + b1) W2 + b2 (W1 [2,50], W2 [50,2]) through
 * the generated kernel and through the float64 reference evaluator, at several batch sizes.
 * Prints one JSON line: µs per call (median over timed chunks, after warm-up).
 * Run: npx tsx bench/kernel.ts
 */
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../src/dsl/expr.ts';
import type { VarNode } from '../src/dsl/node.ts';
import { sym } from '../src/dsl/shape.ts';
import { compileF64, type F64Env } from '../src/interp/evalF64.ts';
import { compileKernel, formatKernelError } from '../src/interp/kernel/index.ts';
import { sizeOf } from '../src/interp/tensor.ts';

const B = sym('batch');
const y = X.state('y', [B, 2]);
const W1 = X.variable('W1', 'param', [2, 50]);
const b1 = X.variable('b1', 'param', [50]);
const W2 = X.variable('W2', 'param', [50, 2]);
const b2 = X.variable('b2', 'param', [2]);
const f = X.add(X.matmul(X.tanh(X.add(X.matmul(X.mul(X.mul(y, y), y), W1), b1)), W2), b2);
const vars = [y, W1, b1, W2, b2].map((v) => v.node as VarNode);

/** A deterministic pseudo-random fill in [-1, 1). */
const fill = (n: number, seed: number): Float64Array => {
  const a = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
};

/** Median µs per call of `fn`: chunks of calls sized to ~2 ms each, after warm-up. */
const time = (fn: () => void): number => {
  const warmEnd = performance.now() + 200;
  let calls = 0;
  while (performance.now() < warmEnd) {
    fn();
    calls++;
  }
  const perChunk = Math.max(1, Math.round(calls / 100));
  const samples: number[] = [];
  for (let c = 0; c < 41; c++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perChunk; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / perChunk);
  }
  samples.sort((a, b) => a - b);
  return samples[20] as number;
};

const round = (x: number): number => Math.round(x * 1000) / 1000;
const compileF = compileF64([f.node]);
const results = [1, 20, 256, 4096].map((batch) => {
  const k = compileKernel([f.node], vars, new Map([['batch', batch]]));
  if (E.isLeft(k)) throw new Error(formatKernelError(k.left));
  const kernel = k.right;
  const inputs = kernel.inputShapes.map((s, i) => fill(sizeOf(s), 7 + i));
  const outputs = kernel.allocOutputs();
  const env: F64Env = Object.fromEntries(vars.map((v, i) => [v.name, { shape: kernel.inputShapes[i] as readonly number[], data: inputs[i] as Float64Array }]));
  let sink = 0;
  const kernelUs = time(() => {
    kernel.run(inputs, outputs);
    sink += outputs[0]?.[0] ?? 0;
  });
  const evalF64Us = time(() => {
    const r = compileF(env);
    if (E.isRight(r)) sink += r.right[0]?.data[0] ?? 0;
  });
  if (Number.isNaN(sink)) throw new Error('unexpected NaN');
  return { batch, kernelUs: round(kernelUs), evalF64Us: round(evalF64Us), speedup: round(evalF64Us / kernelUs) };
});
console.log(JSON.stringify({ bench: 'kernel', model: 'spiral tanh((y*y*y) @ W1 + b1) @ W2 + b2, hidden 50', unit: 'us/call', results }));
