/**
 * Fixtures of the gradient specs: random small problems (tiny MLP dynamics, weighted squared
 * losses, random observation times), finite differences, and the fixed-step replay of a
 * discrete solution that backprop must differentiate exactly.
 */
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import * as X from '../../src/dsl/expr.ts';
import { linearNamed } from '../../src/dsl/layers.ts';
import { dynamics, loss } from '../../src/dsl/model.ts';
import { initParams, type ParamValues } from '../../src/dsl/params.ts';
import { sym } from '../../src/dsl/shape.ts';
import { lossValue, type GradientProblem, type SolverOptions } from '../../src/adjoint/gradients/index.ts';
import { compileF64 } from '../../src/interp/evalF64.ts';
import type { F64Tensor } from '../../src/interp/tensor.ts';
import { compileF64Dynamics } from '../../src/ode/f64Dynamics.ts';
import { draw, nextNormal, nextUniform, seedRng } from '../../src/random/prng.ts';
import { f64Space, integrate, type ButcherTableau, type Method } from '../../src/solvers/index.ts';

const Bd = sym('batch'), Od = sym('obs');

/** The shape of a random problem. */
export interface ProblemSpec {
  readonly d: number;
  readonly batch: number;
  readonly hidden: number;
  readonly act: 'tanh' | 'softplus';
  /** How f depends on t: not at all, through an input column, or as a factor (1 + t/2). */
  readonly time: 'none' | 'concat' | 'mul';
  readonly gaps: readonly number[];
  readonly decreasing: boolean;
  readonly seed: number;
}

/** Arbitrary problem specs: state dim 1–3, batch 1–3, 2–4 observation times. */
export const problemSpec: fc.Arbitrary<ProblemSpec> = fc.record({
  d: fc.integer({ min: 1, max: 3 }),
  batch: fc.integer({ min: 1, max: 3 }),
  hidden: fc.integer({ min: 2, max: 5 }),
  act: fc.constantFrom('tanh' as const, 'softplus' as const),
  time: fc.constantFrom('none' as const, 'concat' as const, 'mul' as const),
  gaps: fc.array(fc.double({ min: 0.1, max: 0.6, noNaN: true }), { minLength: 1, maxLength: 3 }),
  decreasing: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
});

const normal = (shape: readonly number[], seed: number, stream: string, scale = 1): F64Tensor => ({
  shape, data: draw(nextNormal, seedRng(seed, stream), shape.reduce((a, b) => a * b, 1))[0].map((v) => scale * v),
});

/** A random problem: f = act([z | t] W₁ + b₁) W₂ + b₂ (× (1 + t/2)), L = mean(w ⊙ (ẑ − y)²). */
export const randomProblem = (p: ProblemSpec, solver: SolverOptions): GradientProblem => {
  const z = X.state('z', [Bd, p.d]);
  const t = X.time('t');
  const inDim = p.d + (p.time === 'concat' ? 1 : 0);
  const l1 = linearNamed('W1', 'b1', inDim, p.hidden), l2 = linearNamed('W2', 'b2', p.hidden, p.d);
  const input = p.time === 'concat' ? X.withShape(X.concat([z, X.broadcastTo(X.reshape(t, [1, 1]), [Bd, 1])], 1), [Bd, inDim]) : z;
  const act = p.act === 'tanh' ? X.tanh : X.softplus;
  const out = l2.apply(act(l1.apply(input)));
  const f = p.time === 'mul' ? X.mul(out, X.add(X.mul(t, 0.5), 1)) : out;
  const params = [...l1.params, ...l2.params];
  const yhat = X.input('yhat', [Od, Bd, p.d]), ytrue = X.input('ytrue', [Od, Bd, p.d]), w = X.input('w', [Od, Bd, p.d]);
  const T = p.gaps.length + 1;
  const start = p.decreasing ? 1.5 : 0.1;
  const ts = p.gaps.reduce<number[]>((acc, g) => [...acc, (acc.at(-1) as number) + (p.decreasing ? -g : g)], [start]);
  const weights = { shape: [T, p.batch, p.d], data: draw(nextUniform, seedRng(p.seed, 'w'), T * p.batch * p.d)[0].map((u) => 0.5 + u) };
  return {
    dynamics: dynamics({ state: z, time: t, params, f }),
    loss: loss({ prediction: yhat, value: X.mean(X.mul(w, X.square(X.sub(yhat, ytrue)))) }),
    params: initParams(params, p.seed),
    z0: normal([p.batch, p.d], p.seed, 'z0', 0.8),
    ts,
    lossInputs: { ytrue: normal([T, p.batch, p.d], p.seed, 'target', 0.5), w: weights },
    solver,
  };
};

/** The loss by a forward solve; throws on failure (a bug in a test). */
export const lossOf = (p: GradientProblem): number => {
  const r = lossValue(p);
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  return r.right;
};

