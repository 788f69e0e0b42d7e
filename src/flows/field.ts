/**
 * The augmented dynamics of a flow as a solver-ready function `(t, y) => dy/dt` on `F64Batch`
 * `[B, D + 1]`, evaluated by the generated kernel (or the reference evaluator), and the drawing
 * of Hutchinson probes.
 *
 * The probe must be FIXED FOR A WHOLE SOLVE: draw it once (`drawNoise`), bind it with
 * `cnfField`, then integrate. An adaptive solver assumes it integrates one smooth vector field;
 * re-drawing `v` at every evaluation makes the field a different random function at each stage,
 * so the embedded error estimate measures noise, steps are rejected down to the minimum and the
 * solve fails or crawls — and the result is no longer the integral of one unbiased estimator.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { ParamValues } from '../dsl/params.ts';
import { shapeEq } from '../dsl/shape.ts';
import { compileF64, type F64Env } from '../interp/evalF64.ts';
import { formatKernelError, kernelFn, type KernelFnError } from '../interp/kernel/index.ts';
import { scalarT, type F64Tensor } from '../interp/tensor.ts';
import { draw, nextNormal, nextU32, type RngState } from '../random/prng.ts';
import type { F64Batch } from '../solvers/f64Space.ts';
import type { Cnf, NoiseKind } from './cnf.ts';

/** Which float64 interpreter evaluates the field: the generated kernel (fast) or `evalF64`. */
export type Evaluator = 'kernel' | 'reference';

/** A flow with its augmented right-hand side compiled. */
export interface CompiledCnf<C extends Cnf = Cnf> {
  readonly cnf: C;
  readonly evaluate: (env: F64Env) => E.Either<KernelFnError, readonly F64Tensor[]>;
}

/**
 * Compiles the packed augmented right-hand side once (kernels are cached per batch size).
 * @example const compiled = compileCnf(cnf(dyn))
 */
export const compileCnf = <C extends Cnf>(flow: C, evaluator: Evaluator = 'kernel'): CompiledCnf<C> => {
  const roots = [flow.augmented.f.node];
  switch (evaluator) {
    case 'kernel': return { cnf: flow, evaluate: kernelFn(roots) };
    case 'reference': {
      const run = compileF64(roots);
      return { cnf: flow, evaluate: (env) => run(env) };
    }
  }
};

const rademacher = (s: RngState): readonly [number, RngState] => {
  const [u, s1] = nextU32(s);
  return [u >>> 31 === 1 ? 1 : -1, s1];
};

/**
 * One Hutchinson probe `v: [batch, dim]` with i.i.d. standard Gaussian or Rademacher (±1)
 * entries, and the generator state after it. Draw once per solve (see the module comment).
 * @example const [v, rng1] = drawNoise('rademacher', 128, 2, seedRng(0))
 */
export const drawNoise = (kind: NoiseKind, batch: number, dim: number, rng: RngState): readonly [F64Tensor, RngState] => {
  const [data, next] = draw(kind === 'gaussian' ? nextNormal : rademacher, rng, batch * dim);
  return [{ shape: [batch, dim], data }, next];
};

/** The vector field the solver calls. */
export type CnfField = (t: number, y: F64Batch) => F64Batch;

/**
 * Binds parameter values (and the probe, for Hutchinson's estimator) to a compiled flow and
 * returns `(t, y) => dy/dt` on the packed state `y: [B, D + 1]` (columns `z`, then `Δlogp`).
 * Fails when a parameter is missing or misshaped, or the probe is missing, extra or misshaped.
 * The field itself throws only on misuse: a `y` with another width, or a batch that differs from
 * the probe's.
 * @example
 * const field = cnfField(compiled, model.values); // right((t, y) => dy)
 * integrate(f64Space, field.right, y0, { method: dopri5, t0: 0, t1: 1 })
 */
export const cnfField = (c: CompiledCnf, values: ParamValues, noise?: F64Tensor): E.Either<string, CnfField> => {
  const { cnf: flow } = c;
  const aug = flow.augmented;
  for (const p of aug.params) {
    const v = Object.prototype.hasOwnProperty.call(values, p.name) ? values[p.name] : undefined;
    if (v === undefined) return E.left(`no value for parameter ${p.name}`);
    if (!shapeEq(v.shape, p.shape)) return E.left(`parameter ${p.name} has values of shape [${v.shape.join(',')}], declared [${p.shape.join(',')}]`);
  }
  const env: Record<string, F64Tensor> = { ...values };
  const probe = flow.probe;
  if (probe === undefined && noise !== undefined) return E.left('this flow uses the exact trace: it takes no noise');
  if (probe !== undefined) {
    if (noise === undefined) return E.left(`Hutchinson's estimator needs a probe ${probe.variable.name} (drawNoise)`);
    if (noise.shape.length !== 2 || noise.shape[1] !== flow.dim || noise.data.length !== (noise.shape[0] ?? 0) * flow.dim)
      return E.left(`the probe has shape [${noise.shape.join(',')}], expected [batch, ${flow.dim}]`);
    env[probe.variable.name] = noise;
  }
  const width = flow.dim + 1;
  return E.right((t, y) => {
    if (y.dim !== width) throw new Error(`fluxion: cnf field: the packed state has ${y.dim} columns, expected ${width}`);
    if (noise !== undefined && y.batch !== noise.shape[0])
      throw new Error(`fluxion: cnf field: batch ${y.batch} differs from the probe's ${noise.shape[0]}`);
    const r = c.evaluate({ ...env, [flow.time.name]: scalarT(t), [flow.packed.name]: { shape: [y.batch, width], data: y.data } });
    if (E.isLeft(r)) throw new Error(`fluxion: cnf field: ${formatKernelError(r.left)}`);
    return { data: (r.right[0] as F64Tensor).data, batch: y.batch, dim: width };
  });
};
