/**
 * Continuous normalizing flows (Chen et al. 2018, §4; FFJORD, Grathwohl et al. 2019) as
 * expressions. From dynamics `dz/dt = f(z, t, θ)` on rows `z: [B, D]`, `cnf` builds the augmented
 * dynamics of the instantaneous change of variables:
 *
 *   dz/dt = f(z, t, θ),   dΔlogp/dt = −tr(∂f/∂z)   (per row).
 *
 * The trace is exact (the closed form of a one-hidden-layer network when `f` has that shape, the
 * diagonal of the symbolic Jacobian otherwise) or Hutchinson's estimate with a `noise` probe `v`.
 *
 * Packing, decided here once: the solver integrates one `F64Batch` of shape `[B, D + 1]`, the
 * `D` columns of `z` then the `Δlogp` column. The augmented right-hand side is ONE expression over
 * a packed state variable `y: [B, D + 1]`: `z` is the slice `y[:, 0:D]` substituted for the state
 * of `f`, and `dy/dt = concat([f, −tr], 1)`. So the augmented system is an ordinary `Dynamics`:
 * printable, compiled into a single kernel (the trace reuses `f`'s activations), and ready for
 * the adjoint system when training comes. `Δlogp` never feeds back: `f` and the trace read only
 * the `z` columns.
 *
 * Time convention (FFJORD's): data `x` lives at `t0` (default 0) and the base `N(0, I)` at `t1`
 * (default 1). Densities integrate data forwards from `t0` to `t1`; sampling integrates base
 * draws backwards from `t1` to `t0` (see `density.ts`).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as B from '../adjoint/build.ts';
import * as C from '../dsl/construct.ts';
import * as X from '../dsl/expr.ts';
import { makeDynamics, type Dynamics } from '../dsl/model.ts';
import type { Node, NodeOf } from '../dsl/node.ts';
import type { Dim } from '../dsl/shape.ts';
import { rules, simplify, type Rule } from '../interp/simplify.ts';
import { freeVars } from '../interp/traverse.ts';
import { oneHiddenLayerTrace } from './closedForm.ts';
import { exactTrace, hutchinsonTrace, type Rows } from './trace.ts';

/** How the divergence is computed: exactly, or by Hutchinson's estimator. */
export type TraceKind = 'exact' | 'hutchinson';
/** The distribution of Hutchinson's probe entries (both have `E[v vᵀ] = I`). */
export type NoiseKind = 'gaussian' | 'rademacher';
/** What the built divergence expression is. */
export type TraceMethod = 'closed-form' | 'jacobian-diagonal' | 'hutchinson';

/** Options of `cnf`. */
export interface CnfOptions {
  /** Default `'exact'`. */
  readonly trace?: TraceKind;
  /** Hutchinson probe distribution; default `'gaussian'` (FFJORD's default). */
  readonly noise?: NoiseKind;
  /** Exact trace: use the one-hidden-layer closed form when `f` matches it (default `true`). */
  readonly closedForm?: boolean;
  /** Name of the probe variable (default `v`; `_` appended while taken). */
  readonly noiseName?: string;
  /** Name of the packed state `[z, Δlogp]` (default `${z}_logp`; `_` appended while taken). */
  readonly packedName?: string;
}

/** Hutchinson's probe: a `noise` variable of the shape of `z`, fixed for a whole solve. */
export interface Probe {
  readonly kind: NoiseKind;
  readonly variable: NodeOf<'var'>;
}

/** A continuous normalizing flow: the base dynamics and its packed augmented dynamics. */
export interface Cnf<M extends Dim = Dim, D extends number = number> {
  /** The flow `dz/dt = f(z, t, θ)`. */
  readonly base: Dynamics<Rows<M, D>>;
  /** `D`, the number of columns of `z`; the packed state has `D + 1`. */
  readonly dim: D;
  readonly traceMethod: TraceMethod;
  /** `tr(∂f/∂z)` (or its estimate) per row, over the base state `z`: for printing. */
  readonly divergence: X.Expr<readonly [M]>;
  /** Present for Hutchinson's estimator. */
  readonly probe?: Probe;
  /** State `y = [z, Δlogp]: [B, D + 1]`, `dy/dt = [f, −tr]`; its inputs include the probe. */
  readonly augmented: Dynamics<readonly [M, number]>;
  /** The packed state variable `y` (the state of `augmented`) and the time variable. */
  readonly packed: NodeOf<'var'>;
  readonly time: NodeOf<'var'>;
}