/** A copy of `p` with element i of parameter `name` moved by `h`. */
export const moveParam = (p: ParamValues, name: string, i: number, h: number): ParamValues => {
  const t = p[name] as F64Tensor;
  return { ...p, [name]: { shape: t.shape, data: t.data.map((v, q) => (q === i ? v + h : v)) } };
};

/** A copy of a tensor with element i moved by h. */
export const moveAt = (t: F64Tensor, i: number, h: number): F64Tensor => ({ shape: t.shape, data: t.data.map((v, q) => (q === i ? v + h : v)) });

/** Central differences: 2-point, or the 4-point stencil (error O(h⁴)). */
export const fd2 = (L: (h: number) => number, h: number): number => (L(h) - L(-h)) / (2 * h);
export const fd4 = (L: (h: number) => number, h: number): number => (8 * (L(h) - L(-h)) - (L(2 * h) - L(-2 * h))) / (12 * h);

/** |a − b| ≤ atol + rtol·max(|a|, |b|), or an Error naming the value. */
export const near = (a: number, b: number, rtol: number, atol: number, what: string): void => {
  if (!(Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b)))) throw new Error(`${what}: ${a} vs ${b} (diff ${Math.abs(a - b)})`);
};

/** The accepted step times of backprop's forward solve (steps forced onto the observation times). */
export const acceptedGrid = (p: GradientProblem): readonly number[] => {
  const d = compileF64Dynamics(p.dynamics, p.params);
  if (E.isLeft(d)) throw new Error(d.left);
  const B = p.z0.shape[0] as number, n = p.z0.data.length;
  const r = integrate(f64Space, d.right.f, { data: p.z0.data, batch: B, dim: n / B }, {
    method: p.solver.method, ts: p.ts, stepTs: p.ts, saveSteps: true,
    ...(p.solver.rtol === undefined ? {} : { rtol: p.solver.rtol }), ...(p.solver.atol === undefined ? {} : { atol: p.solver.atol }),
  });
  if (E.isLeft(r) || r.right.steps === undefined) throw new Error('forward solve failed');
  return r.right.steps.ts;
};

const tableauOf = (m: Method): ButcherTableau => {
  if (m.kind !== 'explicit') throw new Error('explicit methods only');
  return m.tableau;
};

/**
 * The loss of the discrete solution replayed with fixed steps: the grid `grid` (made on `p.ts`)
 * is mapped onto the (possibly moved) observation times of `q` keeping each point's fraction of
 * its observation interval, then stepped with the method's tableau.
 */
export const replayLoss = (grid: readonly number[], p: GradientProblem, q: GradientProblem): number => {
  const tab = tableauOf(q.solver.method);
  const d = compileF64Dynamics(q.dynamics, q.params);
  if (E.isLeft(d)) throw new Error(d.left);
  const B = q.z0.shape[0] as number, n = q.z0.data.length;
  const moved = grid.map((s) => {
    const i = p.ts.findIndex((v) => v === s);
    if (i >= 0) return q.ts[i] as number;
    const k = p.ts.findIndex((v, j) => j > 0 && Math.sign(v - s) === Math.sign(v - (p.ts[j - 1] as number)));
    const lo = p.ts[k - 1] as number, hi = p.ts[k] as number, th = (s - lo) / (hi - lo);
    return (q.ts[k - 1] as number) + th * ((q.ts[k] as number) - (q.ts[k - 1] as number));
  });
  const f = (t: number, y: Float64Array): Float64Array => d.right.f(t, { data: y, batch: B, dim: n / B }).data;
  let y = Float64Array.from(q.z0.data);
  const outs: Float64Array[] = [y];
  for (let j = 0; j + 1 < moved.length; j++) {
    const t = moved[j] as number, h = (moved[j + 1] as number) - t;
    const K: Float64Array[] = [];
    for (let i = 0; i < tab.stages; i++) {
      const Yi = Float64Array.from(y);
      (tab.a[i] ?? []).forEach((a, l) => { if (a !== 0) for (let e = 0; e < n; e++) Yi[e] = (Yi[e] as number) + a * h * ((K[l] as Float64Array)[e] as number); });
      K.push(Float64Array.from(f(t + (tab.c[i] as number) * h, Yi)));
    }
    const y1 = Float64Array.from(y);
    tab.b.forEach((b, i) => { if (b !== 0) for (let e = 0; e < n; e++) y1[e] = (y1[e] as number) + b * h * ((K[i] as Float64Array)[e] as number); });
    y = y1;
    if (p.ts.includes(grid[j + 1] as number)) outs.push(y);
  }
  const pred = q.loss.prediction.node;
  if (pred.kind !== 'var') throw new Error('prediction');
  const data = new Float64Array(outs.length * n);
  outs.forEach((o, k) => data.set(o, k * n));
  const r = compileF64([q.loss.value.node])({ ...q.params, ...(q.lossInputs ?? {}), [pred.name]: { shape: [outs.length, ...q.z0.shape], data } });
  if (E.isLeft(r)) throw new Error('loss');
  return (r.right[0] as F64Tensor).data[0] as number;
};

