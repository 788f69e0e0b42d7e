/**
 * The generated kernel against the reference evaluator: every op and node kind (loops over the
 * op lists and a record keyed by node kind, so a new one is noticed), broadcasting, named dims,
 * sharing and multiple roots, a 20,000-deep chain, random expressions, buffer reuse, errors, and
 * the guarantee that no string from a model reaches the generated source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../../src/dsl/construct.ts';
import * as X from '../../src/dsl/expr.ts';
import { nodeKinds, type Node, type NodeKind, type VarNode } from '../../src/dsl/node.ts';
import { binaryOps, reduceOps, unaryOps } from '../../src/dsl/ops.ts';
import { sym, type Shape } from '../../src/dsl/shape.ts';
import type { WindowSpec } from '../../src/dsl/window.ts';
import { binaryF64, evalF64, unaryF64, type F64Env } from '../../src/interp/evalF64.ts';
import { compileKernel, defaultKernelTarget, formatKernelError, kernelFn, kernelTargets, type Kernel, type KernelTarget } from '../../src/interp/kernel/index.ts';
import { auditSource, ident } from '../../src/interp/kernel/js.ts';
import { binaryJs, mathPrologue, unaryJs } from '../../src/interp/kernel/jsOps.ts';
import { fastMath } from '../../src/interp/fastMath.ts';
import { sizeOf, type F64Tensor } from '../../src/interp/tensor.ts';
import { freeVars } from '../../src/interp/traverse.ts';
import { anyExpr, exprArbs, exprVars } from '../arbitraries/expr.ts';

const B = sym('batch');
const specials = [0, -0, 1, -1, 0.5, -2.5, 3, 1e-300, -1e-300, 40, -40, 800, -800, 1e308, NaN, Infinity, -Infinity];

/** A seeded uniform stream in [-2, 2), with an occasional special value when asked. */
const lcg = (seed: number, withSpecials = false) => {
  let s = seed >>> 0;
  return (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    if (withSpecials && s % 11 === 0) return specials[(s >>> 8) % specials.length] as number;
    return (s / 2 ** 32) * 4 - 2;
  };
};

/** Random inputs for every variable under `roots`, named dims resolved with `batch`. */
const envFor = (roots: readonly Node[], batch: number, seed = 1, withSpecials = false): F64Env => {
  const draw = lcg(seed, withSpecials);
  return Object.fromEntries(freeVars(roots).map((v) => {
    const shape = v.shape.map((d) => (typeof d === 'number' ? d : batch));
    return [v.name, { shape, data: Float64Array.from({ length: sizeOf(shape) }, draw) }];
  }));
};

const right = <L, R>(r: E.Either<L, R>, what: string): R => {
  if (E.isLeft(r)) throw new Error(`${what}: ${JSON.stringify(r.left)}`);
  return r.right;
};

/**
 * Asserts that both kernels, generated JavaScript and WebAssembly, equal evalF64 bit for bit
 * (NaNs equal) on `env`, or fail the same way.
 */
const agree = (roots: readonly Node[], env: F64Env, label = ''): readonly F64Tensor[] => {
  const refE = evalF64(roots, env);
  let got: readonly F64Tensor[] = [];
  for (const target of kernelTargets) {
    const gotE = kernelFn(roots, { target })(env);
    if (E.isLeft(refE)) {
      assert.deepEqual(gotE, refE, `${label}: both fail alike (${target})`);
      continue;
    }
    const ref = refE.right;
    got = right(gotE, `kernel ${label} (${target})`);
    assert.equal(got.length, ref.length);
    ref.forEach((r, j) => {
      const g = got[j] as F64Tensor;
      assert.deepEqual(g.shape, r.shape, `${label} root ${j} shape`);
      assert.equal(g.data.length, r.data.length);
      for (let i = 0; i < r.data.length; i++)
        if (!Object.is(g.data[i], r.data[i])) assert.fail(`${label} root ${j}[${i}]: ${target} kernel ${g.data[i]} vs evalF64 ${r.data[i]}`);
    });
  }
  return got;
};

