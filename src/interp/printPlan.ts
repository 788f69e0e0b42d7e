/**
 * What the pretty-printers share: the *plan* (which nodes are bound once as named subexpressions,
 * under which names, and how the roots are labelled), a driver that renders a plan with a per-kind
 * algebra, and precedence-aware fragments. The notation itself lives in `printText.ts` and
 * `printLatex.ts`; this module knows nothing about symbols.
 *
 * Binding rule: a node is printed as a name, with its definition in a trailing `where` block, when
 * it is not a leaf and is used more than once (by parents or as a root), or when the caller named
 * it and some parent uses it. Variables are never bound; constants only when the caller names
 * them. Every bound node is printed once and every other non-leaf node has one parent, so the
 * output is linear in the size of the DAG.
 */
import { children, type Node } from '../dsl/node.ts';
import { applyAlgebra, topoOrder, type Algebra } from './traverse.ts';

/** A node, or anything that carries one (an `Expr` of the typed facade). */
export type Printable = Node | { readonly node: Node };

/** One labelled root: printed as `name = …`. `latex`, if given, is the label's LaTeX verbatim. */
export interface PrintRoot {
  readonly name: string;
  readonly expr: Printable;
  readonly latex?: string;
}

/** Options every printer accepts. */
export interface PrintOptions {
  /** Names for chosen nodes: a named node is bound under its name; a named variable is renamed. */
  readonly names?: Iterable<readonly [Printable, string]>;
  /** Constants with at most this many elements print inline as nested lists (default 8). */
  readonly maxInlineElements?: number;
}

/** A root as the printers see it: a label (absent for a bare, unnamed root) and its node. */
export interface PlanRoot {
  readonly label: string | undefined;
  readonly latex: string | undefined;
  readonly node: Node;
}

/** The printing plan of a set of roots. */
export interface Plan {
  /** Every node under the roots, children first. */
  readonly order: readonly Node[];
  readonly roots: readonly PlanRoot[];
  /** Raw names of bound nodes (`v1`, `v2`, … or the caller's) and of renamed variables, by id. */
  readonly names: ReadonlyMap<number, string>;
}

/**
 * The node of a printable value.
 * @example toNode(X.tanh(y)) === X.tanh(y).node
 */
export const toNode = (p: Printable): Node => ('kind' in p ? p : p.node);

const isRootList = (r: Printable | readonly PrintRoot[]): r is readonly PrintRoot[] => Array.isArray(r);

/**
 * Decides what is bound and under which name. Names are made unique by appending primes; automatic
 * names `v1, v2, …` are numbered in dependency order (children first) and skip names in use.
 * @example makePlan(f.node, {}).names.size // 0 for a tree
 */
export const makePlan = (input: Printable | readonly PrintRoot[], options: PrintOptions): Plan => {
  const given = isRootList(input)
    ? input.map((r) => ({ label: r.name as string | undefined, latex: r.latex, node: toNode(r.expr) }))
    : [{ label: undefined, latex: undefined, node: toNode(input) }];
  const order = topoOrder(given.map((r) => r.node));
  const internal = new Map<number, number>();
  for (const n of order) for (const k of children(n)) internal.set(k.id, (internal.get(k.id) ?? 0) + 1);
  const rootUses = new Map<number, number>();
  for (const r of given) rootUses.set(r.node.id, (rootUses.get(r.node.id) ?? 0) + 1);
  const wanted = new Map<number, string>();
  for (const [p, name] of options.names ?? []) wanted.set(toNode(p).id, name);

  const taken = new Set<string>();
  for (const n of order) if (n.kind === 'var' && !wanted.has(n.id)) taken.add(n.name);
  const fresh = (s: string): string => {
    let name = s;
    while (taken.has(name)) name += "'";
    taken.add(name);
    return name;
  };
  // First the caller's names (so automatic names avoid them), then the automatic ones.
  const userNames = new Map<number, string>();
  for (const n of order) {
    const w = wanted.get(n.id);
    if (w !== undefined) userNames.set(n.id, fresh(w));
  }
  const names = new Map<number, string>();
  let next = 1;
  for (const n of order) {
    if (n.kind === 'var') {
      const u = userNames.get(n.id);
      if (u !== undefined) names.set(n.id, u);
      continue;
    }
    const inner = internal.get(n.id) ?? 0;
    const total = inner + (rootUses.get(n.id) ?? 0);
    const u = userNames.get(n.id);
    if (u !== undefined && inner >= 1) names.set(n.id, u);
    else if (n.kind !== 'const' && total > 1) {
      while (taken.has(`v${next}`)) next++;
      names.set(n.id, fresh(`v${next}`));
    }
  }
  const roots = given.map((r) =>
    r.label === undefined && !names.has(r.node.id) ? { ...r, label: userNames.get(r.node.id) } : r);
  return { order, roots, names };
};

/** A rendered plan: one fragment per root and the `where` definitions in dependency order. */
export interface Rendered<F> {
  readonly roots: readonly F[];
  readonly defs: readonly (readonly [name: string, def: F])[];
}

