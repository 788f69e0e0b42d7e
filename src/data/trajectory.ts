/**
 * Trajectory data: one long observed trajectory `y(tₖ)` (torchdiffeq's spiral demo), read from
 * and written to JSON as `{"t": [...], "y": [[...], ...]}`.
 */
import * as E from 'fp-ts/lib/Either.js';
import { fromNested, type F64Tensor } from '../interp/tensor.ts';

/** Observations `y[k]` (shape `[N, ...row]`) at increasing times `t[k]`. */
export interface Trajectory {
  readonly t: readonly number[];
  readonly y: F64Tensor;
}

/**
 * Checks and builds a trajectory from JSON; errors name the field and index.
 * @example decodeTrajectory({ t: [0, 1], y: [[2, 0], [1, 1]] })
 */
export const decodeTrajectory = (u: unknown): E.Either<string, Trajectory> => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return E.left('expected an object {"t": [...], "y": [[...], ...]}');
  const o = u as Record<string, unknown>;
  const t = o['t'], yRaw = o['y'];
  if (!Array.isArray(t) || t.length < 2) return E.left('t: expected an array of at least 2 times');
  for (let k = 0; k < t.length; k++) {
    const v: unknown = t[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) return E.left(`t[${k}]: expected a finite number, got ${JSON.stringify(v)}`);
    if (k > 0 && !(v > (t[k - 1] as number))) return E.left(`t[${k}]: times must increase (${String(t[k - 1])} then ${v})`);
  }
  const y = fromNested(yRaw);
  if (y === undefined || y.shape.length < 2) return E.left('y: expected a rectangular array of observations, one row per time');
  if (y.shape[0] !== t.length) return E.left(`y: ${y.shape[0]} observations for ${t.length} times`);
  if (!y.data.every(Number.isFinite)) return E.left('y: observations must be finite numbers');
  return E.right({ t: t as number[], y });
};

/** The trajectory as JSON. @example encodeTrajectory(traj) // { t: [...], y: [[...]] } */
export const encodeTrajectory = (tr: Trajectory): { t: number[]; y: number[][] } => {
  const n = tr.y.shape[0] as number, d = tr.y.data.length / n;
  return { t: [...tr.t], y: Array.from({ length: n }, (_, k) => Array.from(tr.y.data.subarray(k * d, (k + 1) * d))) };
};
