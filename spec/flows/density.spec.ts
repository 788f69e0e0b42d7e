/**
 * Densities and samples: a linear flow against the analytic Gaussian, sampling as the inverse of
 * density evaluation, a random flow's density integrating to 1 over a grid, and Hutchinson probes
 * held fixed during a solve (reproducible, and a smooth field for the solver).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../../src/dsl/expr.ts';
import { concatSquash } from '../../src/dsl/layers.ts';
import { dynamics } from '../../src/dsl/model.ts';
import type { ParamDecl, ParamValues } from '../../src/dsl/params.ts';
import { sym } from '../../src/dsl/shape.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { draw, nextNormal, seedRng } from '../../src/random/prng.ts';
import { dopri5, f64Space, integrate, type F64Batch } from '../../src/solvers/index.ts';
import {
  cnf, cnfField, compileCnf, drawNoise, formatFlowError, fromBase, logDensity, sample, standardNormalLogPdf,
  type CnfOptions, type FlowError,
} from '../../src/flows/index.ts';

const Bt = sym('batch');
const tight = { method: dopri5, rtol: 1e-10, atol: 1e-12 } as const;

const right = <T>(r: E.Either<FlowError, T>): T => {
  if (E.isLeft(r)) throw new Error(formatFlowError(r.left));
  return r.right;
};

const close = (a: number, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${what}: ${a} vs ${b}`);

// ---------- a linear flow dz/dt = z A ----------

const A = [[-0.3, 0.8], [-0.5, 0.2]] as const;
const T = 1.5;
/** A 2 × 2 matrix, row-major. */
type M2 = readonly [number, number, number, number];
const mA: M2 = [A[0][0], A[0][1], A[1][0], A[1][1]];
const mm = ([a, b, c, d]: M2, [e, f, g, h]: M2): M2 => [a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h];
const transpose2 = ([a, b, c, d]: M2): M2 => [a, c, b, d];
/** exp(s·A) by its Taylor series (‖s·A‖ ≈ 1.5: 40 terms are exact in float64). */
const expm = (s: number): M2 => {
  let term: M2 = [1, 0, 0, 1], sum: M2 = term;
  for (let k = 1; k < 40; k++) {
    const [a, b, c, d] = mm(term, mA);
    term = [(a * s) / k, (b * s) / k, (c * s) / k, (d * s) / k];
    sum = [sum[0] + term[0], sum[1] + term[1], sum[2] + term[2], sum[3] + term[3]];
  }
  return sum;
};
const rowTimes = (x: readonly [number, number], [a, b, c, d]: M2): [number, number] => [x[0] * a + x[1] * c, x[0] * b + x[1] * d];

/** log N(x; 0, Σ) with Σ = Mᵀ M, M = exp(−T A): the law of x = z M for z ~ N(0, I). */
const analyticLogp = (x: readonly [number, number]): number => {
  const m = expm(-T);
  const [s00, s01, s10, s11] = mm(transpose2(m), m);
  const det = s00 * s11 - s01 * s10;
  const q = (x[0] * x[0] * s11 - 2 * x[0] * x[1] * s01 + x[1] * x[1] * s00) / det;
  return -0.5 * (q + Math.log(det) + 2 * Math.log(2 * Math.PI));
};

const linearFlow = (opts: CnfOptions = {}) => {
  const z = X.state('z', [Bt, 2]);
  return cnf(dynamics({ state: z, params: [], f: X.matmul(z, X.tensor(A.flat(), [2, 2])) }), opts);
};

const points: readonly (readonly [number, number])[] = [[0, 0], [1, -0.5], [-2, 0.3], [0.7, 1.9]];
const xs: F64Tensor = { shape: [points.length, 2], data: Float64Array.from(points.flat()) };

