/**
 * The cnf builder: the packed augmented right-hand side equals [f(z), −tr] on the z columns and
 * ignores the Δlogp column, names never collide, the kernel and reference evaluators agree, and
 * the field checks what is bound to it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { concatSquash, mlp } from '../../src/dsl/layers.ts';
import { dynamics } from '../../src/dsl/model.ts';
import type { Node } from '../../src/dsl/node.ts';
import { initParams } from '../../src/dsl/params.ts';
import { sym } from '../../src/dsl/shape.ts';
import { compileF64, type F64Env } from '../../src/interp/evalF64.ts';
import { printText } from '../../src/interp/printText.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { freeVars } from '../../src/interp/traverse.ts';
import { seedRng } from '../../src/random/prng.ts';
import { cnf, cnfField, compileCnf, drawNoise, makeCnf, type CnfOptions } from '../../src/flows/index.ts';

const Bt = sym('batch');

const run = (roots: readonly Node[], env: F64Env): readonly F64Tensor[] => {
  const r = compileF64(roots)(env);
  if (E.isLeft(r)) throw new Error(`eval failed: ${r.left._tag}`);
  return r.right;
};

/** A time-dependent concat-squash flow on [batch, 2]. */
const csDynamics = () => {
  const z = X.state('z', [Bt, 2]);
  const t = X.time('t');
  const c1 = concatSquash('c1', 2, 8), c2 = concatSquash('c2', 8, 2);
  return dynamics({ state: z, time: t, params: [...c1.params, ...c2.params], f: c2.apply(X.softplus(c1.apply(z, t)), t) });
};

const packed = (z: Float64Array, logp: Float64Array, n: number, d: number): F64Tensor => {
  const y = new Float64Array(n * (d + 1));
  for (let b = 0; b < n; b++) {
    y.set(z.subarray(b * d, (b + 1) * d), b * (d + 1));
    y[b * (d + 1) + d] = logp[b] as number;
  }
  return { shape: [n, d + 1], data: y };
};

for (const opts of [{}, { closedForm: false }, { trace: 'hutchinson', noise: 'rademacher' }] as const satisfies readonly CnfOptions[]) {
  test(`packed augmented dynamics = [f(z), −tr] on the z columns (${JSON.stringify(opts)})`, () => {
    const dyn = csDynamics();
    const flow = cnf(dyn, opts);
    const aug = flow.augmented;
    assert.deepEqual(aug.state.shape, [Bt, 3]);
    const values = initParams(dyn.params, 1);
    const n = 4;
    const z = Float64Array.from({ length: 8 }, (_, i) => Math.sin(3 * i));
    const [v] = drawNoise('rademacher', n, 2, seedRng(1));
    const env = { ...values, t: { shape: [], data: Float64Array.of(0.3) }, v };
    const [f, tr] = run([dyn.f.node, flow.divergence.node], { ...env, z: { shape: [n, 2], data: z } });
    const [dy] = run([aug.f.node], { ...env, z_logp: packed(z, Float64Array.of(1, 2, 3, 4), n, 2) });
    const [dy2] = run([aug.f.node], { ...env, z_logp: packed(z, Float64Array.of(-7, 0, 9, 1e3), n, 2) });
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < 2; j++) assert.equal(dy?.data[b * 3 + j], f?.data[b * 2 + j]);
      assert.equal(dy?.data[b * 3 + 2], -(tr?.data[b] as number));
    }
    assert.deepEqual(dy2?.data, dy?.data, 'the Δlogp column does not feed back');
    const roles = freeVars([aug.f.node]).map((x) => `${x.name}:${x.role}`);
    assert.ok(!roles.includes('z:state'), 'z is substituted by the packed state');
    assert.equal(roles.includes('v:noise'), flow.probe !== undefined);
  });
}

test('the divergence prints as the closed form', () => {
  const z = X.state('z', [Bt, 2]);
  const net = mlp('f', [2, 64, 2], 'tanh');
  const flow = cnf(dynamics({ state: z, params: net.params, f: net.apply(z) }));
  assert.equal(printText(flow.divergence, { unicode: false }), 'sum((1 - square(tanh(z @ f1_W + f1_b))) * sum(f1_W * f2_W.T, axes=[0]), axes=[1])');
});

