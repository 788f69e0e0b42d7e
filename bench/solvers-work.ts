/**
 * Work and accuracy of the solver layer on standard problems; prints one JSON object.
 * Run: node --import tsx bench/solvers-work.ts
 */
import * as E from 'fp-ts/lib/Either.js';
import { integrate } from '../src/solvers/integrate.ts';
import { f64Batch, f64FromRows, f64Space } from '../src/solvers/f64Space.ts';
import type { F64Batch } from '../src/solvers/f64Space.ts';
import type { Method } from '../src/solvers/method.ts';
import { methods } from '../src/solvers/methods.ts';
import { formatSolveError } from '../src/solvers/errors.ts';

const kepler = (_t: number, y: F64Batch): F64Batch => {
  const o = f64Batch(y.batch, 4);
  for (let b = 0; b < y.batch; b++) {
    const q1 = y.data[4 * b] as number, q2 = y.data[4 * b + 1] as number;
    const r3 = Math.pow(q1 * q1 + q2 * q2, 1.5);
    o.data.set([y.data[4 * b + 2] as number, y.data[4 * b + 3] as number, -q1 / r3, -q2 / r3], 4 * b);
  }
  return o;
};
const MU = 1000;
const vdp = (_t: number, y: F64Batch): F64Batch => {
  const a = y.data[0] as number, b = y.data[1] as number;
  return f64Batch(1, 2, Float64Array.of(b, MU * (1 - a * a) * b - a));
};
const vdpJac = (_t: number, y: F64Batch): Float64Array => {
  const a = y.data[0] as number, b = y.data[1] as number;
  return Float64Array.of(0, 1, -2 * MU * a * b - 1, MU * (1 - a * a));
};

const run = (name: string, m: Method, go: () => ReturnType<typeof integrate<F64Batch>>, err: (y: Float64Array) => number) => {
  const start = performance.now();
  const r = go();
  const ms = performance.now() - start;
  return E.isLeft(r)
    ? { problem: name, method: m.name, error: formatSolveError(r.left) }
    : { problem: name, method: m.name, ...r.right.stats, maxError: err(r.right.yFinal.data), ms: Math.round(ms * 10) / 10 };
};

const e = 0.5, y0 = [1 - e, 0, 0, Math.sqrt((1 + e) / (1 - e))];
const results = [
  ...[methods.bosh3, methods.fehlberg45, methods.dopri5, methods.tsit5, methods.dopri8].flatMap((m) =>
    [1e-6, 1e-10].map((tol) =>
      run(`kepler e=0.5, 10 periods, rtol=${tol}`, m, () => integrate(f64Space, kepler, f64FromRows([y0]), { method: m, t0: 0, t1: 20 * Math.PI, rtol: tol, atol: tol * 1e-2 }),
        (y) => Math.max(...Array.from(y, (v, i) => Math.abs(v - (y0[i] as number))))),
    ),
  ),
  run('van der Pol mu=1000 on [0, 3000]', methods.rodas4, () => integrate(f64Space, vdp, f64FromRows([[2, 0]]), { method: methods.rodas4, t0: 0, t1: 3000, rtol: 1e-6, atol: 1e-6, jacobian: vdpJac, autonomous: true }), () => Number.NaN),
  run('van der Pol mu=1000, dopri5, maxSteps 1e5', methods.dopri5, () => integrate(f64Space, vdp, f64FromRows([[2, 0]]), { method: methods.dopri5, t0: 0, t1: 3000, rtol: 1e-6, atol: 1e-6 }), () => Number.NaN),
];
console.log(JSON.stringify({ bench: 'solvers-work', results }, null, 1));