/** The accepted step times of the plain forward solve (steps free, outputs interpolated). */
export const freeGrid = (p: GradientProblem): readonly number[] => {
  const d = compileF64Dynamics(p.dynamics, p.params);
  if (E.isLeft(d)) throw new Error(d.left);
  const B = p.z0.shape[0] as number, n = p.z0.data.length;
  const r = integrate(f64Space, d.right.f, { data: p.z0.data, batch: B, dim: n / B }, {
    method: p.solver.method, ts: p.ts, saveSteps: true,
    ...(p.solver.rtol === undefined ? {} : { rtol: p.solver.rtol }), ...(p.solver.atol === undefined ? {} : { atol: p.solver.atol }),
  });
  if (E.isLeft(r) || r.right.steps === undefined) throw new Error('forward solve failed');
  return r.right.steps.ts;
};

const polyAt = (c: readonly number[], x: number): number => c.reduceRight((acc, v) => acc * x + v, 0);

/**
 * The loss of the free-stepping discrete solution replayed with fixed steps: the grid `grid`
 * (made on `p.ts`) keeps each point's fraction of the span [t₀, t_end] of `q.ts`; outputs at the
 * other observation times of `q` come from the step's dense output (the tableau's polynomials,
 * else cubic Hermite through (y₀, f₀) and (y₁, f₁)). Written independently of the library's code.
 */
export const replayDenseLoss = (grid: readonly number[], p: GradientProblem, q: GradientProblem): number => {
  const tab = tableauOf(q.solver.method);
  const d = compileF64Dynamics(q.dynamics, q.params);
  if (E.isLeft(d)) throw new Error(d.left);
  const B = q.z0.shape[0] as number, n = q.z0.data.length, T = q.ts.length;
  const p0 = p.ts[0] as number, p1 = p.ts[T - 1] as number, q0 = q.ts[0] as number, q1 = q.ts[T - 1] as number;
  const moved = grid.map((s, j) => (j === grid.length - 1 ? q1 : q0 + ((s - p0) / (p1 - p0)) * (q1 - q0)));
  const f = (t: number, y: Float64Array): Float64Array => Float64Array.from(d.right.f(t, { data: y, batch: B, dim: n / B }).data);
  const lin = (base: Float64Array | undefined, terms: readonly (readonly [number, Float64Array])[]): Float64Array => {
    const out = base === undefined ? new Float64Array(n) : Float64Array.from(base);
    for (const [c, x] of terms) for (let e = 0; e < n; e++) out[e] = (out[e] as number) + c * (x[e] as number);
    return out;
  };
  let y: Float64Array = Float64Array.from(q.z0.data);
  const outs: Float64Array[] = [y];
  let k = 1;
  for (let j = 0; j + 1 < moved.length; j++) {
    const t = moved[j] as number, h = (moved[j + 1] as number) - t;
    const K: Float64Array[] = [];
    for (let i = 0; i < tab.stages; i++) {
      const Yi = lin(y, (tab.a[i] ?? []).map((a, l) => [a * h, K[l] as Float64Array] as const).filter(([c]) => c !== 0));
      K.push(Float64Array.from(f(t + (tab.c[i] as number) * h, Yi)));
    }
    const y1 = lin(y, tab.b.map((b, i) => [b * h, K[i] as Float64Array] as const).filter(([c]) => c !== 0));
    const f1 = f(t + h, y1);
    const tEnd = moved[j + 1] as number;
    while (k < T && Math.sign(h) * ((q.ts[k] as number) - tEnd) < 0) {
      const th = ((q.ts[k] as number) - t) / h;
      const dense = tab.dense;
      outs.push(dense === undefined
        ? lin(undefined, [[(1 + 2 * th) * (1 - th) ** 2, y], [th * th * (3 - 2 * th), y1], [h * th * (1 - th) ** 2, K[0] as Float64Array], [h * th * th * (th - 1), f1]])
        : lin(y, dense.polys.map((c, i) => [h * polyAt(c, th), K[i] as Float64Array] as const)));
      k++;
    }
    if (j + 2 === moved.length) outs.push(y1);
    y = y1;
  }
  const pred = q.loss.prediction.node;
  if (pred.kind !== 'var') throw new Error('prediction');
  const data = new Float64Array(outs.length * n);
  outs.forEach((o, i) => data.set(o, i * n));
  const r = compileF64([q.loss.value.node])({ ...q.params, ...(q.lossInputs ?? {}), [pred.name]: { shape: [outs.length, ...q.z0.shape], data } });
  if (E.isLeft(r)) throw new Error('loss');
  return (r.right[0] as F64Tensor).data[0] as number;
};