const compile = (roots: readonly Node[], sizes: Record<string, number> = {}, target: KernelTarget = 'js'): Kernel =>
  right(compileKernel(roots, freeVars(roots), new Map(Object.entries(sizes)), { target }), 'compileKernel');

test('op templates equal unaryF64 / binaryF64 on special values', () => {
  const a = ident('a', 0), b = ident('a', 1);
  for (const op of unaryOps) {
    const f = new Function('F', ident('a', 0), `${mathPrologue} return ${unaryJs[op](a)};`).bind(null, fastMath) as (x: number) => number;
    for (const x of specials) assert.ok(Object.is(f(x), unaryF64[op](x)), `${op}(${x})`);
  }
  for (const op of binaryOps) {
    const f = new Function('F', a, b, `${mathPrologue} return ${binaryJs[op](a, b)};`).bind(null, fastMath) as (x: number, y: number) => number;
    for (const x of specials) for (const y of specials) assert.ok(Object.is(f(x, y), binaryF64[op](x, y)), `${op}(${x}, ${y})`);
  }
});

for (const op of unaryOps) {
  test(`unary ${op}: alone, fused in a chain, and on a broadcast sum`, () => {
    const x = X.input('x', [B, specials.length]);
    const b = X.input('b', [specials.length]);
    const data = Float64Array.from({ length: 3 * specials.length }, (_, i) => specials[i % specials.length] as number);
    const env: F64Env = { x: { shape: [3, specials.length], data }, b: { shape: [specials.length], data: Float64Array.from(specials) } };
    const un = (e: X.Expr<Shape>) => X.lift(right(C.unary(op, e.node), op));
    agree([un(x).node], env, op);
    agree([un(un(X.mul(x, 0.5))).node], env, `${op}∘${op}`);
    agree([X.add(un(X.broadcastBinary('add', x, b)), x).node], env, `${op} broadcast`);
  });
}

for (const op of binaryOps) {
  test(`binary ${op}: every pair of special values and each broadcasting pattern`, () => {
    const n = specials.length;
    const x = X.input('x', [n, n]), y = X.input('y', [n, n]);
    const xs = Float64Array.from({ length: n * n }, (_, i) => specials[Math.floor(i / n)] as number);
    const ys = Float64Array.from({ length: n * n }, (_, i) => specials[i % n] as number);
    const bin = (p: X.Expr<Shape> | number, q: X.Expr<Shape> | number) => X.broadcastBinary(op, p, q);
    agree([bin(x, y).node], { x: { shape: [n, n], data: xs }, y: { shape: [n, n], data: ys } }, op);
    const m = X.input('m', [B, 3]), row = X.input('r', [3]), col = X.input('c', [B, 1]), r13 = X.input('q', [1, 3]);
    const s = X.input('s', []);
    const roots = [bin(m, row), bin(row, m), bin(col, r13), bin(r13, col), bin(s, m), bin(m, 1.5), bin(bin(m, col), row)];
    for (const batch of [1, 4]) agree(roots.map((e) => e.node), envFor(roots.map((e) => e.node), batch, 3, true), `${op} bcast`);
  });
}

for (const op of reduceOps) {
  test(`reduce ${op} over every subset of axes of a 3-D tensor, with and without keepDims`, () => {
    const x = X.input('x', [2, 3, 4]);
    for (let mask = 0; mask < 8; mask++) {
      const axes = [0, 1, 2].filter((a) => mask & (1 << a));
      for (const keep of [false, true]) {
        const e = X.reduceBy(op, x, axes, keep);
        agree([e.node], envFor([e.node], 1, mask), `${op} [${axes}] ${keep}`);
        agree([e.node], envFor([e.node], 1, mask + 10, true), `${op} specials [${axes}] ${keep}`);
      }
    }
    const row = X.input('r', [3, 3]);
    const data = Float64Array.of(1000, 1000, 1000, -Infinity, -Infinity, -Infinity, 1, NaN, Infinity);
    agree([X.reduceBy(op, row, [1]).node], { r: { shape: [3, 3], data } }, `${op} extremes`);
  });
}

