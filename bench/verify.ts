/**
 * Direct evaluations of the benchmark losses, independent of the DSL, the derived adjoint and the
 * generated kernels: the MLP written out in plain loops, solved by the generic `integrate` at a
 * tight tolerance, and the loss computed by hand. The benchmark's losses must agree with these.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { ParamValues } from '../src/dsl/params.ts';
import type { F64Tensor } from '../src/interp/tensor.ts';
import { dopri5, f64Space, formatSolveError, integrate, type F64Batch } from '../src/solvers/index.ts';
import type { ScaleProblem, SpiralProblem } from './problems.ts';

const tight = { method: dopri5, rtol: 1e-12, atol: 1e-14 } as const;

/** f(y) = tanh((y∘y∘y) W1 + b1) W2 + b2 row by row, W1 `[2,H]`, W2 `[H,2]` in our layout. */
const mlp = (w: ParamValues) => {
  const W1 = (w['W1'] as F64Tensor).data, b1 = (w['b1'] as F64Tensor).data;
  const W2 = (w['W2'] as F64Tensor).data, b2 = (w['b2'] as F64Tensor).data;
  const H = b1.length;
  const h = new Float64Array(H);
  return (_t: number, y: F64Batch): F64Batch => {
    const out = new Float64Array(y.data.length);
    for (let b = 0; b < y.batch; b++) {
      const u = (y.data[2 * b] as number) ** 3, v = (y.data[2 * b + 1] as number) ** 3;
      for (let o = 0; o < H; o++) h[o] = Math.tanh(u * (W1[o] as number) + v * (W1[H + o] as number) + (b1[o] as number));
      for (let d = 0; d < 2; d++) {
        let s = b2[d] as number;
        for (let o = 0; o < H; o++) s += (h[o] as number) * (W2[2 * o + d] as number);
        out[2 * b + d] = s;
      }
    }
    return { data: out, batch: y.batch, dim: 2 };
  };
};

const solve = (w: ParamValues, z0: F64Tensor, ts: readonly number[]): readonly F64Batch[] => {
  const B = z0.shape[0] as number;
  const r = integrate(f64Space, mlp(w), { data: z0.data, batch: B, dim: 2 }, { ...tight, ts });
  if (E.isLeft(r)) throw new Error(`verify: ${formatSolveError(r.left)}`);
  return r.right.ys;
};

/**
 * mean |ŷ − y| over the 10 × 20 × 2 window values of spiral batch `k`.
 * @example spiralLossDirect(loadSpiral(), 'initial', 0) // ≈ 0.064
 */
export const spiralLossDirect = (p: SpiralProblem, regime: 'initial' | 'trained', k: number): number => {
  const batch = p.batches[k] as SpiralProblem['batches'][number];
  const ys = solve(p.weights[regime], batch.z0, p.ts);
  let acc = 0, count = 0;
  ys.forEach((y, i) => y.data.forEach((v, q) => {
    acc += Math.abs(v - (batch.target.data[i * y.data.length + q] as number));
    count++;
  }));
  return acc / count;
};

/**
 * Σ y(1)² of the scale problem at batch `B`.
 * @example scaleLossDirect(loadScale(), 16)
 */
export const scaleLossDirect = (p: ScaleProblem, B: number): number => {
  const z0 = p.y0.get(B) as F64Tensor;
  const ys = solve(p.weights, z0, [p.t0, p.t1]);
  return (ys[1] as F64Batch).data.reduce((a, v) => a + v * v, 0);
};