test('new variable names avoid the names the dynamics already uses', () => {
  const z = X.state('v', [Bt, 2]);
  const u = X.input('v_logp', [Bt, 2]);
  const dyn = dynamics({ state: z, params: [], f: X.mul(X.tanh(z), u) });
  const flow = cnf(dyn, { trace: 'hutchinson' });
  assert.equal(flow.probe?.variable.name, 'v_');
  assert.equal(flow.packed.name, 'v_logp_');
  assert.equal(flow.augmented.state.node, flow.packed);
  assert.deepEqual(flow.augmented.inputs.map((x) => x.name).sort(), ['v_', 'v_logp']);
});

test('makeCnf refuses states that are not [batch, D] and fields that mix rows', () => {
  const s = X.state('s', [Bt, 2, 2]);
  // @ts-expect-error: a CNF's state is [batch, D]; checked at run time too.
  assert.ok(E.isLeft(makeCnf(dynamics({ state: s, params: [], f: X.tanh(s) }))));
  const z = X.state('z', [Bt, 2]);
  const mixed = X.withShape(X.broadcastBinary('sub', z, X.meanAxes(z, [0], true)), [Bt, 2]);
  const r = makeCnf(dynamics({ state: z, params: [], f: mixed }));
  assert.ok(E.isLeft(r) && /rows/.test(r.left), E.isLeft(r) ? r.left : 'right');
});

test('kernel and reference evaluators give the same field', () => {
  const dyn = csDynamics();
  const flow = cnf(dyn, { closedForm: false });
  const values = initParams(dyn.params, 2);
  const y = { data: Float64Array.from({ length: 15 }, (_, i) => Math.cos(i)), batch: 5, dim: 3 };
  const fk = cnfField(compileCnf(flow, 'kernel'), values);
  const fr = cnfField(compileCnf(flow, 'reference'), values);
  if (E.isLeft(fk) || E.isLeft(fr)) throw new Error('field');
  const a = fk.right(0.7, y).data, b = fr.right(0.7, y).data;
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs((a[i] as number) - (b[i] as number)) < 1e-13, `${i}`);
});

test('cnfField checks parameters and the probe', () => {
  const dyn = csDynamics();
  const values = initParams(dyn.params, 0);
  const exact = compileCnf(cnf(dyn));
  const hutch = compileCnf(cnf(dyn, { trace: 'hutchinson' }));
  const [v] = drawNoise('gaussian', 3, 2, seedRng(0));
  const { c1_W: _, ...missing } = values;
  assert.ok(E.isLeft(cnfField(exact, missing)));
  assert.ok(E.isLeft(cnfField(exact, { ...values, c1_b: { shape: [3], data: new Float64Array(3) } })));
  assert.ok(E.isLeft(cnfField(exact, values, v)), 'exact trace takes no noise');
  assert.ok(E.isLeft(cnfField(hutch, values)), 'Hutchinson needs a probe');
  assert.ok(E.isLeft(cnfField(hutch, values, { shape: [3, 3], data: new Float64Array(9) })));
  const field = cnfField(hutch, values, v);
  if (E.isLeft(field)) throw new Error(field.left);
  assert.equal(field.right(0, { data: new Float64Array(9), batch: 3, dim: 3 }).data.length, 9);
  assert.throws(() => field.right(0, { data: new Float64Array(12), batch: 4, dim: 3 }), /probe/);
});

test('drawNoise: Rademacher entries are ±1, Gaussian ones have unit variance; both are seeded', () => {
  const [r, s1] = drawNoise('rademacher', 500, 4, seedRng(3));
  assert.ok(r.data.every((x) => x === 1 || x === -1));
  assert.deepEqual(drawNoise('rademacher', 500, 4, seedRng(3))[0].data, r.data);
  assert.notDeepEqual(drawNoise('rademacher', 500, 4, s1)[0].data, r.data);
  const [g] = drawNoise('gaussian', 1000, 4, seedRng(4));
  const mean = g.data.reduce((a, x) => a + x, 0) / g.data.length;
  const variance = g.data.reduce((a, x) => a + (x - mean) ** 2, 0) / g.data.length;
  assert.ok(Math.abs(mean) < 0.06 && Math.abs(variance - 1) < 0.08, `mean ${mean}, variance ${variance}`);
});
