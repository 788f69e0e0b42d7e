/**
 * The TensorFlow.js interpreter: expression roots compiled once into a flat list of steps (one
 * tfjs op per node, in topological order), run inside `tf.tidy` on float32 tensors. Every op maps
 * to a differentiable tfjs op, so a compiled program can run under `tf.grad` / `tf.variableGrads`.
 * The float64 evaluator (`evalF64.ts`) defines the meaning; this is the fast path tested against it.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { children, type Node, type NodeOf } from '../dsl/node.ts';
import type { BinaryOp, ReduceOp, UnaryOp } from '../dsl/ops.ts';
import { isSym, resolveShape, type Shape } from '../dsl/shape.ts';
import { bindVars, formatBindError, type BindError, type DimSizes } from './bind.ts';
import { patchesTfjs, unpatchesTfjs } from './tfjsPatches.ts';
import { applyAlgebra, freeVars, topoOrder, type Algebra } from './traverse.ts';

/** The tfjs op of each unary op. Adding an op to `ops.ts` fails to compile until it is mapped. */
export const unaryTfjs: { readonly [K in UnaryOp]: (x: tf.Tensor) => tf.Tensor } = {
  neg: tf.neg,
  exp: tf.exp,
  log: tf.log,
  log1p: tf.log1p,
  sqrt: tf.sqrt,
  square: tf.square,
  sin: tf.sin,
  cos: tf.cos,
  tanh: tf.tanh,
  sigmoid: tf.sigmoid,
  softplus: tf.softplus,
  relu: tf.relu,
  abs: tf.abs,
  // Not `tf.sign`: it maps NaN to 0 by design, and on wasm it returns 0 for |x| < ~1e-7.
  sign: (x) => tf.sub(tf.step(x, 0), tf.step(tf.neg(x), 0)),
  step: (x) => tf.step(x, 0),
};

/**
 * Broadcasts both operands to their common shape first. tfjs 4.22's gradients of Maximum and
 * Minimum do not sum over broadcast axes (a `[2,1]` operand gets a `[2,3]` gradient, and tf.grad
 * throws); with explicit broadcasts, `broadcastTo`'s own gradient does the summing.
 */
const broadcastBoth = (op: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor): tf.Tensor => {
  const shape = tf.broadcast_util.assertAndGetBroadcastShape(x.shape, y.shape);
  const bx = x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i]) ? x : tf.broadcastTo(x, shape);
  const by = y.shape.length === shape.length && y.shape.every((d, i) => d === shape[i]) ? y : tf.broadcastTo(y, shape);
  return op(bx, by);
};

/** The tfjs op of each binary op (tfjs broadcasts like numpy). */
export const binaryTfjs: { readonly [K in BinaryOp]: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor } = {
  add: tf.add,
  sub: tf.sub,
  mul: tf.mul,
  div: tf.div,
  pow: tf.pow,
  maximum: broadcastBoth(tf.maximum),
  minimum: broadcastBoth(tf.minimum),
};

