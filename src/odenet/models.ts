/**
 * The three classifiers of Table 1 of Chen et al. 2018, built from the same stem, block function
 * and head (`blocks.ts`), each with its gradient:
 *
 * - **ODE-Net**: stem → one ODE block `dz/dt = f(z, t)` on [0, 1] (adaptive solver) → head. The
 *   gradient is composed without a new gradient API: the stem is evaluated to get z₀; the
 *   prepared gradient of the ODE block (method `adjoint`) takes the head + cross-entropy as the
 *   loss of the prediction at t = 1, so the head's gradient comes back in `dparams` and ∂L/∂z₀ in
 *   `dz0`; one symbolic VJP of the stem with cotangent ∂L/∂z₀ gives the stem's gradient.
 * - **RK-Net**: the same, the ODE block differentiated by backprop through the solver's steps.
 * - **ResNet**: stem → 6 residual blocks `h + block(h)` → head, one expression and one VJP.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../dsl/expr.ts';
import { softmaxCrossEntropy } from '../dsl/losses.ts';
import { dynamics, makeLoss, makeModel, type Dynamics, type Loss } from '../dsl/model.ts';
import type { Dim } from '../dsl/shape.ts';
import type { ParamDecl, ParamValues } from '../dsl/params.ts';
import { grad, vjp } from '../adjoint/vjp.ts';
import { formatGradientError, prepareGradient, type GradientBackend, type PreparedGradient, type SolverOptions } from '../adjoint/gradients/index.ts';
import { kernelEvaluator, type F64Program } from '../interp/evaluator.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { dopri5 } from '../solvers/index.ts';
import { predict } from '../train/predict.ts';
import { formatTrainError } from '../train/trainError.ts';
import { batch, block, countParams, head, stem, type HeadKind, type Image, type NetSizes } from './blocks.ts';

/** Which model of Table 1. */
export type ModelKind = 'resnet' | 'rknet' | 'odenet';
/** Every model kind, in the paper's order. */
export const modelKinds: readonly ModelKind[] = ['resnet', 'rknet', 'odenet'];

/** Sizes and solver of a model. */
export interface ClassifierOptions extends NetSizes {
  /** Side of the (square, one-channel) input images. */
  readonly side: number;
  /** Stride-2 convolutions of the stem (each halves the side). */
  readonly downsamplings: number;
  /** Global average pool (the paper's, default) or flatten before the linear layer. */
  readonly head?: HeadKind;
  /** Residual blocks of the ResNet (the paper: 6). */
  readonly resBlocks?: number;
  /** Solver of the ODE block (default dopri5, rtol = atol = 1e-3). */
  readonly solver?: SolverOptions;
  /** Where the ODE block's gradient runs (default float64 generated kernels; the stem, head and ResNet always do). */
  readonly on?: GradientBackend;
}

/** One loss and gradient evaluation on a minibatch. */
export interface StepOut {
  /** Mean softmax cross-entropy of the minibatch. */
  readonly loss: number;
  readonly grads: ParamValues;
  /** Batched evaluations of the ODE block's dynamics, forward and backward (0 for the ResNet). */
  readonly nfeForward: number;
  readonly nfeBackward: number;
}

/** A minibatch: NHWC images `[B, side, side, 1]` and one-hot labels `[B, 10]`. */
export interface Minibatch {
  readonly images: F64Tensor;
  readonly labels: F64Tensor;
}

/** A model with its gradient and its forward pass. */
export interface Classifier {
  readonly kind: ModelKind;
  readonly params: readonly ParamDecl[];
  readonly paramCount: number;
  /** The loss and ∂L/∂θ of a minibatch. */
  readonly step: (params: ParamValues, b: Minibatch) => E.Either<string, StepOut>;
  /** Logits `[B, 10]` of images `[B, side, side, 1]` and the forward evaluations used. */
  readonly logits: (params: ParamValues, images: F64Tensor) => E.Either<string, { readonly logits: F64Tensor; readonly nfe: number }>;
}

