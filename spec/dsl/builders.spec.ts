import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { sym, type Shape } from '../../src/dsl/shape.ts';
import { evalF64 } from '../../src/interp/evalF64.ts';
import { f64, type F64Tensor } from '../../src/interp/tensor.ts';
import { initParams, initValues, param } from '../../src/dsl/params.ts';
import { concatSquash, linearNamed, mlp } from '../../src/dsl/layers.ts';
import { gaussianLogLikelihood, klDiagGaussians, l1, mse, softmaxCrossEntropy } from '../../src/dsl/losses.ts';
import { dynamics, loss, makeDynamics, makeModel, model } from '../../src/dsl/model.ts';
import { draw, nextNormal, nextUniform, seedRng } from '../../src/random/prng.ts';

const B = sym('batch');
const ev = (e: X.Expr<Shape>, env: Record<string, F64Tensor>): number[] => {
  const r = evalF64([e.node], env);
  if (E.isLeft(r)) throw new Error(r.left._tag);
  return Array.from(r.right[0]!.data);
};
const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${a} vs ${b}`);

test('prng: same seed same stream, different streams differ, moments are right', () => {
  const [a] = draw(nextUniform, seedRng(7, 'W1'), 5);
  const [b] = draw(nextUniform, seedRng(7, 'W1'), 5);
  const [c] = draw(nextUniform, seedRng(7, 'W2'), 5);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const [z] = draw(nextNormal, seedRng(3), 20_000);
  const m = z.reduce((s, v) => s + v, 0) / z.length;
  const v = z.reduce((s, x) => s + (x - m) ** 2, 0) / z.length;
  assert.ok(Math.abs(m) < 0.03 && Math.abs(v - 1) < 0.05, `mean ${m} var ${v}`);
  const [u] = draw(nextUniform, seedRng(4), 20_000);
  assert.ok(u.every((x) => x >= 0 && x < 1));
  close(u.reduce((s, x) => s + x, 0) / u.length, 0.5, 0.02);
});

test('initializers: seeded per name, bounds as documented', () => {
  const W = param('W', [40, 60], { kind: 'glorotUniform' });
  const w1 = initValues(W, 1), w2 = initValues(W, 1), w3 = initValues(W, 2);
  assert.deepEqual(w1.data, w2.data);
  assert.notDeepEqual(w1.data, w3.data);
  const bound = Math.sqrt(6 / 100);
  assert.ok(w1.data.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...w1.data) > 0.9 * bound);
  const b = initValues(param('b', [50], { kind: 'lecunUniform', fanIn: 4 }), 0);
  assert.ok(b.data.every((v) => Math.abs(v) <= 0.5) && Math.max(...b.data.map(Math.abs)) > 0.4);
  assert.deepEqual(Array.from(initValues(param('z', [3], { kind: 'zeros' }), 0).data), [0, 0, 0]);
  // Conv filters [kh, kw, cin, cout]: fan-in kh·kw·cin = 18, fan-out kh·kw·cout = 45.
  const K = initValues(param('K', [3, 3, 2, 5], { kind: 'glorotUniform' }), 0).data;
  const kBound = Math.sqrt(6 / (18 + 45));
  assert.ok(K.every((v) => Math.abs(v) <= kBound) && Math.max(...K.map(Math.abs)) > 0.8 * kBound);
  // Adding a parameter does not change the others' values.
  const ps1 = initParams([W], 5), ps2 = initParams([param('V', [3], { kind: 'heNormal' }), W], 5);
  assert.deepEqual(ps1.W!.data, ps2.W!.data);
});

test('linear, mlp and concatSquash compute their formulas', () => {
  const y = X.state('y', [B, 2]);
  const lin = linearNamed('W1', 'b1', 2, 3);
  const vals = initParams(lin.params, 0);
  const yv = f64([1, -2], [1, 2]);
  const out = ev(lin.apply(y), { y: yv, ...vals });
  const W = vals.W1!.data, bb = vals.b1!.data;
  for (let j = 0; j < 3; j++) close(out[j]!, 1 * W[j]! - 2 * W[3 + j]! + bb[j]!);
  const net = mlp('f', [2, 4, 2], 'tanh');
  assert.equal(net.params.length, 4);
  assert.deepEqual(net.apply(y).shape, ['batch', 2]);
  const cs = concatSquash('cs', 2, 3);
  const t = X.time('t');
  const csv = initParams(cs.params, 1);
  const r = ev(cs.apply(y, t), { y: yv, t: f64([0.5], []), ...csv });
  const lv = ev(linearNamed('cs_W', 'cs_b', 2, 3).apply(y), { y: yv, ...csv });
  for (let j = 0; j < 3; j++) {
    const gate = 1 / (1 + Math.exp(-(csv.cs_gW!.data[j]! * 0.5 + csv.cs_gb!.data[j]!)));
    close(r[j]!, lv[j]! * gate + csv.cs_hW!.data[j]! * 0.5);
  }
});

test('losses match their formulas', () => {
  const p = X.input('p', [2, 2]), q = X.input('q', [2, 2]);
  const env = { p: f64([1, 2, 3, 4], [2, 2]), q: f64([1.5, 2, 2, 5], [2, 2]) };
  close(ev(mse(p, q), env)[0]!, (0.25 + 0 + 1 + 1) / 4);
  close(ev(l1(p, q), env)[0]!, (0.5 + 0 + 1 + 1) / 4);
  const ll = ev(gaussianLogLikelihood(p, q, Math.log(0.25)), env)[0]!;
  const want = [0.5, 0, 1, 1].reduce((s, d) => s - 0.5 * (Math.log(2 * Math.PI * 0.25) + d * d / 0.25), 0);
  close(ll, want);
  const ce = ev(softmaxCrossEntropy(p, X.input('lab', [2, 2])), { ...env, lab: f64([0, 1, 1, 0], [2, 2]) })[0]!;
  const lse = (a: number, b: number) => Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
  close(ce, ((lse(1, 2) - 2) + (lse(3, 4) - 3)) / 2);
  const kl = ev(klDiagGaussians(p, q, 0, 0), env)[0]!;
  const want2 = [[1, 1.5], [2, 2], [3, 2], [4, 5]].reduce((s, [mu, lv]) => s + 0.5 * (Math.exp(lv!) + mu! * mu! - 1 - lv!), 0);
  close(kl, want2);
});

test('dynamics and models check their parts', () => {
  const y = X.state('y', [B, 2]);
  const net = mlp('f', [2, 8, 2]);
  const dyn = dynamics({ state: y, params: net.params, f: net.apply(y) });
  assert.equal(dyn.time.node.kind === 'var' && dyn.time.node.name, 't');
  // @ts-expect-error the derivative must have the state's shape
  assert.throws(() => dynamics({ state: y, params: [], f: X.input('u', [B, 3]) }), /f has shape \[batch,3\] but the state has \[batch,2\]/);
  const undeclared = makeDynamics({ state: y, params: [], f: net.apply(y) });
  assert.ok(E.isLeft(undeclared) && /parameter f1_W is used but not declared/.test(undeclared.left));
  const yhat = X.input('yhat', [sym('obs'), B, 2]);
  const m = model({ name: 'm', dynamics: dyn, loss: loss({ prediction: yhat, value: l1(yhat, X.input('ytrue', [sym('obs'), B, 2])) }), seed: 3 });
  assert.deepEqual(Object.keys(m.values).sort(), ['f1_W', 'f1_b', 'f2_W', 'f2_b']);
  const bad = makeModel({ name: 'm', dynamics: dyn, values: { f1_W: f64([1], [1]) } });
  assert.ok(E.isLeft(bad) && /f1_W has values of shape \[1\], declared \[2,8\]/.test(bad.left));
  const unknown = makeModel({ name: 'm', dynamics: dyn, values: { nope: f64([1], [1]) } });
  assert.ok(E.isLeft(unknown) && /unknown parameter nope/.test(unknown.left));
});
