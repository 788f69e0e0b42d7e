/**
 * Every VJP rule against central finite differences in float64: one test per unary, binary and
 * reduce op and per node kind. The case tables are records keyed by the op and kind literals,
 * so a new op without a test does not compile, and each suite checks it covered the full list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as X from '../../src/dsl/expr.ts';
import { nodeKinds, type Node, type NodeKind, type NodeOf } from '../../src/dsl/node.ts';
import { binaryOps, reduceOps, unaryOps, type BinaryOp, type ReduceOp, type UnaryOp } from '../../src/dsl/ops.ts';
import { sym, type Shape } from '../../src/dsl/shape.ts';
import type { WindowSpec } from '../../src/dsl/window.ts';
import { vjp, vjpSweep } from '../../src/adjoint/vjp.ts';
import { isZero } from '../../src/adjoint/vjpRules.ts';
import * as B from '../../src/adjoint/build.ts';
import { topoOrder } from '../../src/interp/traverse.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { checkVjp, rng, run, type Rng } from './fd.ts';

const Bt = sym('batch');
const BATCH = 2;
const resolve = (s: Shape): number[] => s.map((d) => (typeof d === 'number' ? d : BATCH));

type Sampler = (r: Rng) => number;
const anyReal: Sampler = (r) => r.uniform(-2, 2);
const positive: Sampler = (r) => r.uniform(0.2, 3);
const awayFromZero: Sampler = (r) => (r.uniform() < 0.5 ? -1 : 1) * r.uniform(0.1, 2);

/** A variable with random values drawn inside a domain. */
interface V<S extends Shape = Shape> {
  readonly e: X.Expr<S>;
  readonly node: NodeOf<'var'>;
  readonly value: F64Tensor;
}
const v = <const S extends Shape>(r: Rng, name: string, shape: S, draw: Sampler = anyReal): V<S> => {
  const e = X.variable(name, 'input', shape);
  return { e, node: e.node as NodeOf<'var'>, value: r.tensor(resolve(shape), () => draw(r)) };
};

const expectFd = (outputs: readonly Node[], vars: readonly V[], r: Rng, label: string): void => {
  const env = Object.fromEntries(vars.map((x) => [x.node.name, x.value]));
  const { mismatches, checked } = checkVjp({ outputs, wrt: vars.map((x) => x.node), env, rng: r });
  assert.ok(checked > 0, `${label}: nothing checked`);
  assert.deepEqual(mismatches, [], `${label}: symbolic VJP differs from finite differences`);
};

const unaryDomain: { readonly [K in UnaryOp]: Sampler } = {
  neg: anyReal, exp: anyReal, log: positive, log1p: (r) => r.uniform(-0.8, 3), sqrt: positive,
  square: anyReal, sin: anyReal, cos: anyReal, tanh: anyReal, sigmoid: anyReal, softplus: anyReal,
  relu: awayFromZero, abs: awayFromZero, sign: awayFromZero, step: awayFromZero,
};

const tested = { unary: new Set<string>(), binary: new Set<string>(), reduce: new Set<string>(), kind: new Set<string>() };

for (const op of unaryOps) {
  test(`vjp of unary ${op} matches finite differences`, () => {
    const r = rng(1, op);
    for (const shape of [[Bt, 3], [4], []] as const) {
      const x = v(r, 'x', shape, unaryDomain[op]);
      expectFd([B.un(op, x.node)], [x], r, `${op} [${shape.join(',')}]`);
    }
    tested.unary.add(op);
  });
}

/** Broadcasting cases: each pair of operand shapes is tried for every binary op. */
const binaryShapes: readonly (readonly [Shape, Shape])[] = [
  [[2, 3], [2, 3]],
  [[Bt, 50], [50]],
  [[], [2, 3]],
  [[Bt, 1], [Bt, 3]],
  [[3], [Bt, 1]],
  [[Bt, 3], []],
];
const binaryDomain: { readonly [K in BinaryOp]: readonly [Sampler, Sampler] } = {
  add: [anyReal, anyReal], sub: [anyReal, anyReal], mul: [anyReal, anyReal],
  div: [anyReal, awayFromZero], pow: [(r) => r.uniform(0.3, 2), anyReal],
  maximum: [anyReal, anyReal], minimum: [anyReal, anyReal],
};

for (const op of binaryOps) {
  test(`vjp of binary ${op} matches finite differences, with broadcasting`, () => {
    const r = rng(2, op);
    for (const [sx, sy] of binaryShapes) {
      const x = v(r, 'x', sx, binaryDomain[op][0]);
      const y = v(r, 'y', sy, binaryDomain[op][1]);
      expectFd([X.broadcastBinary(op, x.e, y.e).node], [x, y], r, `${op} [${sx.join(',')}] [${sy.join(',')}]`);
    }
    tested.binary.add(op);
  });
}

const reduceDomain: { readonly [K in ReduceOp]: Sampler } = { sum: anyReal, mean: anyReal, logsumexp: (r) => r.uniform(-30, 30) };

