/**
 * Test helpers: central finite differences in float64 against the symbolic VJP, and a seeded
 * source of random tensors.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../../src/dsl/construct.ts';
import type { Node, NodeOf } from '../../src/dsl/node.ts';
import { resolveShape } from '../../src/dsl/shape.ts';
import { vjp } from '../../src/adjoint/vjp.ts';
import { compileF64, type F64Env } from '../../src/interp/evalF64.ts';
import { formatBindError } from '../../src/interp/bind.ts';
import { sizeOf, type F64Tensor } from '../../src/interp/tensor.ts';
import { nextNormal, nextUniform, seedRng, type RngState } from '../../src/random/prng.ts';

/** A seeded stream of numbers (test-local state). */
export const rng = (seed: number, stream = '') => {
  let s: RngState = seedRng(seed, stream);
  const uniform = (lo = 0, hi = 1): number => {
    const [u, s1] = nextUniform(s);
    s = s1;
    return lo + (hi - lo) * u;
  };
  const normal = (): number => {
    const [z, s1] = nextNormal(s);
    s = s1;
    return z;
  };
  const tensor = (shape: readonly number[], draw: () => number = normal): F64Tensor => {
    const d = new Float64Array(sizeOf(shape));
    for (let i = 0; i < d.length; i++) d[i] = draw();
    return { shape, data: d };
  };
  return { uniform, normal, tensor };
};
export type Rng = ReturnType<typeof rng>;

/** Evaluates roots; throws on a bind error (a bug in the test). */
export const run = (roots: readonly Node[], env: F64Env): readonly F64Tensor[] => {
  const r = compileF64(roots)(env);
  if (E.isLeft(r)) throw new Error(formatBindError(r.left));
  return r.right;
};

/** One element where the symbolic and the finite-difference derivative disagree. */
export interface Mismatch {
  readonly wrt: string;
  readonly index: number;
  readonly symbolic: number;
  readonly fd: number;
}

/** Options of `checkVjp`. */
export interface CheckOptions {
  readonly outputs: readonly Node[];
  readonly wrt: readonly NodeOf<'var'>[];
  readonly env: F64Env;
  readonly rng: Rng;
  readonly sizes?: ReadonlyMap<string, number>;
  readonly h?: number;
  readonly rtol?: number;
  /** Extra variables evaluated alongside, to fix named dims nothing else fixes. */
  readonly binders?: readonly Node[];
}

/**
 * Compares ⟨vjp(g), eᵢ⟩ with (L(x + h eᵢ) − L(x − h eᵢ)) / 2h, L = Σ ⟨g, outputs⟩, for every
 * element of every `wrt` variable, with random cotangents `g`. Returns the disagreements and the
 * number of comparisons.
 */
export const checkVjp = (o: CheckOptions): { mismatches: readonly Mismatch[]; checked: number } => {
  const sizes = o.sizes ?? new Map([['batch', 2]]);
  const cts = o.outputs.map((out, i) => {
    const v = C.variable(`ct_${i}`, 'input', out.shape);
    if (E.isLeft(v)) throw new Error(v.left);
    return v.right;
  });
  const env: Record<string, F64Tensor> = { ...o.env };
  o.outputs.forEach((out, i) => {
    const shape = resolveShape(out.shape, sizes);
    if (shape === undefined) throw new Error('unbound dim in test');
    env[`ct_${i}`] = o.rng.tensor(shape);
  });
  // Named dims of a VJP need not be fixed by its own variables (the gradient of a sum over the
  // batch is a broadcast of a batch-free cotangent): evaluate with the inputs alongside.
  const binders = [...o.wrt, ...cts, ...(o.binders ?? [])];
  const symbolic = run([...vjp(o.outputs, cts, o.wrt), ...binders], env);
  const primal = compileF64([...o.outputs, ...binders]);
  const loss = (e: F64Env): { value: number; scale: number } => {
    const r = primal(e);
    if (E.isLeft(r)) throw new Error(formatBindError(r.left));
    let value = 0, scale = 0;
    r.right.slice(0, o.outputs.length).forEach((t, i) => {
      const g = (env[`ct_${i}`] as F64Tensor).data;
      t.data.forEach((x, k) => {
        value += x * (g[k] as number);
        scale += Math.abs(x * (g[k] as number));
      });
    });
    return { value, scale };
  };
  const { scale } = loss(env);
  const mismatches: Mismatch[] = [];
  let checked = 0;
  o.wrt.forEach((w, wi) => {
    const x0 = env[w.name] as F64Tensor;
    const sym = (symbolic[wi] as F64Tensor).data;
    for (let k = 0; k < x0.data.length; k++) {
      const xk = x0.data[k] as number;
      const h = (o.h ?? 1e-6) * Math.max(1, Math.abs(xk));
      const at = (v: number): number => {
        const d = Float64Array.from(x0.data);
        d[k] = v;
        return loss({ ...env, [w.name]: { shape: x0.shape, data: d } }).value;
      };
      const fd = (at(xk + h) - at(xk - h)) / (2 * h);
      const s = sym[k] as number;
      const tol = (o.rtol ?? 1e-6) * Math.max(Math.abs(s), Math.abs(fd)) + 1e-8 * (1 + scale);
      checked++;
      if (!(Math.abs(s - fd) <= tol)) mismatches.push({ wrt: w.name, index: k, symbolic: s, fd });
    }
  });
  return { mismatches, checked };
};

/**
 * Central finite differences of a scalar function of the environment with respect to every
 * element of the input `name`.
 */
export const fdGradient = (L: (env: F64Env) => number, env: F64Env, name: string, h = 1e-6): Float64Array => {
  const x0 = env[name] as F64Tensor;
  const out = new Float64Array(x0.data.length);
  for (let k = 0; k < out.length; k++) {
    const xk = x0.data[k] as number;
    const step = h * Math.max(1, Math.abs(xk));
    const at = (v: number): number => {
      const d = Float64Array.from(x0.data);
      d[k] = v;
      return L({ ...env, [name]: { shape: x0.shape, data: d } });
    };
    out[k] = (at(xk + step) - at(xk - step)) / (2 * step);
  }
  return out;
};

/** Asserts |a − b| ≤ rtol·max(|a|, |b|) + atol elementwise; returns the worst error. */
export const closeTo = (a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number, label: string): number => {
  if (a.length !== b.length) throw new Error(`${label}: lengths ${a.length} and ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number, y = b[i] as number;
    const err = Math.abs(x - y);
    if (!(err <= rtol * Math.max(Math.abs(x), Math.abs(y)) + atol)) throw new Error(`${label}[${i}]: ${x} vs ${y}`);
    worst = Math.max(worst, err);
  }
  return worst;
};