const run = (p: F64Program, env: Record<string, F64Tensor>, what: string): E.Either<string, readonly F64Tensor[]> =>
  E.mapLeft((m: string) => `${what}: ${m}`)(p(env));

const defaultSolver: SolverOptions = { method: dopri5, rtol: 1e-3, atol: 1e-3 };

/** The image and label variables shared by every model. */
const inputs = (side: number): { readonly x: Image; readonly y: X.Expr<readonly [typeof batch, 10]> } => ({
  x: X.input('image', [batch, side, side, 1] as const), y: X.input('labels', [batch, 10] as const),
});

/** The ODE block's dynamics on the stem's output shape. */
const odeBlock = (shape: Image['shape'], s: NetSizes): Dynamics => {
  const z = X.state('z', shape), t = X.time('t');
  const f = block('ode', z, s, t);
  return dynamics({ state: z, time: t, params: f.params, f: f.out });
};

/** The ODE block with the head + cross-entropy as the loss of its prediction at `ts = [0, T]`. */
export interface OdeBlockProblem {
  readonly dynamics: Dynamics;
  readonly loss: Loss;
  /** The head's parameters (those of the dynamics are `dynamics.params`). */
  readonly headParams: readonly ParamDecl[];
  /** Its forward pass on the prediction `zs` (`[2, batch, H, W, C]`), reading z(T). */
  readonly headLogits: X.Expr<readonly [Dim, 10]>;
}

/**
 * The ODE block on feature maps of `shape` and the head's loss of z(T): what the ODE-Net and the
 * RK-Net differentiate, and what `memory.ts` measures.
 * @example odeBlockProblem([batch, 7, 7, 8], { channels: 8, groups: 4 }).dynamics.params.length // 10
 */
export const odeBlockProblem = (shape: Image['shape'], o: NetSizes & { readonly head?: HeadKind }): OdeBlockProblem => {
  const y = X.input('labels', [batch, 10] as const);
  const dyn = odeBlock(shape, o);
  // The prediction at ts = [0, T] is [2, batch, H, W, C]; the head reads z(T).
  const zs = X.input('zs', [2, ...shape] as const);
  const zT = X.reshape(X.slice(zs, [1, 0, 0, 0, 0], [1, ...shape]), shape);
  const hd = head(zT, o, o.head);
  const loss = makeLoss({ prediction: zs, params: hd.params, value: softmaxCrossEntropy(hd.out, y) });
  if (E.isLeft(loss)) throw new Error(`bug: ODE-Net loss: ${loss.left}`);
  return { dynamics: dyn, loss: loss.right, headParams: hd.params, headLogits: hd.out };
};