for (const op of reduceOps) {
  test(`vjp of reduce ${op} matches finite differences (named and numeric axes, keepDims)`, () => {
    const r = rng(3, op);
    for (const axes of [[0], [1], [0, 2], [1, 2], [0, 1, 2]]) {
      for (const keep of [false, true]) {
        const x = v(r, 'x', [Bt, 3, 2], reduceDomain[op]);
        expectFd([X.reduceBy(op, x.e, axes, keep).node], [x], r, `${op} axes ${axes.join(',')} keep ${keep}`);
      }
    }
    tested.reduce.add(op);
  });
}

/** Windows on a 4×5 image: plain, strided with uneven padding, dilated, overlapping pads. */
const windowCases: readonly WindowSpec[] = [
  { kernel: 3, padding: 1 },
  { kernel: [3, 2], strides: [2, 1], padding: [1, 0, 1, 1] },
  { kernel: 2, dilation: 2, strides: [1, 2], padding: [0, 1, 2, 0] },
];

/** For each node kind: cases building an expression of that kind from random variables. */
const kindCases: { readonly [K in NodeKind]: (r: Rng) => readonly { outs: readonly Node[]; vars: readonly V[] }[] } = {
  const: (r) => {
    const x = v(r, 'x', [2, 3]);
    return [{ outs: [X.mul(x.e, X.tensor([1, -2, 3, 0.5, 4, -1], [2, 3])).node], vars: [x] }];
  },
  var: (r) => {
    const x = v(r, 'x', [Bt, 3]);
    const y = v(r, 'y', [3]);
    return [{ outs: [x.node], vars: [x, y] }, { outs: [x.node, x.node], vars: [x] }];
  },
  unary: (r) => {
    const x = v(r, 'x', [3]);
    return [{ outs: [X.tanh(X.tanh(x.e)).node], vars: [x] }];
  },
  binary: (r) => {
    const x = v(r, 'x', [Bt, 2]);
    return [{ outs: [X.mul(x.e, X.add(x.e, x.e)).node], vars: [x] }];
  },
  matmul: (r) => {
    const x = v(r, 'x', [Bt, 3]);
    const w = v(r, 'w', [3, 4]);
    const m = v(r, 'm', [3, 3]);
    // Batched: a stack times a shared matrix (named and numeric leading dims, merged rows in the
    // weight VJP), a matrix times a stack, and stack by stack.
    const s = v(r, 's', [Bt, 2, 3, 4]), t = v(r, 't', [2, 3, 2, 4]), u = v(r, 'u', [Bt, 4, 3]), p = v(r, 'p', [2, 4]);
    const k = v(r, 'k', [4, 3]);
    return [
      { outs: [X.matmul(x.e, w.e).node], vars: [x, w] }, { outs: [X.matmul(m.e, m.e).node], vars: [m] },
      { outs: [X.matmulChecked(s.e, k.e).node], vars: [s, k] }, { outs: [X.matmulChecked(t.e, k.e).node], vars: [t, k] },
      { outs: [X.matmulChecked(p.e, u.e).node], vars: [p, u] }, { outs: [X.matmulChecked(u.e, X.reshape(x.e, [Bt, 3, 1])).node], vars: [u, x] },
    ];
  },
  reduce: (r) => {
    const x = v(r, 'x', [Bt, 4]);
    return [{ outs: [X.sumAxes(x.e, [1], true).node, X.logsumexpAxis(x.e, 0).node], vars: [x] }];
  },
  reshape: (r) => {
    const x = v(r, 'x', [Bt, 6]);
    const y = v(r, 'y', [2, 3]);
    return [{ outs: [X.reshape(x.e, [Bt, 2, 3]).node], vars: [x] }, { outs: [X.reshape(y.e, [6]).node], vars: [y] }];
  },
  broadcast: (r) => {
    const a = v(r, 'a', [3]);
    const b = v(r, 'b', [2, 1]);
    const c = v(r, 'c', []);
    return [
      { outs: [X.broadcastTo(a.e, [Bt, 2, 3]).node], vars: [a] },
      { outs: [X.broadcastTo(b.e, [2, 3]).node], vars: [b] },
      { outs: [X.broadcastTo(c.e, [Bt, 3]).node], vars: [c] },
      { outs: [X.broadcastTo(b.e, [4, 2, 1]).node], vars: [b] },
    ];
  },
  transpose: (r) => {
    const x = v(r, 'x', [2, 3, 4]);
    const y = v(r, 'y', [Bt, 3]);
    return [{ outs: [X.transpose(x.e, [2, 0, 1]).node], vars: [x] }, { outs: [X.transpose(y.e).node], vars: [y] }];
  },
  concat: (r) => {
    const a = v(r, 'a', [Bt, 2]), b = v(r, 'b', [Bt, 3]), c = v(r, 'c', [Bt, 1]);
    const p = v(r, 'p', [2, 3]), q = v(r, 'q', [1, 3]);
    return [
      { outs: [X.concat([a.e, b.e, c.e, a.e], 1).node], vars: [a, b, c] },
      { outs: [X.concat([p.e, q.e], 0).node], vars: [p, q] },
      { outs: [X.concat([a.e], 0).node], vars: [a] },
    ];
  },
  slice: (r) => {
    const x = v(r, 'x', [Bt, 5, 4]);
    const y = v(r, 'y', [6]);
    return [
      { outs: [X.slice(x.e, [0, 1, 2], [Bt, 3, 1]).node], vars: [x] },
      { outs: [X.slice(y.e, [2], [3]).node, X.slice(y.e, [0], [2]).node], vars: [y] },
      { outs: [X.slice(x.e, [0, 0, 0], [Bt, 5, 4]).node], vars: [x] },
    ];
  },
  patches: (r) => windowCases.map((w) => {
    const x = v(r, 'x', [Bt, 4, 5, 2]);
    return { outs: [X.patches(x.e, w).node], vars: [x] };
  }),
  unpatches: (r) => windowCases.map((w) => {
    const grid = X.patches(X.input('probe', [Bt, 4, 5, 2]), w).shape;
    const y = v(r, 'y', grid);
    return { outs: [X.unpatches(y.e, w, [4, 5]).node], vars: [y] };
  }),
};

