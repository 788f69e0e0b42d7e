/**
 * Mini-batches of a long trajectory as torchdiffeq's ode_demo makes them: `batchSize` random
 * start indices s, each giving the initial state y[s] and the window y[s : s + batchTime],
 * all solved over the first `batchTime` times (the dynamics are autonomous in time shifts).
 */
import type { Trajectory } from '../data/trajectory.ts';
import type { F64Tensor } from '../interp/tensor.ts';

/** One training batch: initial states `[B, ...row]`, targets `[T, B, ...row]`, times `T`. */
export interface WindowBatch {
  readonly z0: F64Tensor;
  readonly target: F64Tensor;
  readonly ts: readonly number[];
}

/**
 * The windows starting at `starts`.
 * @example windowsAt(traj, [3, 17], 10) // z0 [2, 2], target [10, 2, 2], ts = t[0..9]
 */
export const windowsAt = (tr: Trajectory, starts: readonly number[], batchTime: number): WindowBatch => {
  const row = tr.y.shape.slice(1);
  const d = row.reduce((a, b) => a * b, 1);
  const b = starts.length;
  const z0 = new Float64Array(b * d);
  const target = new Float64Array(batchTime * b * d);
  starts.forEach((s, j) => {
    z0.set(tr.y.data.subarray(s * d, (s + 1) * d), j * d);
    for (let k = 0; k < batchTime; k++) target.set(tr.y.data.subarray((s + k) * d, (s + k + 1) * d), (k * b + j) * d);
  });
  return { z0: { shape: [b, ...row], data: z0 }, target: { shape: [batchTime, b, ...row], data: target }, ts: tr.t.slice(0, batchTime) };
};

/**
 * The whole trajectory as one batch of size 1 (for evaluation and plots).
 * @example fullTrajectory(traj).target.shape // [1000, 1, 2]
 */
export const fullTrajectory = (tr: Trajectory): WindowBatch => windowsAt(tr, [0], tr.t.length);