/** Windows and image sizes: padded, valid (no zero fill), strided and dilated, 1×1, larger than the image. */
const kernelWindows: readonly (readonly [WindowSpec, number, number])[] = [
  [{ kernel: 3, padding: 1 }, 5, 6],
  [{ kernel: 3 }, 5, 6],
  [{ kernel: [2, 3], strides: [2, 1], padding: [0, 1, 2, 0] }, 5, 6],
  [{ kernel: 2, dilation: 2, strides: 2, padding: 1 }, 5, 6],
  [{ kernel: 1 }, 4, 4],
  [{ kernel: 3, padding: 1 }, 2, 1],
];

/** One or more expressions per node kind; the record fails to compile when a kind is added. */
const kindCases: { readonly [K in NodeKind]: () => readonly X.Expr<Shape>[] } = {
  const: () => [X.tensor([1, -0, NaN, 4], [2, 2]), X.scalar(-0)],
  var: () => [X.input('x', [B, 3])],
  unary: () => [X.tanh(X.input('x', [B, 3]))],
  binary: () => [X.add(X.input('x', [B, 3]), X.tensor([1, 2, 3], [3]))],
  matmul: () => {
    const mm = (m: number, k: number, n: number) => X.matmul(X.input(`x${m}_${k}`, [m, k]), X.input(`w${k}_${n}`, [k, n]));
    return [mm(3, 2, 50), mm(3, 50, 2), mm(5, 12, 13), mm(1, 9, 9), mm(4, 0, 3), mm(2, 3, 1),
      X.matmul(X.input('z', [B, 3]), X.tensor([1, 2, 3, 4, 5, 6], [3, 2])),
      // Batched, in every schedule: a stack times a shared matrix (folded into one product), a
      // matrix times a stack, stack by stack; small k, small n, small m, general; a transposed stack.
      ...([[2, 4, 5], [3, 12, 13], [9, 12, 2], [2, 12, 13]] as const).flatMap(([m, k, n]) => [
        X.matmulChecked(X.input(`s${m}_${k}`, [B, 2, m, k]), X.input(`w${k}_${n}`, [k, n])),
        X.matmulChecked(X.input(`x${m}_${k}`, [m, k]), X.input(`u${k}_${n}`, [B, k, n])),
        X.matmulChecked(X.input(`t${m}_${k}`, [B, m, k]), X.input(`u${k}_${n}`, [B, k, n])),
      ]),
      X.matmulChecked(X.transpose(X.input('r', [B, 12, 3]), [0, 2, 1]), X.input('u12_13', [B, 12, 13]))];
  },
  reduce: () => [X.sumAxis(X.input('x', [B, 3]), 1), X.meanAxes(X.input('x', [B, 3]), [0], true)],
  reshape: () => {
    const x = X.input('x', [B, 6]);
    return [X.reshape(x, [B, 2, 3]), X.reshape(X.exp(x), [B, 3, 2]), X.sum(X.reshape(X.tanh(x), [B, 6, 1]))];
  },
  broadcast: () => [X.broadcastTo(X.input('r', [B, 1, 3]), [B, 2, 3]), X.broadcastTo(X.input('c', [B, 1]), [B, 4]),
    X.broadcastTo(X.input('v', [3]), [2, 1, 3]), X.broadcastTo(X.scalar(1), [B, 2])],
  transpose: () => {
    const z = X.input('z', [2, 3, 4]);
    return [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]].map((p) => X.transpose(z, p));
  },
  concat: () => {
    const x = X.input('x', [B, 3]), w = X.input('w', [B, 1]);
    const m = X.input('m', [2, 3]);
    return [X.concat([x, w, x], 1), X.concat([x, X.tanh(x)], 1), X.concat([w], 1), X.concat([m, X.exp(m), X.slice(m, [1, 0], [1, 3])], 0)];
  },
  slice: () => {
    const z = X.input('z', [3, 4, 5]);
    return [X.slice(z, [1, 0, 2], [2, 4, 3]), X.slice(z, [0, 3, 0], [3, 1, 5]), X.slice(X.input('x', [B, 3]), [0, 1], [B, 2])];
  },
  patches: () => kernelWindows.map(([w, h, wd]) => X.patches(X.input(`x${h}_${wd}`, [B, h, wd, 3]), w)),
  unpatches: () => kernelWindows.map(([w, h, wd], i) =>
    X.unpatches(X.input(`c${i}`, X.patches(X.input('probe', [B, h, wd, 3]), w).shape), w, [h, wd])),
};

