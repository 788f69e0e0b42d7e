/**
 * The memory of Table 1, measured: what one gradient holds for its backward pass, as the
 * ResNet's depth L grows (O(L)), and as the ODE block's solver steps L̃ grow for backprop through
 * the solver (RK-Net, O(L̃)) and for the adjoint (ODE-Net, O(1)).
 *
 * The approach is `bench/memory.ts`'s: the gradient's float64 programs go through a sampling
 * evaluator that, every few evaluations, forces a full garbage collection (`--expose-gc`) and
 * reads the live heap plus array buffers, so the figure is memory the method retains, not garbage
 * not yet collected; the peak over the gradient minus the live memory just before it is the
 * growth reported. The ODE block's steps are forced up by a longer span `[0, T]` at a fixed
 * tolerance, as the bench does. The ResNet's gradient is one generated kernel whose temporaries
 * (every activation the backward pass reads) live in one arena allocated on first use and kept
 * with the program, so a sample after the call sees them.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as X from '../dsl/expr.ts';
import { softmaxCrossEntropy } from '../dsl/losses.ts';
import { initParams, type ParamDecl } from '../dsl/params.ts';
import { grad } from '../adjoint/vjp.ts';
import { formatGradientError, prepareGradient, type SolverOptions } from '../adjoint/gradients/index.ts';
import { liveSampler } from '../interp/liveMemory.ts';
import type { F64Tensor } from '../interp/tensor.ts';
import { draw, nextNormal, seedRng } from '../random/prng.ts';
import { batch, block, head, type HeadKind, type Image, type NetSizes } from './blocks.ts';
import { odeBlockProblem } from './models.ts';

export { liveSampler, type LiveSampler } from '../interp/liveMemory.ts';

/** Sizes of a measurement: feature maps `[batch, side, side, channels]` of a fixed seeded batch. */
export interface MemorySetting extends NetSizes {
  readonly side: number;
  readonly batch: number;
  readonly head?: HeadKind;
  readonly seed: number;
}

/** One ODE-block gradient: its method, span, steps and evaluations, and the memory it held. */
export interface OdeMemoryPoint {
  readonly method: 'adjoint' | 'backprop';
  readonly span: number;
  /** Forward solver steps (accepted + rejected): L̃. */
  readonly steps: number;
  readonly nfeForward: number;
  readonly nfeBackward: number;
  readonly growthMb: number;
}

/** One ResNet gradient: its depth and the memory it held. */
export interface ResNetMemoryPoint {
  readonly blocks: number;
  readonly growthMb: number;
}

const mb = (bytes: number): number => Math.round(bytes / 2 ** 20 * 100) / 100;

/** Seeded feature maps and one-hot labels of a setting. */
const fixedBatch = (o: MemorySetting): { readonly z0: F64Tensor; readonly labels: F64Tensor } => {
  const shape = [o.batch, o.side, o.side, o.channels];
  const n = shape.reduce((a, b) => a * b, 1);
  const labels = new Float64Array(o.batch * 10);
  for (let i = 0; i < o.batch; i++) labels[i * 10 + ((i * 7 + o.seed) % 10)] = 1;
  return { z0: { shape, data: draw(nextNormal, seedRng(o.seed, 'memory-z0'), n)[0] }, labels: { shape: [o.batch, 10], data: labels } };
};

/** The bytes of one feature map of the setting (one state of the ODE block). */
export const stateBytes = (o: MemorySetting): number => o.batch * o.side * o.side * o.channels * 8;

/**
 * The ODE block's gradient (head + cross-entropy of z(T) as the loss) by `adjoint` (seminorm, as
 * the ODE-Net trains) and by `backprop` (the RK-Net), for each span T: the forward steps it took
 * and the live memory it held. Needs a real `gc` (node --expose-gc). Each method is warmed up on
 * the shortest span first, so compiled kernels are not counted.
 * @example odeBlockMemory({ side: 7, channels: 8, groups: 4, batch: 64, seed: 0 }, [1, 2, 4], solver, globalThis.gc)
 * // right([{ method: 'adjoint', span: 1, steps: 5, growthMb: 0.9, … }, …, { method: 'backprop', span: 4, steps: 20, growthMb: 30, … }])
 */
