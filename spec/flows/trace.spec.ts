/**
 * Divergences: the exact trace (Jacobian diagonal) against linear algebra and finite differences,
 * the one-hidden-layer closed form against the exact trace on random networks (and its size),
 * and Hutchinson's estimator: exactly vᵀJv per draw, and unbiased over many seeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { jacobian } from '../../src/adjoint/vjp.ts';
import * as X from '../../src/dsl/expr.ts';
import { concatSquash, linear, mlp, type Activation } from '../../src/dsl/layers.ts';
import { dynamics } from '../../src/dsl/model.ts';
import type { Node } from '../../src/dsl/node.ts';
import type { ParamDecl } from '../../src/dsl/params.ts';
import { sym, type Sym } from '../../src/dsl/shape.ts';
import { compileF64, type F64Env } from '../../src/interp/evalF64.ts';
import { kernelFn } from '../../src/interp/kernel/index.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { dagSize, topoOrder } from '../../src/interp/traverse.ts';
import { draw, nextNormal, seedRng } from '../../src/random/prng.ts';
import { cnf, drawNoise, exactTrace, hutchinsonTrace, oneHiddenLayerTrace, type Rows } from '../../src/flows/index.ts';
import { assertProperty } from '../support/property.ts';

const Bt = sym('batch');
interface Field<D extends number = number> {
  readonly z: X.Expr<Rows<Sym<'batch'>, D>>;
  readonly f: X.Expr<Rows<Sym<'batch'>, D>>;
  readonly params: readonly ParamDecl[];
}

const normals = (shape: readonly number[], seed: number, scale = 1): F64Tensor => ({
  shape, data: draw(nextNormal, seedRng(seed, 'spec'), shape.reduce((a, b) => a * b, 1))[0].map((v) => v * scale),
});

const run = (roots: readonly Node[], env: F64Env, dims?: Readonly<Record<string, number>>): readonly F64Tensor[] => {
  const r = compileF64(roots)(env, dims);
  if (E.isLeft(r)) throw new Error(`eval failed: ${r.left._tag}`);
  return r.right;
};

const right = <T>(r: E.Either<string, T>): T => {
  if (E.isLeft(r)) throw new Error(r.left);
  return r.right;
};

const assertClose = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void => {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number, y = b[i] as number;
    assert.ok(Math.abs(x - y) <= tol * (1 + Math.abs(y)), `${what}[${i}]: ${x} vs ${y}`);
  }
};

/** Parameter values drawn with a larger spread than the default init, so nonlinearity shows. */
const randomValues = (params: readonly ParamDecl[], seed: number): Record<string, F64Tensor> =>
  Object.fromEntries(params.map((p, i) => [p.name, normals(p.shape, seed * 1000 + i, 0.8)]));

test('exact trace of a linear field z A is tr(A) on every row', () => {
  const z = X.state('z', [Bt, 3]);
  const A = normals([3, 3], 1);
  const tr = right(exactTrace(X.matmul(z, X.tensor(A.data, [3, 3])), z));
  // The trace of a linear field does not depend on z: the batch size is given explicitly.
  const [t] = run([tr.node], {}, { batch: 5 });
  const expected = (A.data[0] as number) + (A.data[4] as number) + (A.data[8] as number);
  assertClose(t?.data ?? [], new Array(5).fill(expected), 1e-14, 'tr');
});

/** A row-wise nonlinear field: two tanh layers plus an elementwise term. */
const nonlinear = <const D extends number>(d: D): Field<D> => {
  const z = X.state('z', [Bt, d]);
  const net = mlp('g', [d, 7, 5, d], 'tanh');
  return { z, f: X.add(net.apply(z), X.mul(X.sin(z), z)), params: net.params };
};

test('exact trace matches central finite differences of a nonlinear field', () => {
  const { z, f, params } = nonlinear(3);
  const values = randomValues(params, 3);
  const z0 = normals([4, 3], 4);
  const [t] = run([right(exactTrace(f, z)).node], { ...values, z: z0 });
  const fOf = (data: Float64Array): Float64Array => (run([f.node], { ...values, z: { shape: [4, 3], data } })[0] as F64Tensor).data;
  const h = 1e-5;
  const fd = new Float64Array(4);
  for (let b = 0; b < 4; b++) {
    for (let i = 0; i < 3; i++) {
      const up = z0.data.slice(), dn = z0.data.slice();
      up[b * 3 + i] = (up[b * 3 + i] as number) + h;
      dn[b * 3 + i] = (dn[b * 3 + i] as number) - h;
      fd[b] = (fd[b] as number) + (((fOf(up)[b * 3 + i] as number) - (fOf(dn)[b * 3 + i] as number)) / (2 * h));
    }
  }
  assertClose(t?.data ?? [], fd, 1e-7, 'tr vs fd');
});