for (const kind of nodeKinds) {
  test(`node kind ${kind} agrees with evalF64 at several batch sizes`, () => {
    const es = kindCases[kind]();
    assert.ok(es.some((e) => e.node.kind === kind || e.node.kind === 'reduce' || e.node.kind === 'binary'));
    for (const batch of [1, 3]) {
      for (const [i, e] of es.entries()) agree([e.node], envFor([e.node], batch, i + 7, true), `${kind} #${i} batch ${batch}`);
      agree(es.map((e) => e.node), envFor(es.map((e) => e.node), batch, 5), `${kind} all roots`);
    }
  });
}

test('spiral dynamics at batch 1, 20, 256; fused into matmul + map + matmul + map', () => {
  const y = X.state('y', [B, 2]);
  const W1 = X.variable('W1', 'param', [2, 50]), b1 = X.variable('b1', 'param', [50]);
  const W2 = X.variable('W2', 'param', [50, 2]), b2 = X.variable('b2', 'param', [2]);
  const f = X.add(X.matmul(X.tanh(X.add(X.matmul(X.mul(X.mul(y, y), y), W1), b1)), W2), b2);
  for (const batch of [0, 1, 2, 3, 20, 256]) agree([f.node], envFor([f.node], batch, batch), `spiral ${batch}`);
  const fn = kernelFn([f.node]);
  for (let batch = 1; batch <= 20; batch++) {
    const env = envFor([f.node], batch, 100 + batch);
    assert.deepEqual(right(fn(env), 'kernelFn'), right(evalF64([f.node], env), 'evalF64'), `cached kernel at batch ${batch}`);
  }
  const k = compile([f.node], { batch: 20 });
  assert.equal(k.instructionCount, 5);
  assert.equal(k.source.split('Ftanh(').length - 1, 1);
  assert.ok(k.arenaSize <= 20 * 2 + 2 * 20 * 50, `arena ${k.arenaSize}`);
});

