/**
 * torchdiffeq's spiral, written in Fluxion's typed DSL from model to trainer.
 * Run: npx tsx examples/spiral.ts [iterations]   (plots and the adjoint system go to out/spiral-ts/)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../src/dsl/expr.ts';
import { sym } from '../src/dsl/shape.ts';
import { linearNamed } from '../src/dsl/layers.ts';
import { l1 } from '../src/dsl/losses.ts';
import { dynamics, loss, model } from '../src/dsl/model.ts';
import { decodeTrajectory } from '../src/data/trajectory.ts';
import { dopri5 } from '../src/solvers/index.ts';
import { compileTrainer } from '../src/train/trainer.ts';
import { progress } from '../src/train/progress.ts';
import { writeReport } from '../src/train/report.ts';
import { printText } from '../src/interp/printText.ts';

// The model: shapes are types. [batch, 2] → [batch, 50] → [batch, 2].
const batch = sym('batch');
const obs = sym('obs');
const y = X.state('y', [batch, 2]);
const hidden = linearNamed('W1', 'b1', 2, 50);
const out = linearNamed('W2', 'b2', 50, 2);
const f = out.apply(X.tanh(hidden.apply(X.mul(X.mul(y, y), y))));   // Expr<[batch, 2]>
const yhat = X.input('yhat', [obs, batch, 2]);
const ytrue = X.input('ytrue', [obs, batch, 2]);
const spiral = model({
  name: 'spiral (TypeScript)',
  dynamics: dynamics({ state: y, time: X.time('t'), params: [...hidden.params, ...out.params], f }),
  loss: loss({ prediction: yhat, value: l1(yhat, ytrue) }),
  seed: 0,
});
console.log(`dy/dt = ${printText(f)}`);

// The data the package ships: the true spiral at 1000 times.
const data = decodeTrajectory(JSON.parse(readFileSync(new URL('./data/spiral.json', import.meta.url), 'utf8')));
if (E.isLeft(data)) throw new Error(data.left);

const iterations = Number(process.argv[2] ?? 1000);
const trainer = compileTrainer(spiral, data.right, {
  solver: { method: dopri5, rtol: 1e-7, atol: 1e-9 },
  optimizer: { kind: 'adam', lr: 3e-3 },
  schedule: { kind: 'cosine', total: iterations, minLr: 1e-5 },
  batchSize: 20, batchTime: 10, iterations, seed: 0,
});
if (E.isLeft(trainer)) throw new Error(trainer.left._tag);

mkdirSync('out/spiral-ts', { recursive: true });
const bar = progress({ total: iterations });
const result = await trainer.right.run(trainer.right.init(), { onLog: bar.log, checkpointPath: 'out/spiral-ts/checkpoint.json' });
bar.close();
if (result.error !== undefined) console.error(result.error);
const evaluation = trainer.right.evaluate(result.state);
if (E.isRight(evaluation)) console.log(`mean absolute error over the whole trajectory: ${evaluation.right.mae.toFixed(4)}`);
const report = await writeReport('out/spiral-ts', spiral, result.state.params, data.right, result.logs, trainer.right.options.solver, { iterations });
console.log(`wrote ${report.files.join(', ')}`);