/**
 * Renders a plan bottom-up (iteratively, each node once): `alg` builds a node's notation from its
 * children's, and a bound node is seen by its parents as `ref(name)`.
 * @example render(makePlan(f, {}), myAlgebra, (name) => atom(name)).defs // [['v1', …], …]
 */
export const render = <F>(plan: Plan, alg: Algebra<F>, ref: (name: string) => F): Rendered<F> => {
  const use = new Map<number, F>();
  const got = (id: number): F => {
    const f = use.get(id);
    if (f === undefined) throw new Error(`bug: node ${id} rendered before its children`);
    return f;
  };
  const defs: (readonly [string, F])[] = [];
  for (const n of plan.order) {
    const def = applyAlgebra(alg, n, children(n).map((k) => got(k.id)));
    const name = plan.names.get(n.id);
    if (name === undefined) use.set(n.id, def);
    else {
      use.set(n.id, ref(name));
      if (n.kind !== 'var') defs.push([name, def]);
    }
  }
  return { roots: plan.roots.map((r) => got(r.node.id)), defs };
};

// ---------- precedence-aware fragments ----------

/** Binding strength, loosest first. Postfix: `xᵀ`, `x³`, `x[0:2]`; atoms need no parentheses. */
export const Prec = { add: 1, mul: 2, neg: 3, pow: 4, postfix: 5, atom: 6 } as const;

/**
 * A piece of notation: its text, how tightly it binds, the operator family at its top (operators of
 * one level mix without parentheses only within a family: `+`/`-`, `*`/`/`) and whether it starts
 * with a minus sign (such a fragment is parenthesized as a right operand: `a - (-b)`).
 */
export interface Frag {
  readonly s: string;
  readonly prec: number;
  readonly group: string;
  readonly neg: boolean;
}

/** Delimiters used to parenthesize: `(`/`)` in text, `\left(`/`\right)` in LaTeX. */
export interface Parens {
  readonly open: string;
  readonly close: string;
}

/** A fragment. @example frag('a + b', Prec.add, 'add') */
export const frag = (s: string, prec: number, group = '', neg = false): Frag => ({ s, prec, group, neg });

/** A fragment that never needs parentheses. @example atom('tanh(x)') */
export const atom = (s: string): Frag => frag(s, Prec.atom);

/** `f` in parentheses when `cond`. @example wrapIf(a, true, { open: '(', close: ')' }).s // '(a)' */
export const wrapIf = (f: Frag, cond: boolean, p: Parens): Frag => (cond ? atom(`${p.open}${f.s}${p.close}`) : f);

/** `f`, parenthesized unless it binds at least as tightly as `min`. @example need(sum, Prec.atom, P) */
export const need = (f: Frag, min: number, p: Parens): Frag => wrapIf(f, f.prec < min, p);

/**
 * An infix operator at `level` in family `group`; `left` associativity lets a same-family left
 * operand go bare (`a - b - c`), `none` parenthesizes both sides (`(a ^ b) ^ c`).
 * @example infix(a, b, ' - ', Prec.add, 'add', P, 'left').s // 'a - b'
 */
export const infix = (
  l: Frag, r: Frag, sep: string, level: number, group: string, p: Parens, assoc: 'left' | 'none',
): Frag => {
  const lw = wrapIf(l, l.prec < level || (l.prec === level && (assoc === 'none' || l.group !== group)), p);
  const rw = wrapIf(r, r.prec <= level || r.neg, p);
  return frag(`${lw.s}${sep}${rw.s}`, level, group, lw.neg);
};

/**
 * The `i`-th child fragment; a missing one is a bug in the traversal.
 * @throws when `i` is out of range
 * @example at([a, b], 1) === b
 */
export const at = <F>(xs: readonly F[], i: number): F => {
  const x = xs[i];
  if (x === undefined) throw new Error(`bug: missing operand ${i}`);
  return x;
};

/**
 * The integer exponent of a small integer scalar constant that is not bound, else `undefined`:
 * `pow(x, 3)` prints as `x³`.
 * @example smallIntExponent(C.scalar(3), plan) // 3
 */
export const smallIntExponent = (n: Node, plan: Plan): number | undefined => {
  if (n.kind !== 'const' || n.shape.length !== 0 || plan.names.has(n.id)) return undefined;
  const v = n.value[0];
  return v !== undefined && Number.isInteger(v) && Math.abs(v) <= 99 && !Object.is(v, -0) ? v : undefined;
};

/**
 * Formats the values of a constant as nested lists, row-major (rank recursion only, never DAG).
 * @example nestedList([1, 2, 3, 4], [2, 2], String, ['[', ']'], ', ') // '[[1, 2], [3, 4]]'
 */
export const nestedList = (
  values: ArrayLike<number>, dims: readonly number[], fmt: (v: number) => string,
  br: readonly [string, string], sep: string,
): string => {
  let pos = 0;
  const go = (axis: number): string => {
    const d = dims[axis];
    if (d === undefined) return fmt(values[pos++] ?? NaN);
    const parts: string[] = [];
    for (let i = 0; i < d; i++) parts.push(go(axis + 1));
    return `${br[0]}${parts.join(sep)}${br[1]}`;
  };
  return go(0);
};
