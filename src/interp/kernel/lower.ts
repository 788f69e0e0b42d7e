/**
 * Lowering: the expression DAG under `roots`, with every named dim resolved, becomes a tape.
 * Elementwise nodes are grouped into fused loops (a node joins its consumers' loop when all of
 * them are in that loop, it has the loop's shape and is not a root); reshape is a free alias;
 * broadcast, transpose, slice and concat become strided copies. Roots computed by an
 * instruction are written straight into the caller's output buffers. Iterative throughout.
 */
import * as E from 'fp-ts/lib/Either.js';
import { children, type BinaryNode, type Node, type UnaryNode, type VarNode } from '../../dsl/node.ts';
import { resolveShape } from '../../dsl/shape.ts';
import { sizeOf, stridesOf } from '../tensor.ts';
import { applyAlgebra, topoOrder, type Algebra } from '../traverse.ts';
import {
  maxElements, type Instr, type KernelError, type Leaf, type MapStep, type Operand, type Tape, type Value,
  type ValueId,
} from './tape.ts';

/** Fused loops hold at most this many steps, keeping generated loop bodies small for the JIT. */
export const maxFusedSteps = 48;

type Elementwise = UnaryNode | BinaryNode;
const isElementwise = (n: Node): n is Elementwise => n.kind === 'unary' || n.kind === 'binary';

interface Group {
  readonly out: Elementwise;
  readonly dims: readonly number[];
  /** In reverse topological order while being built. */
  readonly members: Elementwise[];
}

/**
 * Strides of `shape` read as if broadcast to `out` (0 on stretched or missing axes).
 * @example broadcastStrides([50], [20, 50]) // [0, 1]
 */
export const broadcastStrides = (shape: readonly number[], out: readonly number[]): number[] => {
  const st = stridesOf(shape);
  const off = out.length - shape.length;
  return out.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : (st[i - off] as number)));
};

const sameDims = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

const must = <T>(v: T | undefined): T => {
  if (v === undefined) throw new Error('bug: kernel lowering lost a value');
  return v;
};

/** Resolves every node's shape; fails on an unbound dim or an oversized tensor. */
const resolveAll = (
  nodes: readonly Node[], sizes: ReadonlyMap<string, number>,
): E.Either<KernelError, Map<number, readonly number[]>> => {
  const shapes = new Map<number, readonly number[]>();
  for (const n of nodes) {
    for (const d of n.shape) if (typeof d === 'string' && !sizes.has(d)) return E.left({ _tag: 'UnboundDim', dim: d });
    const r = must(resolveShape(n.shape, sizes));
    const size = sizeOf(r);
    if (size > maxElements) return E.left({ _tag: 'TooLarge', elements: size });
    shapes.set(n.id, r);
  }
  return E.right(shapes);
};

/** Assigns each elementwise node to a fused group, walking consumers before producers. */
const fuse = (order: readonly Node[], roots: readonly Node[], shapes: ReadonlyMap<number, readonly number[]>): Map<number, Group> => {
  const consumers = new Map<number, Set<number>>();
  for (const n of order) for (const c of children(n)) {
    let s = consumers.get(c.id);
    if (s === undefined) consumers.set(c.id, (s = new Set()));
    s.add(n.id);
  }
  const rootIds = new Set(roots.map((r) => r.id));
  const groupOf = new Map<number, Group>();
  for (let t = order.length - 1; t >= 0; t--) {
    const n = order[t] as Node;
    if (!isElementwise(n)) continue;
    const dims = must(shapes.get(n.id));
    let g: Group | undefined;
    if (!rootIds.has(n.id)) {
      for (const c of consumers.get(n.id) ?? []) {
        const gc = groupOf.get(c);
        if (gc === undefined || (g !== undefined && gc !== g)) {
          g = undefined;
          break;
        }
        g = gc;
      }
      if (g !== undefined && (!sameDims(g.dims, dims) || g.members.length >= maxFusedSteps)) g = undefined;
    }
    g ??= { out: n, dims, members: [] };
    g.members.push(n);
    groupOf.set(n.id, g);
  }
  return groupOf;
};

/**
 * Lowers `roots` to a tape. `inputs` fixes the input buffer order; `sizes` gives named dims.
 * @example lower([f.node], [y.node, W.node], new Map([['batch', 20]])) // right(tape)
 */