test('inlined exp and tanh equal fastExp / fastTanh bit for bit across every branch', () => {
  const grid = [...specials, 0.85, -0.85, 0.8499999999999999, 22, -22, 21.999999999999996, 708.9, -707.9, 709, -708, 5e-324, -5e-324];
  const draw = lcg(7);
  for (let i = 0; i < 4000; i++) grid.push((draw() * 2) ** 5 * 6, draw() * 1e-6);
  const n = grid.length;
  const x = X.input('x', [n]);
  const k = compile([X.tanh(x).node, X.exp(x).node, X.tanh(X.exp(x)).node]);
  assert.match(k.source, /Ftab\[/, 'exp arithmetic is inlined');
  const outs = k.allocOutputs();
  k.run([Float64Array.from(grid)], outs);
  grid.forEach((v, i) => {
    assert.ok(Object.is(outs[0]?.[i], fastMath.tanh(v)), `tanh(${v})`);
    assert.ok(Object.is(outs[1]?.[i], fastMath.exp(v)), `exp(${v})`);
    assert.ok(Object.is(outs[2]?.[i], fastMath.tanh(fastMath.exp(v))), `tanh(exp(${v}))`);
  });
});

test('WebAssembly: two-lane exp and tanh equal fastExp / fastTanh for every pairing of branches', () => {
  // One representative per branch of each function (rational, exp form, ±1, specials, exp edges).
  const reps = [0, -0, 0.3, -0.84, 0.85, -3, 21.9, 22, -40, 1e-300, 5e-324, NaN, Infinity, -Infinity, 708.9, -707.9, 709, -708, -745.2, 800];
  const pairs = reps.flatMap((a) => reps.flatMap((b) => [a, b]));
  const draw = lcg(11);
  // An odd length, so the last element takes the scalar tail.
  const grid = [...pairs, ...Array.from({ length: 2001 }, () => (draw() * 2) ** 5 * 6)];
  const x = X.input('x', [grid.length]);
  const k = compile([X.tanh(x).node, X.exp(x).node, X.tanh(X.exp(x)).node], {}, 'wasm');
  assert.equal(k.target, 'wasm');
  const outs = k.allocOutputs();
  k.run([Float64Array.from(grid)], outs);
  grid.forEach((v, i) => {
    assert.ok(Object.is(outs[0]?.[i], fastMath.tanh(v)), `tanh(${v}) at ${i}`);
    assert.ok(Object.is(outs[1]?.[i], fastMath.exp(v)), `exp(${v}) at ${i}`);
    assert.ok(Object.is(outs[2]?.[i], fastMath.tanh(fastMath.exp(v))), `tanh(exp(${v})) at ${i}`);
  });
});

test('property: matmuls of every tile and tail size, operands transposed or not, agree bit for bit', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 11 }), fc.integer({ min: 0, max: 19 }), fc.integer({ min: 1, max: 11 }), fc.boolean(), fc.boolean(), fc.nat(),
    (m, k, n, tx, ty, seed) => {
      const x = tx ? X.transposeM(X.input('x', [k, m])) : X.input('x', [m, k]);
      const y = ty ? X.transposeM(X.input('y', [n, k])) : X.input('y', [k, n]);
      const e = X.matmul(x, y);
      agree([e.node, X.tanh(e).node], envFor([e.node], 1, seed, seed % 3 === 0), `${m}×${k}×${n} ${tx} ${ty}`);
    }), { numRuns: 200, seed: 42 });
});

test('kernel target: WebAssembly by default, FLUXION_KERNEL overrides, a bad value is named', () => {
  const x = X.input('x', [3]);
  assert.deepEqual(defaultKernelTarget({}), E.right('wasm'));
  assert.deepEqual(defaultKernelTarget({ FLUXION_KERNEL: 'js' }), E.right('js'));
  assert.deepEqual(defaultKernelTarget({ FLUXION_KERNEL: 'wasm' }), E.right('wasm'));
  const bad = defaultKernelTarget({ FLUXION_KERNEL: 'gpu' });
  assert.deepEqual(bad, E.left('FLUXION_KERNEL=gpu is not a kernel target; valid values: js, wasm'));
  const saved = process.env['FLUXION_KERNEL'];
  try {
    process.env['FLUXION_KERNEL'] = 'gpu';
    const err = right(E.swap(compileKernel([X.tanh(x).node], [x.node as VarNode], new Map())), 'expected Left');
    assert.equal(formatKernelError(err), 'FLUXION_KERNEL=gpu is not a kernel target; valid values: js, wasm');
    process.env['FLUXION_KERNEL'] = 'js';
    assert.equal(right(compileKernel([X.tanh(x).node], [x.node as VarNode], new Map()), 'js').target, 'js');
  } finally {
    if (saved === undefined) delete process.env['FLUXION_KERNEL'];
    else process.env['FLUXION_KERNEL'] = saved;
  }
  assert.equal(right(compileKernel([X.tanh(x).node], [x.node as VarNode], new Map(), { target: 'wasm' }), 'wasm').target, 'wasm');
});

test('large parameter gradients (xᵀ·g over the batch) and column sums agree bit for bit', () => {
  const h = X.input('h', [B, 64]), g = X.input('g', [B, 2]), y = X.input('y', [B, 2]), c = X.input('c', [B, 3, 5]);
  const roots = [
    X.matmul(X.transposeM(h), g), X.matmul(X.transposeM(y), h), X.sumAxes(h, [0]), X.meanAxes(h, [0], true),
    X.sumAxes(c, [0, 1]), X.meanAxes(c, [0]), X.sumAxes(c, [1]),
  ].map((e) => e.node);
  for (const batch of [3, 40, 300]) agree(roots, envFor(roots, batch, batch, true), `batch ${batch}`);
});

