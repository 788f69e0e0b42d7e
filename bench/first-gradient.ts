/**
 * Where the spiral's time to first gradient goes: loading the shared problem, building the model,
 * `prepareGradient` (symbolic derivation), the first call (kernel generation, plan, then the
 * first forward and backward solves on cold code) and a second call for comparison (ms).
 * Run: node --expose-gc --import tsx bench/first-gradient.ts [adjoint|backprop]   (default adjoint;
 * without --expose-gc the start-up garbage is collected inside the timed phases; V8 flags change
 * the cold part: node --always-sparkplug …)
 */
import * as E from 'fp-ts/lib/Either.js';
import { prepareGradient } from '../src/adjoint/gradients/index.ts';
import { spiralModel } from '../src/models/spiral.ts';
import { dopri5 } from '../src/solvers/index.ts';
import { loadSpiral } from './problems.ts';

const r4 = (x: number): number => Number(x.toPrecision(4));
// Process start is excluded, its garbage too (tsx transpiles the sources at start): with
// --expose-gc, collect it before timing so a scavenge of it does not land in the timed phases.
(globalThis as { gc?: () => void }).gc?.();
const t0 = performance.now();
const p = loadSpiral();
const t1 = performance.now();
const m = spiralModel();
const loss = m.loss;
if (loss === undefined) throw new Error('bench: the spiral has a loss');
const t2 = performance.now();
const g = prepareGradient({ dynamics: m.dynamics, loss }, process.argv[2] === 'backprop' ? { method: 'backprop' } : { method: 'adjoint', seminorm: true });
if (E.isLeft(g)) throw new Error('bench: prepareGradient failed');
const t3 = performance.now();
const [b0, b1] = p.batches;
if (b0 === undefined || b1 === undefined) throw new Error('bench: the spiral needs two batches');
const d = { params: p.weights.initial, z0: b0.z0, ts: p.ts, lossInputs: { ytrue: b0.target }, solver: { method: dopri5, rtol: p.rtol, atol: p.atol } };
g.right(d);
const t4 = performance.now();
g.right({ ...d, z0: b1.z0, lossInputs: { ytrue: b1.target } });
const t5 = performance.now();
process.stdout.write(`${JSON.stringify({ load_ms: r4(t1 - t0), model_ms: r4(t2 - t1), prepare_ms: r4(t3 - t2), first_call_ms: r4(t4 - t3), second_call_ms: r4(t5 - t4), total_to_first_gradient_ms: r4(t4 - t0) })}\n`);
