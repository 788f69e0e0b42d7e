import * as E from 'fp-ts/lib/Either.js';
import * as X from '../src/dsl/expr.ts';
import type { VarNode } from '../src/dsl/node.ts';
import { compileKernel } from '../src/interp/kernel/index.ts';
const n = 16384;
const h = X.input('h', [n]);
for (const [name, e] of [['tanh', X.tanh(h)], ['add', X.add(h, h)], ['mul-chain', X.mul(X.add(X.mul(h, h), 1), h)], ['div', X.div(h, X.add(h, 3))]] as const) {
  for (const target of ['js', 'wasm'] as const) {
    const k = compileKernel([e.node], [h.node as VarNode], new Map(), { target });
    if (E.isLeft(k)) throw new Error('x');
    const ins = [Float64Array.from({ length: n }, (_, i) => 0.5 * Math.sin(i))];
    const outs = k.right.allocOutputs();
    for (let r = 0; r < 3000; r++) k.right.runUnchecked(ins, outs);
    const ts: number[] = [];
    for (let r = 0; r < 3000; r++) { const t0 = performance.now(); k.right.runUnchecked(ins, outs); ts.push(performance.now() - t0); }
    ts.sort((a, b) => a - b);
    console.log(name, target, 'ns/elem', ((ts[1500] as number) * 1e6 / n).toFixed(2), 'min', ((ts[0] as number) * 1e6 / n).toFixed(2));
  }
}