test('fusion: single-shape elementwise chains become one loop, shared values computed once', () => {
  const x = X.input('x', [B, 3]), b = X.input('b', [3]);
  const t = X.tanh(X.add(x, b));
  const one = X.add(X.mul(t, t), X.sin(t));
  assert.equal(compile([one.node], { batch: 2 }).instructionCount, 1);
  const two = X.add(X.tanh(x), X.tanh(b));
  assert.equal(compile([two.node], { batch: 2 }).instructionCount, 2);
  const shared = X.add(t, X.sumAxes(t, [1], true));
  assert.equal(compile([shared.node], { batch: 2 }).instructionCount, 3);
  for (const e of [one, two, shared]) agree([e.node], envFor([e.node], 4, 9, true), 'fusion');
});

test('shared subexpressions and several roots: f and a VJP-like root sharing tanh(h)', () => {
  const x = X.input('x', [B, 3]), W = X.variable('W', 'param', [3, 4]), b = X.variable('b', 'param', [4]);
  const V = X.variable('V', 'param', [4, 3]), g = X.input('g', [B, 3]);
  const t = X.tanh(X.add(X.matmul(x, W), b));
  const f = X.matmul(t, V);
  const dh = X.mul(X.sub(1, X.square(t)), X.matmul(g, X.transposeM(V)));
  const dx = X.matmul(dh, X.transposeM(W));
  const roots = [f.node, dx.node, t.node, f.node, x.node, X.scalar(2).node, X.reshape(t, [B, 2, 2]).node, X.sum(dh).node];
  for (const batch of [1, 5]) agree(roots, envFor(roots, batch, 11), `vjp batch ${batch}`);
  const k = compile(roots, { batch: 5 });
  assert.equal(k.source.split('Ftanh(').length - 1, 1, 'tanh computed once');
});

test('a 20,000-deep chain compiles without recursion and agrees', () => {
  const x = X.input('x', [B, 2]);
  const M = X.tensor([0.5, -0.25, 0.25, 0.5], [2, 2]);
  let e: X.Expr<readonly [typeof B, 2]> = x;
  for (let i = 0; i < 20000; i++) e = i % 1000 === 999 ? X.matmul(e, M) : i % 2 === 0 ? X.tanh(e) : X.add(e, 0.001 * (i % 7));
  const k = compile([e.node], { batch: 3 });
  assert.ok(k.instructionCount > 20000 / 48, `${k.instructionCount} instructions`);
  assert.ok(k.arenaSize <= 2 * 3 * 2, `arena ${k.arenaSize} reuses blocks`);
  assert.match(k.source, /function c[0-9]+\(I0, O0\)/, 'split into chunk functions');
  assert.equal(compile([e.node], { batch: 3 }, 'wasm').target, 'js', 'code this long stays JavaScript');
  agree([e.node], envFor([e.node], 3, 2), 'deep chain');
});

test('run twice, over dirty outputs and after other inputs: no stale state', () => {
  const x = X.input('x', [B, 12]), w = X.input('w', [12, 11]);
  const e = X.matmul(X.sigmoid(x), w);
  const roots = [e.node, X.logsumexpAxis(e, 1).node, X.concat([x, x], 1).node];
  for (const target of kernelTargets) {
    const k = compile(roots, { batch: 4 }, target);
    assert.equal(k.target, target);
    const env1 = envFor(roots, 4, 1), env2 = envFor(roots, 4, 2);
    const inputs = (env: F64Env) => freeVars(roots).map((v) => (env[v.name] as F64Tensor).data);
    const first = k.allocOutputs();
    k.run(inputs(env1), first);
    const again = k.allocOutputs().map((o) => o.fill(NaN));
    k.run(inputs(env2), again);
    k.run(inputs(env1), again);
    assert.deepEqual(again, first, target);
    const ref = right(evalF64(roots, env1), 'ref');
    ref.forEach((r, j) => assert.deepEqual(first[j], r.data, target));
  }
});