const divergenceOf = <M extends Dim, D extends number>(
  base: Dynamics<Rows<M, D>>, opts: CnfOptions, fresh: (name: string) => string,
): E.Either<string, { readonly tr: X.Expr<readonly [M]>; readonly method: TraceMethod; readonly probe?: Probe }> => {
  const { f, state: z } = base;
  const kind = opts.trace ?? 'exact';
  switch (kind) {
    case 'exact': {
      const closed = (opts.closedForm ?? true) ? oneHiddenLayerTrace(f, z) : E.left('closed form disabled');
      if (E.isRight(closed)) return E.right({ tr: closed.right, method: 'closed-form' });
      return E.map((tr: X.Expr<readonly [M]>) => ({ tr, method: 'jacobian-diagonal' as const }))(exactTrace(f, z));
    }
    case 'hutchinson': {
      const v = C.variable(fresh(opts.noiseName ?? 'v'), 'noise', z.shape);
      if (E.isLeft(v)) return v;
      const probe: Probe = { kind: opts.noise ?? 'gaussian', variable: v.right };
      return E.map((tr: X.Expr<readonly [M]>) => ({ tr, method: 'hutchinson' as const, probe }))(hutchinsonTrace(f, z, X.wrap(v.right, z.shape)));
    }
  }
};

/**
 * Builds the continuous normalizing flow of `base` (see the module comment for the packing and
 * the time convention). Fails when `z` is not `[B, D]` with numeric `D`, or `f` mixes rows.
 * @example
 * const z = X.state('z', [B, 2]);
 * const net = mlp('f', [2, 64, 2], 'tanh');
 * makeCnf(dynamics({ state: z, params: net.params, f: net.apply(z) }))
 * // right({ traceMethod: 'closed-form', augmented: dynamics on z_logp: [B, 3], … })
 */
export const makeCnf = <M extends Dim, D extends number>(
  base: Dynamics<Rows<M, D>>, opts: CnfOptions = {},
): E.Either<string, Cnf<M, D>> => {
  const z = base.state.node, time = base.time.node;
  if (z.kind !== 'var' || time.kind !== 'var') return E.left('cnf: the state and the time must be variables');
  const [m, dim] = base.state.shape;
  if (base.state.shape.length !== 2 || typeof dim !== 'number' || dim < 1)
    return E.left(`cnf: the state must be [batch, D] with a positive numeric D, got [${base.state.shape.join(',')}]`);
  const taken = new Set<string>([...freeVars([base.f.node, z, base.time.node]).map((v) => v.name), ...base.params.map((p) => p.name)]);
  const fresh = (name: string): string => {
    let n = name;
    while (taken.has(n)) n += '_';
    taken.add(n);
    return n;
  };
  const div = divergenceOf(base, opts, fresh);
  if (E.isLeft(div)) return E.left(`cnf: ${div.left}`);
  const yr = C.variable(fresh(opts.packedName ?? `${z.name}_logp`), 'state', [m, dim + 1]);
  if (E.isLeft(yr)) return E.left(`cnf: ${yr.left}`);
  const packedVar = yr.right;
  const y = X.wrap(packedVar, [m, dim + 1] as const);
  const zCols = B.slice(packedVar, [0, 0], [m, dim]);
  const rhs = B.concat([base.f.node, B.reshape(B.neg(div.right.tr.node), [m, 1])], 1);
  const substitute: Rule = { name: `${z.name} → ${packedVar.name}[:, :${dim}]`, rewrite: (n) => (n === z ? zCols : undefined) };
  const [packed] = simplify([rhs], [substitute, ...rules]) as [Node];
  const augmented = makeDynamics({ state: y, time: base.time, params: base.params, f: X.wrap(packed, y.shape) });
  if (E.isLeft(augmented)) return E.left(`cnf: ${augmented.left}`);
  const { tr, method, probe } = div.right;
  const common = { base, dim, traceMethod: method, divergence: tr, augmented: augmented.right, packed: packedVar, time };
  return E.right(Object.freeze(probe === undefined ? common : { ...common, probe }));
};

/**
 * `makeCnf` for well-formed dynamics.
 * @throws when `makeCnf` fails (the state is not `[B, D]`, or `f` mixes rows)
 * @example const flow = cnf(dyn, { trace: 'hutchinson', noise: 'rademacher' })
 */
export const cnf = <M extends Dim, D extends number>(base: Dynamics<Rows<M, D>>, opts: CnfOptions = {}): Cnf<M, D> => {
  const r = makeCnf(base, opts);
  if (E.isLeft(r)) throw new Error(`fluxion: ${r.left}`);
  return r.right;
};
