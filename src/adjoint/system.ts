/**
 * The adjoint system as expressions. From dynamics `dz/dt = f(z, t, θ)` it builds the augmented
 * dynamics integrated backwards by the adjoint method (Chen et al. 2018, appendix B):
 *
 *   dz/dt = f,   da/dt = −aᵀ ∂f/∂z,   dθ̄/dt = −aᵀ ∂f/∂θ (each θ),   dt̄/dt = −aᵀ ∂f/∂t,
 *
 * with `a` a new state variable of the state's shape and `θ̄`, `t̄` new variables of the shapes
 * of `θ` and `t`. Every VJP comes from one reverse sweep seeded with `−a`, and all right-hand
 * sides are simplified together with `f`, so shared subexpressions — the forward activations
 * (`tanh(h)`) reused by the VJP rules — are single nodes: compiling `augmentedRoots` computes
 * them once. Parameter adjoints of a batched state are summed over the batch (the `matmul` VJP
 * contracts over it), as the gradient of a loss summed over the batch needs.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../dsl/construct.ts';
import type { Dynamics } from '../dsl/model.ts';
import type { Node, NodeOf } from '../dsl/node.ts';
import type { ParamDecl } from '../dsl/params.ts';
import type { Shape } from '../dsl/shape.ts';
import { simplify } from '../interp/simplify.ts';
import { freeVars } from '../interp/traverse.ts';
import * as B from './build.ts';
import { materialize, vjpSweep } from './vjp.ts';

type VarNode = NodeOf<'var'>;

/** One parameter's adjoint: `dθ̄/dt = rhs = −aᵀ ∂f/∂θ`. */
export interface ParamAdjoint {
  readonly decl: ParamDecl;
  readonly param: VarNode;
  readonly adjointVar: VarNode;
  readonly rhs: Node;
}

/** The augmented dynamics of the adjoint method, as expressions. */
export interface AdjointSystem {
  readonly dynamics: Dynamics;
  /** The state `z` and time `t` of the dynamics. */
  readonly z: VarNode;
  readonly t: VarNode;
  /** The adjoint state `a = ∂L/∂z`, same shape as `z` (role 'state'). */
  readonly a: VarNode;
  readonly paramAdjoints: readonly ParamAdjoint[];
  /** `dt̄/dt = −aᵀ ∂f/∂t` (scalar; `0` when `f` does not depend on `t`). */
  readonly timeAdjoint: { readonly adjointVar: VarNode; readonly rhs: Node };
  /** `dz/dt = f` and `da/dt = −aᵀ ∂f/∂z`. */
  readonly rhs: { readonly z: Node; readonly a: Node };
}

/** What an augmented state slot holds. */
export type SlotPart = 'state' | 'adjoint' | 'param' | 'time';

/** One slot of the augmented state: its variable, shape and right-hand side. */
export interface StateSlot {
  readonly part: SlotPart;
  readonly name: string;
  readonly variable: VarNode;
  readonly shape: Shape;
  readonly rhs: Node;
}

/** Names for the new variables; each gets `_` appended until it is unused. */
export interface AdjointNames {
  /** Default: `a_${state}`. */
  readonly adjoint?: string;
  /** Default: `g${param}`. */
  readonly param?: (name: string) => string;
  /** Default: `g_${time}`. */
  readonly time?: string;
}

const asVar = (n: Node, what: string): E.Either<string, VarNode> =>
  n.kind === 'var' ? E.right(n) : E.left(`adjoint: the ${what} must be a variable, got a ${n.kind}`);

/**
 * Builds the adjoint system of `dyn`. Fails (Left) only on malformed dynamics.
 * @example
 * const sys = makeAdjointSystem(spiral.dynamics); // right({ z: y, a: a_y, paramAdjoints: [gW1, …], … })
 */