test('errors: wrong buffer lengths, unbound or invalid sizes, missing and duplicate inputs', () => {
  const y = X.state('y', [B, 2]);
  const f = X.tanh(y);
  const left = right(E.swap(kernelFn([f.node])({ y: { shape: [2, 2], data: new Float64Array(3) } })), 'expected Left');
  assert.deepEqual(left, { _tag: 'BufferLength', name: 'y', expected: 4, actual: 3 });
  assert.equal(formatKernelError(left), 'input y has 3 values, its shape needs 4');
  const bind = right(E.swap(kernelFn([f.node])({ y: { shape: [2, 3], data: new Float64Array(6) } })), 'expected Left');
  assert.equal(bind._tag, 'ShapeMismatch');
  const ck = (roots: readonly Node[], inputs: readonly VarNode[], sizes: Record<string, number>) =>
    right(E.swap(compileKernel(roots, inputs, new Map(Object.entries(sizes)))), 'expected Left');
  const yv = y.node as VarNode;
  assert.deepEqual(ck([f.node], [yv], {}), { _tag: 'UnboundDim', dim: 'batch' });
  assert.deepEqual(ck([f.node], [yv], { batch: 1.5 }), { _tag: 'InvalidSize', dim: 'batch', size: 1.5 });
  assert.deepEqual(ck([f.node], [], { batch: 2 }), { _tag: 'NotAnInput', name: 'y' });
  assert.deepEqual(ck([f.node], [yv, yv], { batch: 2 }), { _tag: 'DuplicateInput', name: 'y' });
  assert.deepEqual(ck([X.broadcastTo(X.scalar(1), [3e5, 3e5]).node], [], {}), { _tag: 'TooLarge', elements: 9e10 });
  for (const target of kernelTargets) {
    const k = compile([f.node], { batch: 2 }, target);
    assert.throws(() => k.run([new Float64Array(3)], k.allocOutputs()), RangeError);
    assert.throws(() => k.run([new Float64Array(4)], [new Float64Array(5)]), RangeError);
    assert.throws(() => k.run([], k.allocOutputs()), RangeError);
  }
});

test('no string from the model reaches the generated source', () => {
  const evil = X.input('evil_name_123', [B, 2]);
  const e = X.add(X.tanh(evil), X.tensor([1, 2], [2]));
  const k = compile([e.node, X.sum(evil).node], { batch: 2 });
  assert.ok(!k.source.includes('evil_name_123'));
  assert.ok(!k.source.includes('evil'));
  assert.doesNotThrow(() => auditSource(k.source));
  assert.throws(() => auditSource('const e0 = "x";'), /bug/);
  assert.throws(() => auditSource('const e0 = process;'), /bug/);
  assert.throws(() => auditSource('const e0 = I0[0]; globalThis.x = 1;'), /bug/);
});

test('temporaries share arena blocks once their last reader has run', () => {
  const x = X.input('x', [4, 4]);
  let e: X.Expr<readonly [4, 4]> = x;
  for (let i = 0; i < 10; i++) e = X.matmul(e, X.transposeM(e));
  const k = compile([X.sum(e).node]);
  assert.ok(k.arenaSize <= 4 * 16, `arena ${k.arenaSize}`);
  agree([X.sum(X.mul(e, 1e-30)).node], envFor([e.node], 1, 3), 'matmul chain');
});

test('property: random expressions agree with evalF64 bit for bit', () => {
  fc.assert(fc.property(anyExpr, fc.integer({ min: 0, max: 4 }), fc.nat(), (e, batch, seed) => {
    const roots = [e, exprVars.b];
    assert.equal(agree(roots, envFor(roots, batch, seed), 'random').length, 2);
  }), { numRuns: 300 });
});

test('property: several random roots sharing variables agree, inputs with specials', () => {
  fc.assert(fc.property(exprArbs.b, exprArbs.m, exprArbs.s, fc.integer({ min: 1, max: 3 }), fc.nat(), (b, m, s, batch, seed) => {
    const roots = [b, m, s, b, exprVars.b];
    assert.equal(agree(roots, envFor(roots, batch, seed, true), 'random roots').length, 5);
  }), { numRuns: 150 });
});
