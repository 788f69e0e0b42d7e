/**
 * Writes examples/data/spiral.json: torchdiffeq's ode_demo data, the true spiral dy/dt = (y∘y∘y) A
 * from y0 = [2, 0] at 1000 times in [0, 25], solved with dopri8 at rtol 1e-12 (Fluxion's own solver).
 * Run: npx tsx scripts/make-spiral-data.ts
 */
import { writeFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { spiralTrueModel } from '../src/models/spiral.ts';
import { compileF64Dynamics } from '../src/ode/f64Dynamics.ts';
import { dopri8, f64FromRows, f64Space, formatSolveError, integrate } from '../src/solvers/index.ts';
import { encodeTrajectory } from '../src/data/trajectory.ts';

const n = 1000, t1 = 25;
const ts = Array.from({ length: n }, (_, k) => (t1 * k) / (n - 1));
const m = spiralTrueModel();
const d = compileF64Dynamics(m.dynamics, m.values);
if (E.isLeft(d)) throw new Error(d.left);
const r = integrate(f64Space, d.right.f, f64FromRows([[2, 0]]), { method: dopri8, ts, rtol: 1e-12, atol: 1e-14 });
if (E.isLeft(r)) throw new Error(formatSolveError(r.left));
const y = new Float64Array(n * 2);
r.right.ys.forEach((s, k) => y.set(s.data, 2 * k));
const json = encodeTrajectory({ t: ts, y: { shape: [n, 2], data: y } });
writeFileSync('examples/data/spiral.json', JSON.stringify({ description: 'True spiral dy/dt = (y∘y∘y) A, A = [[-0.1, 2], [-2, -0.1]], y0 = [2, 0], 1000 times in [0, 25]; made by scripts/make-spiral-data.ts (dopri8, rtol 1e-12).', ...json }) + '\n');
console.log(`wrote examples/data/spiral.json (${n} points, ${r.right.stats.nfe} evaluations)`);