export const makeAdjointSystem = (dyn: Dynamics, names: AdjointNames = {}): E.Either<string, AdjointSystem> => {
  const zr = asVar(dyn.state.node, 'state');
  if (E.isLeft(zr)) return zr;
  const tr = asVar(dyn.time.node, 'time');
  if (E.isLeft(tr)) return tr;
  const z = zr.right, t = tr.right;
  const params: { decl: ParamDecl; v: VarNode }[] = [];
  for (const decl of dyn.params) {
    const r = asVar(decl.expr.node, `parameter ${decl.name}`);
    if (E.isLeft(r)) return r;
    params.push({ decl, v: r.right });
  }
  const taken = new Set<string>([z.name, t.name, ...dyn.params.map((p) => p.name), ...freeVars([dyn.f.node]).map((v) => v.name)]);
  const fresh = (base: string, shape: Shape): E.Either<string, VarNode> => {
    let name = base;
    while (taken.has(name)) name += '_';
    taken.add(name);
    return C.variable(name, 'state', shape);
  };
  const ar = fresh(names.adjoint ?? `a_${z.name}`, z.shape);
  if (E.isLeft(ar)) return ar;
  const a = ar.right;
  const adjointVars: VarNode[] = [];
  for (const p of params) {
    const r = fresh(names.param?.(p.decl.name) ?? `g${p.decl.name}`, p.v.shape);
    if (E.isLeft(r)) return r;
    adjointVars.push(r.right);
  }
  const gtr = fresh(names.time ?? `g_${t.name}`, []);
  if (E.isLeft(gtr)) return gtr;

  // One sweep seeded with −a gives every −aᵀ∂f/∂(·) at once.
  const wrt: Node[] = [z, ...params.map((p) => p.v), t];
  const cts = vjpSweep([dyn.f.node], [B.neg(a)], wrt).map((c, i) => materialize(c, (wrt[i] as Node).shape));
  const [fz, da, ...rest] = simplify([dyn.f.node, ...cts]) as [Node, Node, ...Node[]];
  const dt = rest[rest.length - 1] as Node;
  return E.right(Object.freeze({
    dynamics: dyn,
    z, t, a,
    paramAdjoints: params.map((p, i) => Object.freeze({
      decl: p.decl, param: p.v, adjointVar: adjointVars[i] as VarNode, rhs: rest[i] as Node,
    })),
    timeAdjoint: Object.freeze({ adjointVar: gtr.right, rhs: dt }),
    rhs: Object.freeze({ z: fz, a: da }),
  }));
};

/**
 * The adjoint system of well-formed dynamics (those `dynamics()` builds).
 * @throws when the dynamics are malformed (state or time not a variable)
 * @example const sys = adjointSystem(dyn); compileF64(augmentedRoots(sys))
 */
export const adjointSystem = (dyn: Dynamics, names: AdjointNames = {}): AdjointSystem => {
  const r = makeAdjointSystem(dyn, names);
  if (E.isLeft(r)) throw new Error(`fluxion: ${r.left}`);
  return r.right;
};

/**
 * The augmented state in its fixed order: `z`, `a`, each `θ̄` in parameter order, `t̄`.
 * A solver packs the augmented state and its derivative in this order.
 * @example augmentedLayout(sys).map((s) => s.name) // ['y', 'a_y', 'gW1', 'gb1', 'gW2', 'gb2', 'g_t']
 */
export const augmentedLayout = (s: AdjointSystem): readonly StateSlot[] => [
  { part: 'state', name: s.z.name, variable: s.z, shape: s.z.shape, rhs: s.rhs.z },
  { part: 'adjoint', name: s.a.name, variable: s.a, shape: s.a.shape, rhs: s.rhs.a },
  ...s.paramAdjoints.map((p): StateSlot => ({
    part: 'param', name: p.adjointVar.name, variable: p.adjointVar, shape: p.adjointVar.shape, rhs: p.rhs,
  })),
  {
    part: 'time', name: s.timeAdjoint.adjointVar.name, variable: s.timeAdjoint.adjointVar,
    shape: s.timeAdjoint.adjointVar.shape, rhs: s.timeAdjoint.rhs,
  },
];

/**
 * The right-hand sides in `augmentedLayout` order; compile them together so shared
 * subexpressions are evaluated once.
 * @example compileF64(augmentedRoots(sys))({ y, a_y, t, W1, b1, W2, b2 })
 */
export const augmentedRoots = (s: AdjointSystem): readonly Node[] => augmentedLayout(s).map((slot) => slot.rhs);
