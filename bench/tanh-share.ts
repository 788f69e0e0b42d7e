/**
 * How much of the scale benchmark's gradient time is Math.tanh: the same gradient (public API,
 * float64 adjoint, seminorm) timed with Math.tanh and, with `cheap`, with Math.tanh replaced by a
 * cheap stand-in (softsign x/(1+|x|), same shape, so the solver does about the same work) before
 * any kernel is generated. Reports the median ms per iteration and µs per evaluation.
 * Run: npx tsx bench/tanh-share.ts [cheap]
 */
import * as E from 'fp-ts/lib/Either.js';
import { prepareGradient } from '../src/adjoint/gradients/index.ts';
import { dopri5 } from '../src/solvers/index.ts';
import { loadScale, scaleModel } from './problems.ts';

const cheap = process.argv[2] === 'cheap';
if (cheap) Math.tanh = (x: number): number => x / (1 + Math.abs(x));
const p = loadScale();
const m = scaleModel(p.hidden, p.weights);
const loss = m.loss;
if (loss === undefined) throw new Error('bench: the scale model has a loss');
for (const batch of [16, 256]) {
  const z0 = p.y0.get(batch);
  if (z0 === undefined) throw new Error(`bench: no batch ${batch}`);
  const g = prepareGradient({ dynamics: m.dynamics, loss }, { method: 'adjoint', seminorm: true });
  if (E.isLeft(g)) throw new Error('bench: prepareGradient failed');
  const d = { params: p.weights, z0, ts: [p.t0, p.t1], solver: { method: dopri5, rtol: p.rtol, atol: p.atol } };
  for (let i = 0; i < 20; i++) g.right(d);
  const times: number[] = [];
  let nfe = 0;
  for (let i = 0; i < 41; i++) {
    const t0 = performance.now();
    const r = g.right(d);
    times.push(performance.now() - t0);
    if (E.isRight(r)) nfe = r.right.stats.nfeForward + r.right.stats.nfeBackward;
  }
  const med = times.sort((a, b) => a - b)[20] as number;
  process.stdout.write(`${JSON.stringify({ tanh: cheap ? 'softsign stand-in' : 'Math.tanh', batch, median_ms: Number(med.toPrecision(4)), nfe, us_per_eval: Number(((med / nfe) * 1000).toPrecision(4)) })}\n`);
}
