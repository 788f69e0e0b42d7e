/**
 * Lowering: the expression DAG under `roots`, with every named dim resolved, becomes a tape.
 * Elementwise nodes are grouped into fused loops (a node joins its consumers' loop when all of
 * them are in that loop, it has the loop's shape and is not a root); reshape is a free alias;
 * broadcast, transpose, slice and concat become strided copies, and so do patches and unpatches
 * (one per kernel tap, see `lowerPatches.ts`). Roots computed by an instruction are written
 * straight into the caller's output buffers. Iterative throughout.
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
import { windowInstrs } from './lowerPatches.ts';

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
  let zeroValue: ValueId | undefined;
  /** A constant holding one 0, added once, for zero fills. */
  const zero = (): ValueId => {
    if (zeroValue === undefined) {
      constChunks.push(Float64Array.of(0));
      zeroValue = newValue({ kind: 'const', offset: constLen, size: 1 });
      constLen += 1;
    }
    return zeroValue;
  };
  const copy = (n: Node, x: ValueId, xBase: number, xStrides: readonly number[]): ValueId => {
    const out = temp(n);
    const dims = shape(n);
    instrs.push({ kind: 'copy', out, x, dims, outBase: 0, outStrides: stridesOf(dims), xBase, xStrides });
    return out;
  };

  /** Matrix transposes not yet materialized: node id → the value they transpose. */
  const lazyT = new Map<number, ValueId>();
  /** The value of `c`, materializing a lazy transpose (once) for readers that need it stored. */
  const need = (c: Node): ValueId | undefined => {
    const v = valueOf.get(c.id);
    if (v !== undefined) return v;
    const src = lazyT.get(c.id);
    if (src === undefined || c.kind !== 'transpose') return undefined;
    const st = stridesOf(shape(c.x));
    const out = copy(c, src, 0, c.perm.map((p) => st[p] as number));
    valueOf.set(c.id, out);
    return out;
  };
  /** A matmul operand of shape [rows, cols]: its value and (row, column) strides, transposes in place. */
  const operandOf = (c: Node, cols: number): { value: ValueId; strides: readonly [number, number] } => {
    const v = valueOf.get(c.id);
    if (v !== undefined) return { value: v, strides: [cols, 1] };
    const src = must(lazyT.get(c.id));
    return { value: src, strides: [1, (shape(c)[0] as number)] };
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
        l = leaves.push({ value: must(need(c)), strides: broadcastStrides(shape(c), g.dims) }) - 1;
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
    matmul: (n) => {
      // Leading dims are batches of products; a rank-2 operand is shared (step 0). When only `x`
      // is batched, its matrices are consecutive rows of one product.
      const xs = shape(n.x), os = shape(n);
      const m = xs[xs.length - 2] as number, k = xs[xs.length - 1] as number, cols = os[os.length - 1] as number;
      const batch = sizeOf(os.slice(0, -2));
      const xo = operandOf(n.x, k), yo = operandOf(n.y, cols);
      const out = temp(n);
      const xStep = xs.length > 2 ? m * k : 0, yStep = shape(n.y).length > 2 ? k * cols : 0;
      const fold = yStep === 0 && batch > 1;
      instrs.push({
        kind: 'matmul', out, x: xo.value, y: yo.value, m: fold ? batch * m : m, k, n: cols,
        xStrides: xo.strides, yStrides: yo.strides, batch: fold ? 1 : batch, xStep, yStep,
      });
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
      // A matrix transpose is a view: matmuls read it in place, other readers get a copy on demand.
      if (n.perm.length === 2 && n.perm[0] === 1) {
        lazyT.set(n.id, must(x));
        return undefined;
      }
      const st = stridesOf(shape(n.x));
      return copy(n, must(x), 0, n.perm.map((p) => st[p] as number));
    },
    slice: (n, [x]) => {
      const st = stridesOf(shape(n.x));
      return copy(n, must(x), n.begin.reduce((s, b, i) => s + b * (st[i] as number), 0), st);
    },
    patches: (n, [x]) => {
      const out = temp(n);
      instrs.push(...windowInstrs('patches', n.window, shape(n.x), shape(n), must(x), out, zero));
      return out;
    },
    unpatches: (n, [x]) => {
      const out = temp(n);
      instrs.push(...windowInstrs('unpatches', n.window, shape(n), shape(n.x), out, must(x), zero));
      return out;
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
    const v = applyAlgebra(rules, n, children(n).map((c) => (n.kind === 'matmul' ? valueOf.get(c.id) : need(c))));
    if (v !== undefined) valueOf.set(n.id, v);
  }
  for (const r of roots) need(r);

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