/** One-hidden-layer architectures the closed form must recognise. */
const architectures = ['mlp', 'noBias', 'concatSquash', 'mlpOnZt', 'negScaled'] as const;
type Arch = (typeof architectures)[number];

const oneHidden = (arch: Arch, d: number, h: number, act: Activation): Field => {
  const z = X.state('z', [Bt, d]);
  const t = X.time('t');
  const a = (x: X.Expr<readonly [Sym<'batch'>, number]>) => ({ tanh: X.tanh, relu: X.relu, softplus: X.softplus, sigmoid: X.sigmoid })[act](x);
  switch (arch) {
    case 'mlp': {
      const net = mlp('m', [d, h, d], act);
      return { z, f: net.apply(z), params: net.params };
    }
    case 'noBias': {
      const l1 = linear('n1', d, h, { bias: false }), l2 = linear('n2', h, d, { bias: false });
      return { z, f: l2.apply(a(l1.apply(z))), params: [...l1.params, ...l2.params] };
    }
    case 'concatSquash': {
      const c1 = concatSquash('cs1', d, h), c2 = concatSquash('cs2', h, d);
      return { z, f: c2.apply(a(c1.apply(z, t)), t), params: [...c1.params, ...c2.params] };
    }
    case 'mlpOnZt': {
      const net = mlp('zt', [d + 1, h, d], act);
      const zt = X.withShape(X.concat([z, X.broadcastTo(X.reshape(t, [1, 1]), [Bt, 1])], 1), [Bt, d + 1]);
      return { z, f: net.apply(zt), params: net.params };
    }
    case 'negScaled': {
      const net = mlp('s', [d, h, d], act);
      const s = X.input('scale', [Bt, d]);
      return { z, f: X.div(X.neg(X.mul(s, net.apply(z))), 2), params: net.params };
    }
  }
};

test('closed-form one-hidden-layer trace equals the exact trace on random weights, with fewer nodes', () => {
  assertProperty(fc.property(
    fc.constantFrom(...architectures), fc.constantFrom<Activation>('tanh', 'sigmoid', 'softplus', 'relu'),
    fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 1e6 }),
    (arch, act, d, h, seed) => {
      const { z, f, params } = oneHidden(arch, d, h, act);
      const closed = right(oneHiddenLayerTrace(f, z));
      const exact = right(exactTrace(f, z));
      const env = { ...randomValues(params, seed), z: normals([3, d], seed + 1), t: normals([], seed + 2), scale: normals([3, d], seed + 3) };
      const [c, e] = run([closed.node, exact.node], env);
      assertClose(c?.data ?? [], e?.data ?? [], 1e-12, `${arch}/${act} d=${d} h=${h}`);
      assert.ok(dagSize([f.node, closed.node]) <= dagSize([f.node, exact.node]), 'closed form is not larger');
    },
  ), { seed: 7, numRuns: 60 });
});

test('for a 2-D, 64-hidden tanh MLP the closed form has fewer nodes and less arithmetic', () => {
  const { z, f } = oneHidden('mlp', 2, 64, 'tanh');
  const closed = right(oneHiddenLayerTrace(f, z));
  const exact = right(exactTrace(f, z));
  const nClosed = dagSize([f.node, closed.node]), nExact = dagSize([f.node, exact.node]);
  assert.ok(nClosed < nExact, `closed ${nClosed} vs exact ${nExact} nodes`);
  // Arithmetic per evaluation at batch 256 (elementwise ops count their outputs, a matmul M·K·N).
  const flops = (roots: readonly Node[]): number => topoOrder(roots).reduce((acc, n) => {
    const size = (shape: readonly (number | string)[]): number => shape.reduce<number>((p, d) => p * (typeof d === 'number' ? d : 256), 1);
    switch (n.kind) {
      case 'const': case 'var': case 'reshape': return acc;
      case 'matmul': return acc + size(n.x.shape) * size([n.shape[1] ?? 1]);
      case 'reduce': return acc + size(n.x.shape);
      case 'unary': case 'binary': case 'broadcast': case 'transpose': case 'concat': case 'slice': case 'patches':
      case 'unpatches': return acc + size(n.shape);
    }
  }, 0);
  const cClosed = flops([f.node, closed.node]), cExact = flops([f.node, exact.node]), cF = flops([f.node]);
  assert.ok(cClosed - cF < (cExact - cF) / 2, `trace costs ${cClosed - cF} (closed) vs ${cExact - cF} (exact) flops`);
});