export const lower = (
  roots: readonly Node[], inputs: readonly VarNode[], sizes: ReadonlyMap<string, number>,
): E.Either<KernelError, Tape> => {
  for (const [dim, size] of sizes)
    if (!Number.isSafeInteger(size) || size < 0 || size > maxElements) return E.left({ _tag: 'InvalidSize', dim, size });
  const order = topoOrder(roots);
  const resolved = resolveAll([...inputs, ...order], sizes);
  if (E.isLeft(resolved)) return resolved;
  const shapes = resolved.right;
  const shape = (n: Node): readonly number[] => must(shapes.get(n.id));
  const inputIndex = new Map<number, number>();
  for (const [i, v] of inputs.entries()) {
    if (inputIndex.has(v.id)) return E.left({ _tag: 'DuplicateInput', name: v.name });
    inputIndex.set(v.id, i);
  }
  for (const n of order) if (n.kind === 'var' && !inputIndex.has(n.id)) return E.left({ _tag: 'NotAnInput', name: n.name });

  const groupOf = fuse(order, roots, shapes);
  const values: Value[] = [];
  const instrs: Instr[] = [];
  const valueOf = new Map<number, ValueId>();
  const constChunks: Float64Array[] = [];
  let constLen = 0;
  const newValue = (v: Value): ValueId => values.push(v) - 1;
  const temp = (n: Node): ValueId => newValue({ kind: 'temp', size: sizeOf(shape(n)) });
  const copy = (n: Node, x: ValueId, xBase: number, xStrides: readonly number[]): ValueId => {
    const out = temp(n);
    const dims = shape(n);
    instrs.push({ kind: 'copy', out, x, dims, outBase: 0, outStrides: stridesOf(dims), xBase, xStrides });
    return out;
  };

  const fusedLoop = (g: Group): ValueId => {
    const out = temp(g.out);
    const leaves: Leaf[] = [];
    const steps: MapStep[] = [];
    const stepIdx = new Map<number, number>();
    const leafIdx = new Map<number, number>();
    const operand = (c: Node): Operand => {
      const s = stepIdx.get(c.id);
      if (s !== undefined) return { kind: 'step', index: s };
      let l = leafIdx.get(c.id);
      if (l === undefined) {
        l = leaves.push({ value: must(valueOf.get(c.id)), strides: broadcastStrides(shape(c), g.dims) }) - 1;
        leafIdx.set(c.id, l);
      }
      return { kind: 'leaf', index: l };
    };
    for (let i = g.members.length - 1; i >= 0; i--) {
      const m = g.members[i] as Elementwise;
      steps.push(m.kind === 'unary'
        ? { kind: 'unary', op: m.op, a: operand(m.x) }
        : { kind: 'binary', op: m.op, a: operand(m.x), b: operand(m.y) });
      stepIdx.set(m.id, steps.length - 1);
    }
    instrs.push({ kind: 'map', out, dims: g.dims, leaves, steps });
    return out;
  };
  const elementwise = (n: Elementwise): ValueId | undefined => {
    const g = must(groupOf.get(n.id));
    return g.out === n ? fusedLoop(g) : undefined;
  };

  type R = ValueId | undefined;
  const rules: Algebra<R> = {
    const: (n) => {
      const offset = constLen;
      constChunks.push(n.value);
      constLen += n.value.length;
      return newValue({ kind: 'const', offset, size: n.value.length });
    },
    var: (n) => newValue({ kind: 'input', index: must(inputIndex.get(n.id)), size: sizeOf(shape(n)) }),
    unary: elementwise,
    binary: elementwise,
    matmul: (n, [x, y]) => {
      const [m, k] = shape(n.x) as [number, number];
      const out = temp(n);
      instrs.push({ kind: 'matmul', out, x: must(x), y: must(y), m, k, n: shape(n)[1] as number });
      return out;
    },
    reduce: (n, [x]) => {
      const xs = shape(n.x);
      const st = stridesOf(xs);
      const kept = xs.map((_, i) => i).filter((i) => !n.axes.includes(i));
      const redDims = n.axes.map((i) => xs[i] as number);
      const out = temp(n);
      instrs.push({
        kind: 'reduce', op: n.op, out, x: must(x),
        keptDims: kept.map((i) => xs[i] as number), keptStrides: kept.map((i) => st[i] as number),
        redDims, redStrides: n.axes.map((i) => st[i] as number), count: sizeOf(redDims),
      });
      return out;
    },
    reshape: (_, [x]) => must(x),
    broadcast: (n, [x]) => copy(n, must(x), 0, broadcastStrides(shape(n.x), shape(n))),
    transpose: (n, [x]) => {
      const st = stridesOf(shape(n.x));
      return copy(n, must(x), 0, n.perm.map((p) => st[p] as number));
    },
    slice: (n, [x]) => {
      const st = stridesOf(shape(n.x));
      return copy(n, must(x), n.begin.reduce((s, b, i) => s + b * (st[i] as number), 0), st);
    },
    concat: (n, xs) => {
      const out = temp(n);
      const outStrides = stridesOf(shape(n));
      let at = 0;
      for (const [i, c] of n.xs.entries()) {
        const dims = shape(c);
        instrs.push({
          kind: 'copy', out, x: must(xs[i]), dims, outBase: at * (outStrides[n.axis] as number), outStrides,
          xBase: 0, xStrides: stridesOf(dims),
        });
        at += dims[n.axis] as number;
      }
      return out;
    },
  };
  for (const n of order) {
    const v = applyAlgebra(rules, n, children(n).map((c) => valueOf.get(c.id)));
    if (v !== undefined) valueOf.set(n.id, v);
  }

  for (const [j, r] of roots.entries()) {
    const v = must(valueOf.get(r.id));
    const val = values[v] as Value;
    const size = sizeOf(shape(r));
    if (val.kind === 'temp') values[v] = { kind: 'output', index: j, size };
    else {
      const out = newValue({ kind: 'output', index: j, size });
      instrs.push({ kind: 'copy', out, x: v, dims: [size], outBase: 0, outStrides: [1], xBase: 0, xStrides: [1] });
    }
  }

  const consts = new Float64Array(constLen);
  let at = 0;
  for (const c of constChunks) {
    consts.set(c, at);
    at += c.length;
  }
  return E.right({
    values, instrs, consts,
    inputShapes: inputs.map(shape),
    outputShapes: roots.map(shape),
  });
};