const continuous = (kind: 'odenet' | 'rknet', o: ClassifierOptions): Classifier => {
  const { x } = inputs(o.side);
  const st = stem(x, o, o.downsamplings);
  const shape = st.out.shape;
  const blockProblem = odeBlockProblem(shape, o);
  const dyn = blockProblem.dynamics;
  const hd = { params: blockProblem.headParams, out: blockProblem.headLogits };
  const on = o.on === undefined ? {} : { on: o.on };
  const g = prepareGradient({ dynamics: dyn, loss: blockProblem.loss }, kind === 'odenet' ? { method: 'adjoint', seminorm: true, ...on } : { method: 'backprop', ...on });
  if (E.isLeft(g)) throw new Error(`bug: ODE-Net gradient: ${formatGradientError(g.left)}`);
  const prepared: PreparedGradient = g.right;
  const ct = X.input('ct_z0', shape);
  const stemForward = kernelEvaluator([st.out.node]);
  const stemVjp = kernelEvaluator(vjp([st.out.node], [ct.node], st.params.map((p) => p.expr.node)));
  const headForward = kernelEvaluator([hd.out.node]);
  const params = [...st.params, ...dyn.params, ...hd.params];
  const solver = o.solver ?? defaultSolver;
  const z0Of = (params: ParamValues, images: F64Tensor): E.Either<string, F64Tensor> =>
    E.map((r: readonly F64Tensor[]) => r[0] as F64Tensor)(run(stemForward, { ...params, image: images }, 'stem'));
  const model = makeModel({ name: kind, dynamics: dyn, values: Object.fromEntries(dyn.params.map((p) => [p.name, { shape: p.shape, data: new Float64Array(p.shape.reduce((a, b) => a * b, 1)) }])) });
  if (E.isLeft(model)) throw new Error(`bug: ODE-Net model: ${model.left}`);
  return {
    kind, params, paramCount: countParams(params),
    step: (params, b) => {
      const z0 = z0Of(params, b.images);
      if (E.isLeft(z0)) return z0;
      const r = prepared({ params, z0: z0.right, ts: [0, 1], lossInputs: { labels: b.labels }, solver });
      if (E.isLeft(r)) return E.left(formatGradientError(r.left));
      const sg = run(stemVjp, { ...params, image: b.images, ct_z0: r.right.dz0 }, 'stem VJP');
      if (E.isLeft(sg)) return sg;
      const grads: Record<string, F64Tensor> = {};
      for (const p of [...dyn.params, ...hd.params]) grads[p.name] = r.right.dparams[p.name] as F64Tensor;
      st.params.forEach((p, i) => { grads[p.name] = sg.right[i] as F64Tensor; });
      return E.right({ loss: r.right.loss, grads, nfeForward: r.right.stats.nfeForward, nfeBackward: r.right.stats.nfeBackward });
    },
    logits: (params, images) => {
      const z0 = z0Of(params, images);
      if (E.isLeft(z0)) return z0;
      const p = predict(model.right, params, z0.right, [0, 1], { method: solver.method, rtol: solver.rtol ?? 1e-6, atol: solver.atol ?? 1e-9 });
      if (E.isLeft(p)) return E.left(`ODE block: ${formatTrainError(p.left)}`);
      return E.map((r: readonly F64Tensor[]) => ({ logits: r[0] as F64Tensor, nfe: p.right.nfe }))(
        run(headForward, { ...params, zs: p.right.trajectory }, 'head'));
    },
  };
};

const residual = (o: ClassifierOptions): Classifier => {
  const { x, y } = inputs(o.side);
  const st = stem(x, o, o.downsamplings);
  const blocks: ParamDecl[] = [];
  let h = st.out;
  for (let i = 1; i <= (o.resBlocks ?? 6); i++) {
    const b = block(`res${i}`, h, o);
    blocks.push(...b.params);
    h = X.withShape(X.add(h, b.out), h.shape);
  }
  const hd = head(h, o, o.head);
  const value = softmaxCrossEntropy(hd.out, y);
  const params = [...st.params, ...blocks, ...hd.params];
  const grads = grad(value.node, params.map((p) => p.expr.node));
  const withGrad = kernelEvaluator([value.node, ...grads]);
  const forward = kernelEvaluator([hd.out.node]);
  return {
    kind: 'resnet', params, paramCount: countParams(params),
    step: (values, b) => E.map((r: readonly F64Tensor[]) => ({
      loss: (r[0] as F64Tensor).data[0] as number,
      grads: Object.fromEntries(params.map((p, i) => [p.name, r[i + 1] as F64Tensor])),
      nfeForward: 0, nfeBackward: 0,
    }))(run(withGrad, { ...values, image: b.images, labels: b.labels }, 'ResNet')),
    logits: (values, images) => E.map((r: readonly F64Tensor[]) => ({ logits: r[0] as F64Tensor, nfe: 0 }))(run(forward, { ...values, image: images }, 'ResNet')),
  };
};

/**
 * Builds one of the three models (compiling its programs).
 * @example const m = classifier('odenet', { side: 14, channels: 8, groups: 4, downsamplings: 1 }); m.paramCount // 2594
 */
export const classifier = (kind: ModelKind, o: ClassifierOptions): Classifier =>
  kind === 'resnet' ? residual(o) : continuous(kind, o);
