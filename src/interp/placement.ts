/**
 * Automatic placement: whether a program's evaluations run on the generated kernel (float64, no
 * dispatch cost, one core; WebAssembly with SIMD or JavaScript) or on TensorFlow.js (float32, a fixed cost per op
 * dispatched, vectorised native code per element). A small cost model, with constants measured
 * on our 2-core machine (AMD EPYC, Node 20, tfjs-node 4.22 with TF_ENABLE_ONEDNN_OPTS=0; see
 * `bench/placement.ts`), predicts both times from the program's work at the actual sizes and its
 * op count, and the cheaper wins. The choice can be forced by an option or by `FLUXION_BACKEND`
 * (`kernel`, or any tfjs backend name, which means tfjs).
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import type { Node, VarNode } from '../dsl/node.ts';
import type { UnaryOp } from '../dsl/ops.ts';
import { lower } from './kernel/lower.ts';
import { defaultKernelTarget, type KernelTarget } from './kernel/target.ts';
import type { Instr } from './kernel/tape.ts';
import { sizeOf } from './tensor.ts';
import { topoOrder } from './traverse.ts';

/** Where evaluations run. */
export type Placement = 'kernel' | 'tfjs';

/** A requested placement: one of the two, or `auto` (the cost model decides). */
export type PlacementRequest = Placement | 'auto';

/** The decision and why. */
export interface PlacementChoice {
  readonly backend: Placement;
  readonly source: 'option' | 'env' | 'auto';
  /** Predicted µs per evaluation on each side (auto only). */
  readonly predicted?: { readonly kernelUs: number; readonly tfjsUs: number };
  /** The active tfjs backend when tfjs was considered. */
  readonly tfjsBackend?: string;
}

/**
 * What a program costs at the given sizes: kernel work (element operations, transcendental ones
 * weighted as four or ten), elementwise and contraction work as tfjs sees them (every element op one
 * unit; matmuls, reductions and copies), and the ops tfjs dispatches.
 */
export interface Workload {
  readonly work: number;
  readonly elementwise: number;
  readonly contraction: number;
  readonly ops: number;
}

/**
 * Kernel cost of a unary op in multiply-adds: Fluxion's own exp, tanh and sigmoid (`fastMath.ts`,
 * inlined, 3–5 ns) about four; the Math calls (log, log1p, sin, cos, and softplus's log1p,
 * 20–30 ns) about ten. Fitted on bench/placement.ts: 2.1 ns per multiply-add and 4.2 ns per tanh
 * under load (twice the quiet machine's times, the same ratio).
 */
const mathCall: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['log', 'log1p', 'sin', 'cos', 'softplus']);
const inlined: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['exp', 'tanh', 'sigmoid']);
const unaryWeight = (op: UnaryOp): number => (mathCall.has(op) ? 10 : inlined.has(op) ? 4 : 1);

const instrWork = (ins: Instr, weigh: boolean): number => {
  switch (ins.kind) {
    case 'map': return sizeOf(ins.dims) * ins.steps.reduce((a, s) => a + (weigh && s.kind === 'unary' ? unaryWeight(s.op) : 1), 0);
    case 'matmul': return ins.batch * ins.m * ins.k * ins.n;
    case 'reduce': return sizeOf(ins.keptDims) * ins.count;
    case 'copy':
    case 'accumulate': return sizeOf(ins.dims);
  }
};

/**
 * The workload of `roots` at `sizes` (from the kernel's tape, so fused and shared work counts once).
 * @example workload([f.node], [y.node, W.node], new Map([['batch', 256]])) // right({ work, ops })
 */
export const workload = (roots: readonly Node[], inputs: readonly VarNode[], sizes: ReadonlyMap<string, number>): E.Either<string, Workload> => {
  const tape = lower(roots, inputs, sizes);
  if (E.isLeft(tape)) return E.left(tape.left._tag);
  const ops = topoOrder(roots).filter((n) => n.kind !== 'var' && n.kind !== 'const' && n.kind !== 'reshape').length;
  const { instrs } = tape.right;
  const elementwise = instrs.filter((i) => i.kind === 'map').reduce((a, i) => a + instrWork(i, false), 0);
  return E.right({
    work: instrs.reduce((a, i) => a + instrWork(i, true), 0),
    elementwise,
    contraction: instrs.reduce((a, i) => a + instrWork(i, false), 0) - elementwise,
    ops,
  });
};