/** The tfjs op of each reduction over sorted, non-empty `axes`. */
export const reduceTfjs: {
  readonly [K in ReduceOp]: (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor;
} = {
  sum: tf.sum,
  mean: tf.mean,
  logsumexp: tf.logSumExp,
};

/** Inputs by variable name: float32 tensors. */
export type TfjsEnv = Readonly<Record<string, tf.Tensor>>;

/** Why inputs were rejected: a binding error, or a tensor that is not float32. */
export type TfjsBindError = BindError | { readonly _tag: 'WrongDtype'; readonly name: string; readonly dtype: string };

/**
 * A one-line message for a rejected input.
 * @example formatTfjsBindError({ _tag: 'WrongDtype', name: 'y', dtype: 'int32' }) // 'input y is int32, expected float32'
 */
export const formatTfjsBindError = (e: TfjsBindError): string =>
  e._tag === 'WrongDtype' ? `input ${e.name} is ${e.dtype}, expected float32` : formatBindError(e);

/** A compiled program. The caller owns (and disposes) the returned tensors. */
export interface TfjsProgram {
  /**
   * Checks the inputs (names, shapes, dtypes, named dims) and evaluates every root.
   * @example const r = prog.run({ y }); if (E.isRight(r)) { r.right[0]?.print(); tf.dispose(r.right); }
   */
  readonly run: (env: TfjsEnv, dims?: DimSizes) => E.Either<TfjsBindError, tf.Tensor[]>;
  /**
   * `run` for code that cannot take an `Either`, e.g. inside `tf.grad`.
   * @throws Error with the formatted bind error when the inputs do not fit
   * @example const g = tf.grad((y) => prog.runOrThrow({ ...params, y })[0] as tf.Tensor)(y0);
   */
  readonly runOrThrow: (env: TfjsEnv, dims?: DimSizes) => tf.Tensor[];
  /** The variables the program reads, each once. */
  readonly inputs: readonly NodeOf<'var'>[];
  /**
   * Number of operation nodes evaluated per run (about one tfjs op each; `sign` takes four,
   * `patches` and `unpatches` a few per kernel tap).
   */
  readonly opCount: number;
  /**
   * Frees the uploaded constants; running the program afterwards throws. Idempotent.
   * @example const prog = compileTfjs([f.node]); try { train(prog); } finally { prog.dispose(); }
   */
  readonly dispose: () => void;
}

/** Resolved named-dim sizes of one evaluation. */
type Dims = ReadonlyMap<string, number>;
/** What one evaluation is given: the checked inputs and the sizes of the named dims. */
interface RunCtx {
  readonly env: TfjsEnv;
  readonly dims: Dims;
}
/** One node's computation given its children's tensors. */
type Kernel = (args: readonly tf.Tensor[], ctx: RunCtx) => tf.Tensor;
interface Step {
  readonly kernel: Kernel;
  readonly inputs: readonly number[];
  /** A transpose folded into every matmul that reads it: never computed. */
  readonly skip?: boolean;
}

const isMatrixTranspose = (n: Node): n is NodeOf<'transpose'> => n.kind === 'transpose' && n.shape.length === 2 && n.perm[0] === 1;

/**
 * Matrix transposes read only by 2-D matmuls (and not roots): those matmuls read the untransposed
 * tensor through `tf.matMul`'s transpose flags, which on the native backend is ~10× faster than
 * materialising the transpose of a [4096, 64] activation (the adjoint's parameter gradients).
 */
const foldableTransposes = (order: readonly Node[], roots: readonly Node[]): ReadonlySet<number> => {
  const ok = new Set(order.filter(isMatrixTranspose).map((n) => n.id));
  for (const r of roots) ok.delete(r.id);
  for (const n of order) {
    const simpleMatmul = n.kind === 'matmul' && n.x.shape.length === 2 && n.y.shape.length === 2;
    if (!simpleMatmul) for (const c of children(n)) ok.delete(c.id);
  }
  return ok;
};

const arg = (args: readonly tf.Tensor[], i: number): tf.Tensor => {
  const t = args[i];
  if (t === undefined) throw new Error(`bug: missing argument ${i}`);
  return t;
};

/** A shape with named dims, resolved per evaluation; static shapes are resolved once. */
const shapeResolver = (s: Shape): ((dims: Dims) => number[]) => {
  if (!s.some(isSym)) {
    const fixed = s as number[];
    return () => fixed;
  }
  return (dims) => {
    const r = resolveShape(s, dims);
    if (r === undefined) throw new Error('bug: unbound dim survived binding');
    return r;
  };
};

/**
 * The one rule table: a kernel per node kind. Args of the `Algebra` (children's kernels) are not
 * used: children are wired by slot index when the steps are built.
 */
const kernelRules = (uploaded: tf.Tensor[]): Algebra<Kernel> => ({
  const: (n) => {
    const t = tf.tensor(Float32Array.from(n.value), n.shape as number[], 'float32');
    uploaded.push(t);
    return () => t;
  },
  var: (n) => (_, ctx) => {
    const t = ctx.env[n.name];
    if (t === undefined) throw new Error(`bug: input ${n.name} missing after binding`);
    return t;
  },
  unary: (n) => {
    const f = unaryTfjs[n.op];
    return (a) => f(arg(a, 0));
  },
  binary: (n) => {
    const f = binaryTfjs[n.op];
    return (a) => f(arg(a, 0), arg(a, 1));
  },
  matmul: (n) => {
    if (n.y.shape.length > 2 || n.x.shape.length === 2) return (a) => tf.matMul(arg(a, 0), arg(a, 1));
    // A stack of matrices times one matrix: one 2-D product over all rows.
    const shape = shapeResolver(n.shape);
    return (a, ctx) => {
      const x = arg(a, 0);
      return tf.reshape(tf.matMul(tf.reshape(x, [-1, x.shape[x.shape.length - 1] as number]), arg(a, 1)), shape(ctx.dims));
    };
  },
  reduce: (n) => {
    if (n.axes.length === 0) return (a) => tf.clone(arg(a, 0));
    const f = reduceTfjs[n.op];
    const axes = n.axes.slice();
    return (a) => f(arg(a, 0), axes, n.keepDims);
  },
  reshape: (n) => {
    const shape = shapeResolver(n.shape);
    return (a, ctx) => tf.reshape(arg(a, 0), shape(ctx.dims));
  },
  broadcast: (n) => {
    const shape = shapeResolver(n.shape);
    return (a, ctx) => tf.broadcastTo(arg(a, 0), shape(ctx.dims));
  },
  transpose: (n) => {
    const perm = n.perm.slice();
    return (a) => tf.transpose(arg(a, 0), perm);
  },
  concat: (n) => (a) => tf.concat(a.slice(), n.axis),
  slice: (n) => {
    // A named axis is always taken whole (checked at construction): size -1 means "to the end".
    const begin = n.begin.slice();
    const size = n.shape.map((d) => (isSym(d) ? -1 : d));
    return (a) => tf.slice(arg(a, 0), begin, size);
  },
  patches: (n) => {
    const shape = shapeResolver(n.shape);
    return (a, ctx) => patchesTfjs(arg(a, 0), n.window, shape(ctx.dims));
  },
  unpatches: (n) => {
    const shape = shapeResolver(n.shape);
    return (a, ctx) => unpatchesTfjs(arg(a, 0), n.window, shape(ctx.dims));
  },
});

/**
 * Compiles roots into a tfjs program: the topological order is resolved once into a flat list
 * of steps, constants are uploaded once (as float32) and kept until `dispose()`. Each run checks
 * the inputs, then runs the steps inside `tf.tidy` and returns only the root tensors. Call it
 * after the backend is selected (`selectBackend`), since constants live on the active backend.
 * @example
 * const prog = compileTfjs([f.node]);
 * const out = prog.runOrThrow({ y: tf.randomNormal([20, 2]), W1, b1, W2, b2 });
 * tf.dispose(out); prog.dispose();
 */
export const compileTfjs = (roots: readonly Node[]): TfjsProgram => {
  const order = topoOrder(roots);
  const inputs = freeVars(roots);
  const dimNames = new Set<string>();
  for (const n of order) for (const d of n.shape) if (isSym(d)) dimNames.add(d);

  const uploaded: tf.Tensor[] = [];
  const rules = kernelRules(uploaded);
  const slotOf = new Map<number, number>();
  const steps: Step[] = [];
  const noArgs: readonly Kernel[] = [];
  const folded = foldableTransposes(order, roots);
  for (const n of order) {
    slotOf.set(n.id, steps.length);
    if (n.kind === 'matmul' && (folded.has(n.x.id) || folded.has(n.y.id))) {
      const tA = folded.has(n.x.id), tB = folded.has(n.y.id);
      const src = (c: Node): Node => (folded.has(c.id) && c.kind === 'transpose' ? c.x : c);
      steps.push({
        kernel: (a) => tf.matMul(arg(a, 0), arg(a, 1), tA, tB),
        inputs: [src(n.x), src(n.y)].map((k) => slotOf.get(k.id) as number),
      });
      continue;
    }
    steps.push({
      kernel: applyAlgebra(rules, n, noArgs),
      inputs: children(n).map((k) => slotOf.get(k.id) as number),
      ...(folded.has(n.id) ? { skip: true } : {}),
    });
  }
  const rootSlots = roots.map((r) => slotOf.get(r.id) as number);
  // Inputs and constants returned as roots are cloned, so the caller may dispose every output.
  const borrowed = roots.map((r) => r.kind === 'var' || r.kind === 'const');
  const opCount = order.filter((n) => n.kind !== 'var' && n.kind !== 'const').length;

  let disposed = false;
  const bind = (e: TfjsEnv, given?: DimSizes): E.Either<TfjsBindError, Dims> => {
    for (const v of inputs) {
      const t = Object.prototype.hasOwnProperty.call(e, v.name) ? e[v.name] : undefined;
      if (t !== undefined && t.dtype !== 'float32') return E.left({ _tag: 'WrongDtype', name: v.name, dtype: t.dtype });
    }
    const b = bindVars(inputs, e, (t) => t.shape, given);
    if (E.isLeft(b)) return b;
    for (const d of dimNames) if (!b.right.has(d)) return E.left({ _tag: 'UnboundDim', dim: d });
    return b;
  };

  const exec = (ctx: RunCtx): tf.Tensor[] =>
    tf.tidy(() => {
      const vals = new Array<tf.Tensor>(steps.length);
      for (let i = 0; i < steps.length; i++) {
        const s = steps[i] as Step;
        if (s.skip === true) continue;
        vals[i] = s.kernel(s.inputs.map((j) => vals[j] as tf.Tensor), ctx);
      }
      return rootSlots.map((j, k) => (borrowed[k] === true ? tf.clone(vals[j] as tf.Tensor) : (vals[j] as tf.Tensor)));
    });

  const run = (e: TfjsEnv, dims?: DimSizes): E.Either<TfjsBindError, tf.Tensor[]> => {
    if (disposed) throw new Error('fluxion: this tfjs program was disposed');
    const b = bind(e, dims);
    return E.isLeft(b) ? b : E.right(exec({ env: e, dims: b.right }));
  };

  return Object.freeze({
    run,
    runOrThrow: (e: TfjsEnv, dims?: DimSizes) => {
      const r = run(e, dims);
      if (E.isLeft(r)) throw new Error(`fluxion: ${formatTfjsBindError(r.left)}`);
      return r.right;
    },
    inputs,
    opCount,
    dispose: () => {
      if (!disposed) tf.dispose(uploaded);
      disposed = true;
    },
  });
};