for (const kind of nodeKinds) {
  test(`vjp of node kind ${kind} matches finite differences`, () => {
    const r = rng(4, kind);
    for (const [i, c] of kindCases[kind](r).entries()) expectFd(c.outs, c.vars, r, `${kind} case ${i}`);
    tested.kind.add(kind);
  });
}

test('every op and node kind has its own finite-difference test', () => {
  assert.deepEqual([...tested.unary].sort(), [...unaryOps].sort());
  assert.deepEqual([...tested.binary].sort(), [...binaryOps].sort());
  assert.deepEqual([...tested.reduce].sort(), [...reduceOps].sort());
  assert.deepEqual([...tested.kind].sort(), [...nodeKinds].sort());
});

test('rules reuse the primal output (tanh, exp, sigmoid, sqrt, div, pow)', () => {
  const x = X.variable('x', 'input', [3]);
  const y = X.variable('y', 'input', [3]);
  const g = X.variable('g', 'input', [3]);
  for (const out of [X.tanh(x), X.exp(x), X.sigmoid(x), X.sqrt(x), X.div(y, x), X.pow(y, x)]) {
    const [gx] = vjp([out.node], [g.node], [x.node]);
    assert.ok(topoOrder([gx as Node]).includes(out.node), `the VJP of ${out.node.kind} reuses its output`);
  }
});

test('pow builds the log branch only when the exponent is differentiated', () => {
  const x = X.variable('x', 'input', [3]);
  const b = X.variable('b', 'input', [3]);
  const g = X.variable('g', 'input', [3]);
  const hasLog = (n: Node): boolean => topoOrder([n]).some((m) => m.kind === 'unary' && m.op === 'log');
  const [gx] = vjp([X.pow(x, b).node], [g.node], [x.node]);
  assert.equal(hasLog(gx as Node), false);
  const [, gb] = vjp([X.pow(x, b).node], [g.node], [x.node, b.node]);
  assert.equal(hasLog(gb as Node), true);
});

test('sign and step give a symbolic zero; nothing depends on an unused input', () => {
  const x = X.variable('x', 'input', [Bt, 2]);
  const w = X.variable('w', 'input', [2]);
  const g = X.variable('g', 'input', [Bt, 2]);
  for (const out of [X.sign(x), X.step(x), X.mul(X.step(x), X.sign(x))]) {
    const [c] = vjpSweep([out.node], [g.node], [x.node]);
    assert.ok(c !== undefined && isZero(c));
  }
  const [gw] = vjp([X.tanh(x).node], [g.node], [w.node]);
  const [val] = run([gw as Node], { w: { shape: [2], data: Float64Array.of(1, 2) } });
  assert.deepEqual(Array.from((val as F64Tensor).data), [0, 0]);
});

test('ties and kinks follow the documented conventions', () => {
  const x = X.variable('x', 'input', [4]);
  const y = X.variable('y', 'input', [4]);
  const g = X.variable('g', 'input', [4]);
  const env = {
    x: { shape: [4], data: Float64Array.of(0, 1, -1, 2) },
    y: { shape: [4], data: Float64Array.of(0, 1, 0, 0) },
    g: { shape: [4], data: Float64Array.of(1, 1, 1, 1) },
  };
  const vals = (out: X.Expr<Shape>) => run(vjp([out.node], [g.node], [x.node, y.node]), env).map((t) => Array.from(t.data));
  // maximum: x gets g where x > y; ties (first two) go to y.
  assert.deepEqual(vals(X.maximum(x, y)), [[0, 0, 0, 1], [1, 1, 1, 0]]);
  // minimum: x gets g where x < y; ties go to y.
  assert.deepEqual(vals(X.minimum(x, y)), [[0, 0, 1, 0], [1, 1, 0, 1]]);
  // relu'(0) = 0, abs'(0) = 0, and maximum(x, 0) has relu's derivative.
  const [relu] = vals(X.relu(x));
  assert.deepEqual(relu, [0, 1, 0, 1]);
  assert.deepEqual(vals(X.maximum(x, 0))[0], relu);
  assert.deepEqual(vals(X.abs(x))[0], [0, 1, -1, 1]);
});
