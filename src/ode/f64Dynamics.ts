/**
 * From a model's dynamics to what the solvers need on the Float64 path: `f(t, y)` on batched
 * states, and the Jacobian ∂f/∂y derived symbolically (for the stiff solver). The state variable
 * of shape `[batch, ...]` is laid out as an `F64Batch` of dimension `prod(...)`.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Dynamics } from '../dsl/model.ts';
import type { ParamValues } from '../dsl/params.ts';
import { formatShape, isSym } from '../dsl/shape.ts';
import { jacobian } from '../adjoint/vjp.ts';
import { bindVars } from '../interp/bind.ts';
import { bufferProgram, kernelEvaluator, type BufferProgram, type F64Evaluator } from '../interp/evaluator.ts';
import { scalarT, type F64Tensor } from '../interp/tensor.ts';
import { freeVars } from '../interp/traverse.ts';
import type { F64Rhs } from '../solvers/f64Loop.ts';
import type { F64Batch } from '../solvers/f64Space.ts';
import type { JacobianFn } from '../solvers/jacobian.ts';

/** Solver-ready dynamics on batched float64 states. */
export interface F64Dynamics {
  /** `dy/dt` for a batch; `y.dim` is the product of the state's non-batch dims. */
  readonly f: (t: number, y: F64Batch) => F64Batch;
  /**
   * The same vector field in place, `rhs(t, y, out)` on flat row-major data (the batch is
   * `y.length / prod(rowShape)`): with the generated kernels it allocates nothing, for
   * `integrateF64` and the Float64 loop.
   */
  readonly rhs: F64Rhs;
  /** The symbolic Jacobian, `B·D·D` entries (`J[b][i][j] = ∂fᵢ/∂yⱼ`); absent for states of rank ≠ 2. */
  readonly jacobian?: JacobianFn<F64Batch>;
  /** True when `f` does not read the time variable. */
  readonly autonomous: boolean;
  /** Non-batch dims of the state, e.g. `[2]`. */
  readonly rowShape: readonly number[];
}

/** Options of `compileF64Dynamics`. */
export interface F64DynamicsOptions {
  /** Values of the dynamics' other inputs (data, noise), by name. */
  readonly inputs?: Readonly<Record<string, F64Tensor>>;
  /** The float64 evaluator (default: generated kernels). */
  readonly evaluator?: F64Evaluator;
}

/**
 * Compiles dynamics with fixed parameter values. The state must be `[batch-like dim, numeric dims…]`.
 * @example
 * const d = compileF64Dynamics(model.dynamics, model.values);
 * if (E.isRight(d)) integrate(f64Space, d.right.f, f64FromRows([[2, 0]]), { method: dopri5, ts: [0, 1] });
 */
export const compileF64Dynamics = (dyn: Dynamics, values: ParamValues, opts: F64DynamicsOptions = {}): E.Either<string, F64Dynamics> => {
  const z = dyn.state.node, t = dyn.time.node;
  if (z.kind !== 'var' || t.kind !== 'var') return E.left('dynamics: state and time must be variables');
  const rest = z.shape.slice(1);
  if (z.shape.length < 1 || rest.some(isSym))
    return E.left(`dynamics: the state must be [batch, numeric dims…], got ${formatShape(z.shape)}`);
  const rowShape = rest as readonly number[];
  const evaluator = opts.evaluator ?? kernelEvaluator;
  const fixed: Record<string, F64Tensor> = { ...values, ...(opts.inputs ?? {}) };
  const env = (tv: number, y: F64Batch): Record<string, F64Tensor> => ({
    ...fixed, [z.name]: { shape: [y.batch, ...rowShape], data: y.data }, [t.name]: scalarT(tv),
  });
  const program = evaluator([dyn.f.node]);
  const viaEnv = (tv: number, y: F64Batch): Float64Array => {
    const r = program(env(tv, y));
    // Inputs were checked when the caller built the state; a failure here is a bug.
    if (E.isLeft(r)) throw new Error(`bug: evaluating the dynamics failed: ${r.left}`);
    return (r.right[0] as F64Tensor).data;
  };
  // The generated kernel on positional buffers, compiled once per batch size: no environment,
  // binding or scalar allocation per call. Batch sizes the inputs do not fit use `viaEnv`.
  const fVars = freeVars([dyn.f.node]);
  const dim = rowShape.reduce((a, b) => a * b, 1);
  const tBuf = new Float64Array(1);
  const perBatch = new Map<number, { readonly run: BufferProgram['run']; readonly ins: Float64Array[]; readonly zSlot: number } | undefined>();
  const bufferFor = (batch: number) => {
    if (perBatch.has(batch)) return perBatch.get(batch);
    let entry: { readonly run: BufferProgram['run']; readonly ins: Float64Array[]; readonly zSlot: number } | undefined;
    const probe: Record<string, F64Tensor> = { ...fixed, [z.name]: { shape: [batch, ...rowShape], data: new Float64Array(0) }, [t.name]: { shape: [], data: tBuf } };
    const sizes = evaluator === kernelEvaluator ? bindVars(fVars, probe, (x) => x.shape) : undefined;
    if (sizes !== undefined && E.isRight(sizes)) {
      const p = bufferProgram(evaluator, [dyn.f.node], fVars, sizes.right);
      const ins = fVars.map((v) => (v === t ? tBuf : (probe[v.name] as F64Tensor).data));
      const ok = E.isRight(p) && fVars.every((v, i) => v === z || (ins[i] as Float64Array).length === (p.right.inputSizes[i] as number));
      if (ok) entry = { run: p.right.run, ins, zSlot: fVars.indexOf(z) };
    }
    perBatch.set(batch, entry);
    return entry;
  };
  const outs: Float64Array[] = [new Float64Array(0)];
  const fInto = (tv: number, y: Float64Array, out: Float64Array, batch: number): boolean => {
    const b = bufferFor(batch);
    if (b === undefined || y.length !== batch * dim || out.length !== y.length) return false;
    tBuf[0] = tv;
    if (b.zSlot >= 0) b.ins[b.zSlot] = y;
    outs[0] = out;
    b.run(b.ins, outs);
    return true;
  };
  const f = (tv: number, y: F64Batch): F64Batch => {
    const out = new Float64Array(y.data.length);
    return { data: fInto(tv, y.data, out, y.batch) ? out : viaEnv(tv, y), batch: y.batch, dim: y.dim };
  };
  const rhs: F64Rhs = (tv, y, out) => {
    if (!fInto(tv, y, out, y.length / Math.max(1, dim))) out.set(viaEnv(tv, { data: y, batch: y.length / Math.max(1, dim), dim }));
  };
  const autonomous = !freeVars([dyn.f.node]).some((v) => v === t);
  if (rowShape.length !== 1) return E.right({ f, rhs, autonomous, rowShape });
  const J = jacobian(dyn.f.node, z);
  if (E.isLeft(J)) return E.right({ f, rhs, autonomous, rowShape });
  const jprog = evaluator([J.right]);
  const jac: JacobianFn<F64Batch> = (tv, y) => {
    const r = jprog(env(tv, y));
    if (E.isLeft(r)) throw new Error(`bug: evaluating the Jacobian failed: ${r.left}`);
    return (r.right[0] as F64Tensor).data;
  };
  return E.right({ f, rhs, jacobian: jac, autonomous, rowShape });
};