test('linear flow z A: Δlogp over [0, T] is −T·tr(A), and log p(x) is the analytic Gaussian density', () => {
  const flow = linearFlow();
  assert.equal(flow.traceMethod, 'jacobian-diagonal');
  const r = right(logDensity(compileCnf(flow), {}, xs, { solver: tight, t1: T }));
  const eAT = expm(T);
  points.forEach((x, b) => {
    close(r.deltaLogp[b] as number, -T * (A[0][0] + A[1][1]), 1e-9, `Δlogp[${b}]`);
    const zT = rowTimes(x, eAT);
    close(r.z.data[2 * b] as number, zT[0], 1e-8, `z[${b}, 0]`);
    close(r.z.data[2 * b + 1] as number, zT[1], 1e-8, `z[${b}, 1]`);
    close(r.logp[b] as number, analyticLogp(x), 1e-8, `log p(x[${b}])`);
  });
});

test('linear flow: sampling from given base points integrates backwards to x = z M with the analytic density', () => {
  const r = right(fromBase(compileCnf(linearFlow()), {}, xs, { solver: tight, t1: T }));
  const m = expm(-T);
  points.forEach((z1, b) => {
    const x = rowTimes(z1, m);
    close(r.x.data[2 * b] as number, x[0], 1e-8, `x[${b}, 0]`);
    close(r.x.data[2 * b + 1] as number, x[1], 1e-8, `x[${b}, 1]`);
    close(r.logp[b] as number, analyticLogp(x), 1e-8, `log p(x[${b}])`);
  });
});

// ---------- a random time-dependent flow ----------

const csFlow = (hidden: number, opts: CnfOptions = {}) => {
  const z = X.state('z', [Bt, 2]);
  const t = X.time('t');
  const c1 = concatSquash('c1', 2, hidden), c2 = concatSquash('c2', hidden, 2);
  return cnf(dynamics({ state: z, time: t, params: [...c1.params, ...c2.params], f: c2.apply(X.tanh(c1.apply(z, t)), t) }), opts);
};

/** Normal weights scaled by `scale`: larger than the default init, so the flow deforms visibly. */
const randomValues = (params: readonly ParamDecl[], scale: number): ParamValues =>
  Object.fromEntries(params.map((p, i) => [p.name, {
    shape: p.shape, data: draw(nextNormal, seedRng(i, 'density'), p.shape.reduce((a, b) => a * b, 1))[0].map((v) => v * scale),
  }]));

test('sampling inverts density evaluation for a time-dependent flow, deterministically per seed', () => {
  const flow = csFlow(8);
  const c = compileCnf(flow);
  const values = randomValues(flow.base.params, 0.8);
  const opts = { solver: { method: dopri5, rtol: 1e-9, atol: 1e-11 }, rng: seedRng(5) } as const;
  const s = right(sample(c, values, 40, opts));
  assert.deepEqual(right(sample(c, values, 40, opts)).x.data, s.x.data, 'same seed, same samples');
  assert.notDeepEqual(right(sample(c, values, 40, { ...opts, rng: s.rng })).x.data, s.x.data);
  const d = right(logDensity(c, values, s.x, opts));
  for (let i = 0; i < 80; i++) close(d.z.data[i] as number, s.z.data[i] as number, 1e-6, `z[${i}]`);
  for (let b = 0; b < 40; b++) close(d.logp[b] as number, s.logp[b] as number, 1e-6, `log p[${b}]`);
});

test('an untrained flow\'s density integrates to ≈ 1 over a grid', () => {
  const h = 0.1, L = 6;
  const grid: number[] = [];
  for (let x = -L + h / 2; x < L; x += h) for (let y = -L + h / 2; y < L; y += h) grid.push(x, y);
  const pts: F64Tensor = { shape: [grid.length / 2, 2], data: Float64Array.from(grid) };
  const base = standardNormalLogPdf(pts);
  for (const closedForm of [true, false]) {
    const flow = csFlow(16, { closedForm });
    const values = randomValues(flow.base.params, 0.8);
    const r = right(logDensity(compileCnf(flow), values, pts, { solver: { method: dopri5, rtol: 1e-6, atol: 1e-8 } }));
    const mass = r.logp.reduce((m, l) => m + Math.exp(l) * h * h, 0);
    assert.ok(Math.abs(mass - 1) < 0.02, `${flow.traceMethod}: mass ${mass}`);
    const moved = r.logp.reduce((m, l, i) => ((base[i] as number) > -6 ? Math.max(m, Math.abs(l - (base[i] as number))) : m), 0);
    assert.ok(moved > 1, `the flow deforms the base density (max |Δ log p| = ${moved})`);
  }
});

