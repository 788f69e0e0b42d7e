/**
 * The layers of the MNIST ODE-Net (Chen et al. 2018, §3 and torchdiffeq's `odenet_mnist`) as
 * expression builders over NHWC images whose batch is the named dim `batch`: a downsampling
 * stem, the block function (norm → ReLU → conv → norm → ReLU → conv → norm; with time as an extra
 * input channel for the ODE block, without it for the ResNet's residual blocks) and the
 * classifier head. Each builder returns its output and the parameters it declared.
 */
import * as X from '../dsl/expr.ts';
import { conv2d, conv2dTimeChannel, flatten, groupNorm, type Conv2dOptions } from '../dsl/conv.ts';
import { param, type ParamDecl } from '../dsl/params.ts';
import { sym, type Dim } from '../dsl/shape.ts';

/** The named batch dim of every image expression here. */
export const batch = sym('batch');
/** `[batch, H, W, C]`. */
export type Image = X.Expr<readonly [typeof batch, number, number, number]>;

/** An output and the parameters its layers declared. */
export interface Built<T> {
  readonly out: T;
  readonly params: readonly ParamDecl[];
}

/** Sizes shared by the layers. */
export interface NetSizes {
  /** Channels of the hidden feature maps (the paper: 64). */
  readonly channels: number;
  /** Groups of every group norm (the paper: min(32, channels)); must divide `channels`. */
  readonly groups: number;
}

type Filter = X.Expr<readonly [number, number, number, number]>;

/** A filter `[k, k, cin, cout]` and a bias `[cout]`, PyTorch's default init (U(±1/√fan-in)). */
const convParams = (name: string, k: number, cin: number, cout: number): { readonly w: Filter; readonly b: X.Expr<readonly [number]>; readonly params: readonly ParamDecl[] } => {
  const w = param(`${name}_W`, [k, k, cin, cout] as const, { kind: 'lecunUniform' });
  const b = param(`${name}_b`, [cout] as const, { kind: 'lecunUniform', fanIn: k * k * cin });
  return { w: w.expr, b: b.expr, params: [w, b] };
};

const withBias = (x: Image, b: X.Expr<readonly [number]>): Image => X.withShape(X.broadcastBinary('add', x, b), x.shape);

/**
 * A convolution with bias.
 * @example conv('stem1', x, 3, 16, { padding: 'same' }) // { out: [batch,H,W,16], params: [stem1_W, stem1_b] }
 */
export const conv = (name: string, x: Image, k: number, cout: number, opts: Conv2dOptions): Built<Image> => {
  const p = convParams(name, k, x.shape[3], cout);
  return { out: withBias(conv2d(x, p.w, opts), p.b), params: p.params };
};

/**
 * Group norm with a learned scale (init 1) and shift (init 0).
 * @example norm('n1', h, 4) // { out: h normalised, params: [n1_gamma, n1_beta] }
 */
export const norm = (name: string, x: Image, groups: number): Built<Image> => {
  const c = x.shape[3];
  const gamma = param(`${name}_gamma`, [c] as const, { kind: 'constant', value: 1 });
  const beta = param(`${name}_beta`, [c] as const, { kind: 'zeros' });
  return { out: groupNorm(x, groups, gamma.expr, beta.expr), params: [gamma, beta] };
};

const chain = <T>(steps: readonly ((x: T) => Built<T>)[], x0: T): Built<T> =>
  steps.reduce<Built<T>>((acc, f) => {
    const r = f(acc.out);
    return { out: r.out, params: [...acc.params, ...r.params] };
  }, { out: x0, params: [] });

const relu = (x: Image): Built<Image> => ({ out: X.relu(x) as Image, params: [] });

/**
 * The downsampling stem: conv 3×3 (1 → C), norm, ReLU, then `downsamplings` × (conv 4×4 stride 2
 * pad 1, norm, ReLU but the last), halving the side each time (the paper: two, 28 → 7).
 * @example stem(x /* [batch,14,14,1] *\/, { channels: 8, groups: 4 }, 1).out.shape // [batch,7,7,8]
 */
export const stem = (x: Image, s: NetSizes, downsamplings: number): Built<Image> => {
  const steps: ((h: Image) => Built<Image>)[] = [(h) => conv('stem0', h, 3, s.channels, { padding: 1 })];
  for (let i = 1; i <= downsamplings; i++) {
    steps.push((h) => norm(`stem${i - 1}n`, h, s.groups), relu, (h) => conv(`stem${i}`, h, 4, s.channels, { stride: 2, padding: 1 }));
  }
  return chain(steps, x);
};

/**
 * The block function: norm → ReLU → conv 3×3 → norm → ReLU → conv 3×3 → norm. With `t`, each
 * conv sees time as an extra input channel (the ODE block's `f(z, t)`); without, it is the
 * ResNet's residual branch.
 * @example block('ode', z, { channels: 8, groups: 4 }, t).out.shape // z.shape
 */
export const block = (name: string, z: Image, s: NetSizes, t?: X.Expr<readonly []>): Built<Image> => {
  const c = s.channels;
  const tconv = (k: number) => (h: Image): Built<Image> => {
    if (t === undefined) return conv(`${name}_conv${k}`, h, 3, c, { padding: 1 });
    const p = convParams(`${name}_conv${k}`, 3, h.shape[3] + 1, c);
    return { out: withBias(conv2dTimeChannel(h, t, p.w, { padding: 1 }), p.b), params: p.params };
  };
  return chain([
    (h) => norm(`${name}_n1`, h, s.groups), relu, tconv(1),
    (h) => norm(`${name}_n2`, h, s.groups), relu, tconv(2),
    (h) => norm(`${name}_n3`, h, s.groups),
  ], z);
};

/** How the head turns the feature map into features: global average pool (the paper) or flatten. */
export type HeadKind = 'pool' | 'flatten';

/**
 * The classifier head: norm, ReLU, then global average pool (`'pool'`, the paper's: C features) or
 * flatten (`'flatten'`: H·W·C features), and a linear layer to 10 logits.
 * @example head(h /* [batch,7,7,8] *\/, { channels: 8, groups: 4 }).out.shape // [batch,10]
 */
export const head = (h: Image, s: NetSizes, kind: HeadKind = 'pool'): Built<X.Expr<readonly [Dim, 10]>> => {
  const n = norm('head_n', h, s.groups);
  const [, hh, ww, c] = h.shape;
  const features = kind === 'pool' ? c : hh * ww * c;
  const a = X.relu(n.out) as Image;
  const pooled = kind === 'pool'
    ? X.withShape(X.meanAxes(a, [1, 2]), [batch, c] as const)
    : X.withShape(flatten(a), [batch, features] as const);
  const W = param('head_W', [features, 10] as const, { kind: 'lecunUniform' });
  const b = param('head_b', [10] as const, { kind: 'lecunUniform', fanIn: features });
  return { out: X.add(X.matmul(pooled, W.expr), b.expr), params: [...n.params, W, b] };
};

/**
 * The number of scalar parameters.
 * @example countParams([param('w', [3, 4], { kind: 'zeros' })]) // 12
 */
export const countParams = (ps: readonly ParamDecl[]): number => ps.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