test('the closed form refuses what it cannot handle, and cnf falls back to the Jacobian diagonal', () => {
  const { z, f, params } = nonlinear(2);
  assert.ok(E.isLeft(oneHiddenLayerTrace(f, z)));
  const deep = mlp('d', [2, 8, 8, 2], 'tanh');
  assert.ok(E.isLeft(oneHiddenLayerTrace(deep.apply(z), z)), 'two hidden layers');
  const W = mlp('w', [2, 8, 2], 'tanh');
  assert.ok(E.isLeft(oneHiddenLayerTrace(W.apply(X.mul(z, z)), z)), 'first layer input is not z');
  const twice = mlp('w2', [4, 8, 2], 'tanh');
  const zz = X.withShape(X.concat([z, z], 1), [Bt, 4]);
  assert.ok(E.isLeft(oneHiddenLayerTrace(twice.apply(zz), z)), 'z enters the first layer twice');
  const fallback = cnf(dynamics({ state: z, params: twice.params, f: twice.apply(zz) }));
  assert.equal(fallback.traceMethod, 'jacobian-diagonal');
  assert.equal(cnf(dynamics({ state: z, params, f })).traceMethod, 'jacobian-diagonal');
  assert.equal(cnf(dynamics({ state: z, params: W.params, f: W.apply(z) })).traceMethod, 'closed-form');
  assert.equal(cnf(dynamics({ state: z, params: W.params, f: W.apply(z) }), { closedForm: false }).traceMethod, 'jacobian-diagonal');
});

test('traces refuse fields that mix rows of the batch', () => {
  const z = X.state('z', [Bt, 2]);
  const mixed = X.withShape(X.broadcastBinary('sub', z, X.meanAxes(z, [0], true)), [Bt, 2]);
  assert.ok(E.isLeft(exactTrace(mixed, z)));
  assert.ok(E.isLeft(hutchinsonTrace(mixed, z, X.noise('v', [Bt, 2]))));
});

test('Hutchinson estimate is exactly vᵀ J v for each probe', () => {
  const { z, f, params } = nonlinear(3);
  const v = X.noise('v', [Bt, 3]);
  const est = right(hutchinsonTrace(f, z, v));
  const J = right(jacobian(f.node, z.node));
  const [noise] = drawNoise('gaussian', 4, 3, seedRng(9));
  const [e, j] = run([est.node, J], { ...randomValues(params, 8), z: normals([4, 3], 10), v: noise });
  const expect = new Float64Array(4);
  for (let b = 0; b < 4; b++)
    for (let i = 0; i < 3; i++)
      for (let k = 0; k < 3; k++)
        expect[b] = (expect[b] as number) + (noise.data[b * 3 + i] as number) * (j?.data[b * 9 + i * 3 + k] as number) * (noise.data[b * 3 + k] as number);
  assertClose(e?.data ?? [], expect, 1e-12, 'vᵀJv');
});

for (const kind of ['gaussian', 'rademacher'] as const) {
  test(`Hutchinson estimate with ${kind} noise is unbiased (mean over many seeds within 3 standard errors)`, () => {
    const { z, f, params } = nonlinear(3);
    const v = X.noise('v', [Bt, 3]);
    const est = kernelFn([right(hutchinsonTrace(f, z, v)).node]);
    const env = { ...randomValues(params, 11), z: normals([1, 3], 12) };
    const [exact] = run([right(exactTrace(f, z)).node], env);
    const truth = exact?.data[0] as number;
    const n = 4000;
    let sum = 0, sumSq = 0;
    for (let seed = 0; seed < n; seed++) {
      const [noise] = drawNoise(kind, 1, 3, seedRng(seed, kind));
      const r = est({ ...env, v: noise });
      if (E.isLeft(r)) throw new Error(r.left._tag);
      const x = r.right[0]?.data[0] as number;
      sum += x;
      sumSq += x * x;
    }
    const mean = sum / n;
    const se = Math.sqrt((sumSq / n - mean * mean) / (n - 1));
    assert.ok(se > 1e-6, 'the estimator has variance: the test is not vacuous');
    assert.ok(Math.abs(mean - truth) < 3 * se, `mean ${mean} vs exact ${truth} (standard error ${se})`);
  });
}