// ---------- Hutchinson probes are fixed for a solve ----------

test('Hutchinson densities: the same generator state gives identical results; a new one another estimate', () => {
  const flow = csFlow(8, { trace: 'hutchinson', noise: 'rademacher' });
  const c = compileCnf(flow);
  const values = randomValues(flow.base.params, 0.8);
  const opts = { solver: { method: dopri5, rtol: 1e-7, atol: 1e-9 }, rng: seedRng(11) } as const;
  const a = right(logDensity(c, values, xs, opts));
  const b = right(logDensity(c, values, xs, opts));
  assert.deepEqual(b.logp, a.logp);
  assert.deepEqual(b.rng, a.rng);
  const next = a.rng;
  assert.ok(next !== undefined);
  assert.notDeepEqual(next, opts.rng, 'the probe consumed generator state');
  assert.notDeepEqual(right(logDensity(c, values, xs, { ...opts, rng: next })).logp, a.logp);
  const missing = logDensity(c, values, xs, { solver: opts.solver });
  assert.ok(E.isLeft(missing) && missing.left._tag === 'InvalidInput');
});

test('a fixed probe gives the solver a smooth field; re-drawing it at every evaluation does not', () => {
  const flow = csFlow(16, { trace: 'hutchinson' });
  const c = compileCnf(flow);
  const values = randomValues(flow.base.params, 0.8);
  const n = 32;
  const y0: F64Batch = { data: Float64Array.from({ length: 3 * n }, (_, i) => (i % 3 === 2 ? 0 : Math.sin(i))), batch: n, dim: 3 };
  const solve = (f: (t: number, y: F64Batch) => F64Batch) =>
    integrate(f64Space, f, y0, { method: dopri5, t0: 0, t1: 1, rtol: 1e-6, atol: 1e-8, maxSteps: 300 });
  const exact = cnfField(compileCnf(csFlow(16)), values);
  const fixed = cnfField(c, values, drawNoise('gaussian', n, 2, seedRng(1))[0]);
  if (E.isLeft(exact) || E.isLeft(fixed)) throw new Error('field');
  const se = solve(exact.right), sf = solve(fixed.right);
  if (E.isLeft(se) || E.isLeft(sf)) throw new Error('solve failed');
  assert.ok(sf.right.stats.nfe <= 2 * se.right.stats.nfe, `fixed probe: ${sf.right.stats.nfe} evaluations vs ${se.right.stats.nfe} exact`);
  let rng = seedRng(2);
  const redrawn = solve((t, y) => {
    const [v, next] = drawNoise('gaussian', n, 2, rng);
    rng = next;
    const f = cnfField(c, values, v);
    if (E.isLeft(f)) throw new Error(f.left);
    return f.right(t, y);
  });
  assert.ok(E.isLeft(redrawn) || redrawn.right.stats.nfe > 10 * sf.right.stats.nfe, 're-drawn probes should wreck step control');
});

test('invalid inputs are reported as values', () => {
  const c = compileCnf(linearFlow());
  const bad = logDensity(c, {}, { shape: [3], data: new Float64Array(3) }, { solver: tight });
  assert.ok(E.isLeft(bad) && bad.left._tag === 'InvalidInput', 'wrong shape');
  const failed = logDensity(c, {}, xs, { solver: { ...tight, maxSteps: 1 } });
  assert.ok(E.isLeft(failed) && failed.left._tag === 'SolveFailed');
  assert.match(formatFlowError(failed.left), /^flow \(density\): /);
  assert.ok(E.isLeft(sample(c, {}, 0, { solver: tight, rng: seedRng(0) })));
});