/** Cost constants of one tfjs backend: µs per op dispatched, ns per unit of each kind of work. */
interface TfjsCost {
  readonly perOpUs: number;
  readonly elementwiseNs: number;
  readonly contractionNs: number;
}

/**
 * Measured on our machine (bench/placement.ts, least squares over the spiral and scale fields and
 * adjoint systems at batch 1–4096): the kernel costs ~1.1 ns per unit of work as JavaScript and
 * ~0.25 ns as WebAssembly with SIMD (the default target); the native backend
 * ~20 µs per op dispatched plus ~0.7 ns per unit, wasm ~9 µs per op plus ~1.1 ns per unit (so it
 * never wins). The pure-JS `cpu` backend is never faster than the kernel and has no entry.
 */
export const costModel = {
  kernelNs: { js: 1.1, wasm: 0.25 } as Readonly<Record<KernelTarget, number>>,
  tfjs: {
    tensorflow: { perOpUs: 20, elementwiseNs: 0.3, contractionNs: 1.2 },
    'tensorflow-gpu': { perOpUs: 20, elementwiseNs: 0.3, contractionNs: 1.2 },
    wasm: { perOpUs: 9, elementwiseNs: 1.1, contractionNs: 1.1 },
  } as Readonly<Record<string, TfjsCost>>,
} as const;

/**
 * The placement request from the environment: `FLUXION_BACKEND=kernel` forces the kernel, a tfjs
 * backend name (`tensorflow`, `wasm`, …) forces tfjs, anything else or unset means `auto`.
 * @example placementFromEnv({ FLUXION_BACKEND: 'kernel' }) // 'kernel'
 */
export const placementFromEnv = (env: Readonly<Record<string, string | undefined>> = process.env): PlacementRequest => {
  const v = env['FLUXION_BACKEND'];
  if (v === 'kernel') return 'kernel';
  if (v === 'tensorflow' || v === 'tensorflow-gpu' || v === 'wasm' || v === 'cpu') return 'tfjs';
  return 'auto';
};

/**
 * Chooses where a program runs. An explicit `request` wins over `FLUXION_BACKEND`, which wins
 * over the cost model. Auto never picks tfjs when the active tfjs backend has no cost entry
 * (the pure-JS `cpu` backend, or no backend yet: call `selectBackend` first to enable it).
 * @example choosePlacement(load, { request: 'auto' }) // { backend: 'tfjs', source: 'auto', predicted: … } at batch 4096
 */
export const choosePlacement = (
  load: Workload,
  o: { readonly request?: PlacementRequest; readonly env?: Readonly<Record<string, string | undefined>>; readonly tfjsBackend?: string } = {},
): PlacementChoice => {
  if (o.request !== undefined && o.request !== 'auto') return { backend: o.request, source: 'option' };
  const fromEnv = placementFromEnv(o.env);
  if (o.request === undefined && fromEnv !== 'auto') return { backend: fromEnv, source: 'env' };
  const name = o.tfjsBackend ?? activeTfjsBackend();
  const target = defaultKernelTarget(o.env);
  const kernelUs = (costModel.kernelNs[E.isRight(target) ? target.right : 'js'] * load.work) / 1000;
  const c = name === undefined ? undefined : costModel.tfjs[name];
  if (c === undefined) return { backend: 'kernel', source: 'auto', predicted: { kernelUs, tfjsUs: Number.POSITIVE_INFINITY }, ...(name === undefined ? {} : { tfjsBackend: name }) };
  const tfjsUs = c.perOpUs * load.ops + (c.elementwiseNs * load.elementwise + c.contractionNs * load.contraction) / 1000;
  return { backend: tfjsUs < kernelUs ? 'tfjs' : 'kernel', source: 'auto', predicted: { kernelUs, tfjsUs }, ...(name === undefined ? {} : { tfjsBackend: name }) };
};

/** The active tfjs backend's Fluxion name, without initialising one. */
const activeTfjsBackend = (): string | undefined => {
  const names: Readonly<Record<string, string>> = { tensorflow: 'tensorflow', wasm: 'wasm', cpu: 'cpu', webgl: 'webgl' };
  // `tf.getBackend()` would initialise a backend; the engine's registry tells without side effects.
  const engine = tf.engine() as unknown as { readonly backendName?: string | null };
  const active = engine.backendName ?? undefined;
  return active === undefined || active === null ? undefined : names[active] ?? active;
};
