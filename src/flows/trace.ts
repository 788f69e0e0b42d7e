/**
 * The divergence `tr(∂f/∂z)` of a row-wise vector field `f: [B, D] → [B, D]`, as an expression of
 * shape `[B]` (one trace per row), for the instantaneous change of variables of continuous
 * normalizing flows (Chen et al. 2018, Theorem 1): `d log p(z(t))/dt = −tr(∂f/∂z)`.
 *
 * - `exactTrace`: the diagonal of the symbolic Jacobian, `D` reverse sweeps with one-hot
 *   cotangents (see `jacobianRows`), keeping entry `i` of row `i`. Cost ≈ `D` backward passes.
 * - `hutchinsonTrace`: Hutchinson's unbiased estimate `vᵀ(∂f/∂z)v` for a probe `v` with
 *   `E[v vᵀ] = I` (FFJORD, Grathwohl et al. 2019): one reverse sweep seeded with `v` gives
 *   `vᵀ ∂f/∂z`, then a row-wise dot product with `v`. Cost ≈ one backward pass.
 *
 * Both first check structurally that `f` treats rows independently: a per-row trace of a field
 * that mixes rows is meaningless (and the one-hot sweeps would sum over the batch).
 */
import * as E from 'fp-ts/lib/Either.js';
import { checkRowwise } from '../adjoint/batch.ts';
import * as B from '../adjoint/build.ts';
import { jacobianRows, vjp } from '../adjoint/vjp.ts';
import * as X from '../dsl/expr.ts';
import type { Node } from '../dsl/node.ts';
import { formatShape, shapeEq, type Dim } from '../dsl/shape.ts';
import { simplify } from '../interp/simplify.ts';

/** A batch of `D`-dimensional rows. */
export type Rows<M extends Dim = Dim, D extends Dim = Dim> = readonly [M, D];

/**
 * Checks that `f` and `z` are both `[B, D]` with the same shape and a numeric `D ≥ 1`, and that
 * `f` is row-wise in `z`; returns `D`.
 * @example checkField(f.node, z.node) // right(2)
 */
export const checkField = (f: Node, z: Node): E.Either<string, number> => {
  if (f.shape.length !== 2 || !shapeEq(f.shape, z.shape))
    return E.left(`trace: f and z must both be [batch, D] with equal shapes, got f ${formatShape(f.shape)} and z ${formatShape(z.shape)}`);
  const d = f.shape[1];
  if (typeof d !== 'number' || d < 1) return E.left(`trace: the dimension of z ${formatShape(z.shape)} must be a positive number`);
  const rowwise = checkRowwise(f, z);
  if (E.isLeft(rowwise)) return E.left(`trace: f does not act on rows of z independently: ${rowwise.left}`);
  return E.right(d);
};

/**
 * The exact divergence per row: `Σᵢ ∂fᵢ/∂zᵢ`, from the diagonal of the symbolic Jacobian
 * (`D` reverse sweeps with one-hot cotangents; forward values such as `tanh(h)` are shared).
 * @example
 * const z = X.state('z', [B, 2]);
 * exactTrace(X.matmul(z, A), z) // right(Expr<[B]>) evaluating to tr(A) on every row
 */
export const exactTrace = <M extends Dim, D extends Dim>(
  f: X.Expr<Rows<M, D>>, z: X.Expr<Rows<M, D>>,
): E.Either<string, X.Expr<readonly [M]>> => {
  const ok = checkField(f.node, z.node);
  if (E.isLeft(ok)) return ok;
  const rows = jacobianRows(f.node, z.node);
  if (E.isLeft(rows)) return rows;
  const m = z.shape[0];
  const diag = rows.right.map((row, i) => B.slice(row, [0, i], [m, 1]));
  const [tr] = simplify([B.reduce('sum', B.concat(diag, 1), [1], false)]) as [Node];
  return E.right(X.wrap(tr, [m] as const));
};

/**
 * Hutchinson's estimate per row, `vᵀ(∂f/∂z)v = Σⱼ (vᵀ ∂f/∂z)ⱼ vⱼ`, from one reverse sweep seeded
 * with the probe `v` (a `noise` variable of the shape of `z`). Unbiased when `E[v vᵀ] = I`
 * (standard Gaussian or Rademacher entries). In an ODE solve `v` must stay fixed for the whole
 * solve: see `drawNoise`.
 * @example
 * const v = X.noise('v', [B, 2]);
 * hutchinsonTrace(f, z, v) // right(Expr<[B]>)
 */
export const hutchinsonTrace = <M extends Dim, D extends Dim>(
  f: X.Expr<Rows<M, D>>, z: X.Expr<Rows<M, D>>, v: X.Expr<Rows<M, D>>,
): E.Either<string, X.Expr<readonly [M]>> => {
  const ok = checkField(f.node, z.node);
  if (E.isLeft(ok)) return ok;
  if (!shapeEq(v.shape, z.shape))
    return E.left(`trace: the probe v has shape ${formatShape(v.shape)}, z has ${formatShape(z.shape)}`);
  const [vJ] = vjp([f.node], [v.node], [z.node]) as [Node];
  const [tr] = simplify([B.reduce('sum', B.mul(vJ, v.node), [1], false)]) as [Node];
  return E.right(X.wrap(tr, [z.shape[0]] as const));
};