export const odeBlockMemory = (
  o: MemorySetting, spans: readonly number[], solver: SolverOptions, gc: () => void,
): E.Either<string, readonly OdeMemoryPoint[]> => {
  const shape = [batch, o.side, o.side, o.channels] as const;
  const p = odeBlockProblem(shape, o);
  const params = initParams([...p.dynamics.params, ...p.headParams], o.seed);
  const { z0, labels } = fixedBatch(o);
  const points: OdeMemoryPoint[] = [];
  for (const method of ['adjoint', 'backprop'] as const) {
    const sampler = liveSampler(gc);
    const on = { backend: 'float64', evaluator: sampler.evaluator } as const;
    const g = prepareGradient({ dynamics: p.dynamics, loss: p.loss }, method === 'adjoint' ? { method, seminorm: true, on } : { method, on });
    if (E.isLeft(g)) return E.left(`${method}: ${formatGradientError(g.left)}`);
    const data = (span: number) => ({ params, z0, ts: [0, span], lossInputs: { labels }, solver });
    const warm = g.right(data(Math.min(...spans) / 4));
    if (E.isLeft(warm)) return E.left(`${method}: ${formatGradientError(warm.left)}`);
    for (const span of spans) {
      const { result: r, growthBytes } = sampler.measure(() => g.right(data(span)));
      if (E.isLeft(r)) return E.left(`${method}, span ${span}: ${formatGradientError(r.left)}`);
      const s = r.right.stats;
      points.push({ method, span, steps: s.acceptedForward + s.rejectedForward, nfeForward: s.nfeForward, nfeBackward: s.nfeBackward, growthMb: mb(growthBytes) });
    }
  }
  return E.right(points);
};

/**
 * The ResNet's gradient (residual blocks on the feature maps, then the head and cross-entropy; one
 * generated kernel of the loss and every parameter's gradient) for each depth: the live memory
 * held, chiefly the kernel's arena of activations. Needs a real `gc`.
 * @example resnetMemory({ side: 7, channels: 8, groups: 4, batch: 64, seed: 0 }, [1, 2, 4], globalThis.gc) // right([{ blocks: 1, growthMb: 9 }, …])
 */
export const resnetMemory = (o: MemorySetting, depths: readonly number[], gc: () => void): E.Either<string, readonly ResNetMemoryPoint[]> => {
  const { z0, labels } = fixedBatch(o);
  const points: ResNetMemoryPoint[] = [];
  for (const depth of depths) {
    const h0: Image = X.input('h0', [batch, o.side, o.side, o.channels] as const);
    let h = h0;
    const ps: ParamDecl[] = [];
    for (let i = 1; i <= depth; i++) {
      const b = block(`res${i}`, h, o);
      ps.push(...b.params);
      h = X.withShape(X.add(h, b.out), h.shape);
    }
    const hd = head(h, o, o.head);
    ps.push(...hd.params);
    const value = softmaxCrossEntropy(hd.out, X.input('labels', [batch, 10] as const));
    const roots = [value.node, ...grad(value.node, ps.map((p) => p.expr.node))];
    const env = { ...initParams(ps, o.seed), h0: z0, labels };
    const sampler = liveSampler(gc);
    const { result, growthBytes } = sampler.measure(() => {
      const program = sampler.evaluator(roots);
      return { program, out: program(env) };
    });
    if (E.isLeft(result.out)) return E.left(`ResNet, ${depth} blocks: ${result.out.left}`);
    points.push({ blocks: depth, growthMb: mb(growthBytes) });
  }
  return E.right(points);
};

/**
 * The least-squares slope of y on x (MB per step or per block).
 * @example slope([1, 2, 3], [2, 4, 6]) // 2
 */
export const slope = (x: readonly number[], y: readonly number[]): number => {
  const n = x.length, mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  x.forEach((xi, i) => {
    sxy += (xi - mx) * ((y[i] as number) - my);
    sxx += (xi - mx) ** 2;
  });
  return sxx === 0 ? 0 : sxy / sxx;
};
