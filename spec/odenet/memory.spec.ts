/**
 * Table 1's memory column as a property, on a seeded small ODE block and ResNet: the memory one
 * gradient holds grows with the solver steps for backprop through the solver (its tape keeps each
 * accepted step's state, stages and saved activations), stays flat for the adjoint, and grows with the ResNet's depth. Live memory is
 * sampled after forced collections, so this file needs `node --expose-gc` (as `npm test` runs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { odeBlockMemory, resnetMemory, slope, stateBytes } from '../../src/odenet/memory.ts';
import { dopri5 } from '../../src/solvers/index.ts';

const gc = (globalThis as { gc?: () => void }).gc;
// 64 maps of 7×7×8: one state is 0.19 MB; over the ~11 extra steps backprop adds ≈ 2 MB, while the
// sampling noise seen on the adjoint was ≈ 0.5 MB (hence the 0.35 states-per-step bound).
const setting = { side: 7, channels: 8, groups: 4, head: 'flatten', batch: 64, seed: 0 } as const;
const stateMb = stateBytes(setting) / 2 ** 20;

test('ODE block: backprop\'s memory grows by at least one state per solver step, the adjoint\'s does not grow', { skip: gc === undefined ? 'needs --expose-gc' : false }, () => {
  const r = odeBlockMemory(setting, [0.5, 4], { method: dopri5, rtol: 1e-4, atol: 1e-4 }, gc as () => void);
  assert.ok(E.isRight(r), E.isLeft(r) ? r.left : '');
  const of = (m: 'adjoint' | 'backprop') => r.right.filter((p) => p.method === m);
  const [bp0, bp1] = of('backprop'), [adj0, adj1] = of('adjoint');
  assert.ok(bp0 !== undefined && bp1 !== undefined && adj0 !== undefined && adj1 !== undefined);
  // Both methods take the same forward steps (the same solve), and the longer span takes many more.
  assert.equal(bp0.steps, adj0.steps);
  assert.equal(bp1.steps, adj1.steps);
  const dSteps = bp1.steps - bp0.steps;
  assert.ok(dSteps >= 6, `steps ${bp0.steps} → ${bp1.steps}`);
  const bpPerStep = (bp1.growthMb - bp0.growthMb) / dSteps / stateMb;
  const adjPerStep = (adj1.growthMb - adj0.growthMb) / dSteps / stateMb;
  // At most the tape's state + 7 dopri5 stages + f(t + h) and the saved activations of 7 evaluations.
  assert.ok(bpPerStep > 0.6 && bpPerStep < 25, `backprop: ${bpPerStep.toFixed(2)} states per step (${bp0.growthMb} → ${bp1.growthMb} MB)`);
  assert.ok(Math.abs(adjPerStep) < 0.35, `adjoint: ${adjPerStep.toFixed(2)} states per step (${adj0.growthMb} → ${adj1.growthMb} MB)`);
  assert.ok(adj1.growthMb < bp1.growthMb / 3, `at ${bp1.steps} steps the adjoint holds ${adj1.growthMb} MB, backprop ${bp1.growthMb} MB`);
});

test('ResNet: the memory of one gradient grows with the number of residual blocks', { skip: gc === undefined ? 'needs --expose-gc' : false }, () => {
  const r = resnetMemory({ ...setting, batch: 32 }, [1, 3, 5], gc as () => void);
  assert.ok(E.isRight(r), E.isLeft(r) ? r.left : '');
  const mbs = r.right.map((p) => p.growthMb);
  assert.ok(mbs.every((m, i) => i === 0 || m > (mbs[i - 1] as number)), `growth by depth: ${mbs.join(', ')} MB`);
  // Each block keeps its activations for the backward pass: several feature maps (plus patches).
  const perBlock = slope(r.right.map((p) => p.blocks), mbs) / (stateMb / 2);
  assert.ok(perBlock > 4, `${perBlock.toFixed(1)} feature maps per block`);
});

test('slope is the least-squares slope', () => {
  assert.equal(slope([1, 2, 3], [2, 4, 6]), 2);
  assert.equal(slope([1, 1], [3, 5]), 0);
});
