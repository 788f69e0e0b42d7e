/**
 * Optimizers on the float64 path as pure functions over plain data: a config (tagged union with
 * PyTorch's defaults), a state of plain numbers and Float64Arrays, and `step`, which returns new
 * parameters and a new state and never mutates its inputs.
 *
 * The update formulas and their operation order follow PyTorch's single-tensor CPU path
 * (`torch.optim.*`, `foreach=False`), per element, with `t` the step count after increment:
 *
 * - SGD:     g ← g + wd·p;  if μ ≠ 0: b ← (t = 1 ? g : μ·b + (1 − τ)·g),  d ← nesterov ? g + μ·b : b;
 *            p ← p + (−lr)·d
 * - Adam:    g ← g + wd·p;  m ← lerp(m, g, 1 − β₁);  v ← β₂·v + ((1 − β₂)·g)·g;
 *            denom ← √v / √(1 − β₂ᵗ) + ε   (ε added after the square root of v̂);
 *            p ← p + (−(lr / (1 − β₁ᵗ))·m) / denom
 * - AdamW:   p ← p·(1 − lr·wd) first (decoupled decay, no L2 term in g), then the Adam step.
 * - RMSprop: g ← g + wd·p;  s ← α·s + ((1 − α)·g)·g;  centered: ḡ ← lerp(ḡ, g, 1 − α), s̃ = s − ḡ·ḡ;
 *            a ← √s̃ + ε;  μ > 0: b ← μ·b + g / a, p ← p + (−lr)·b;  else p ← p + (−lr·g) / a
 *
 * `lerp(x, y, w)` is torch's scalar form: `x + w·(y − x)` when |w| < 0.5, else `y − (y − x)·(1 − w)`.
 * Results agree with torch bit for bit except where torch's vectorised kernels fuse a
 * multiply-add (its AVX lerp uses FMA) or where `pow` rounds differently: ulp-level differences.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { ParamValues } from '../dsl/params.ts';
import type { F64Tensor } from '../interp/tensor.ts';

/** SGD (`torch.optim.SGD`): defaults lr 1e-3, momentum 0, dampening 0, no Nesterov, wd 0. */
export interface SgdConfig {
  readonly kind: 'sgd';
  readonly lr?: number;
  readonly momentum?: number;
  readonly dampening?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
}

/** Adam (`torch.optim.Adam`): defaults lr 1e-3, betas [0.9, 0.999], eps 1e-8, L2 weight decay 0. */
export interface AdamConfig {
  readonly kind: 'adam';
  readonly lr?: number;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
  readonly weightDecay?: number;
}

/** AdamW (`torch.optim.AdamW`): as Adam, with decoupled weight decay (default 1e-2). */
export interface AdamWConfig {
  readonly kind: 'adamw';
  readonly lr?: number;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
  readonly weightDecay?: number;
}

/** RMSprop (`torch.optim.RMSprop`): defaults lr 1e-2, alpha 0.99, eps 1e-8, wd 0, momentum 0. */
export interface RmspropConfig {
  readonly kind: 'rmsprop';
  readonly lr?: number;
  readonly alpha?: number;
  readonly eps?: number;
  readonly weightDecay?: number;
  readonly momentum?: number;
  readonly centered?: boolean;
}

/** An optimizer and its hyperparameters; omitted fields take PyTorch's defaults. */
export type OptimizerConfig = SgdConfig | AdamConfig | AdamWConfig | RmspropConfig;
/** The optimizer names: `'sgd' | 'adam' | 'adamw' | 'rmsprop'`. */
export type OptimizerKind = OptimizerConfig['kind'];

/** One float64 buffer per parameter name, each as long as the parameter's data. */
export type Buffers = Readonly<Record<string, Float64Array>>;

/**
 * Optimizer state: plain numbers and Float64Arrays (the checkpoint codec writes it as JSON).
 * `step` counts completed steps. Buffers a config does not use (SGD/RMSprop momentum without
 * momentum, RMSprop `gradAvg` when not centered) are empty records.
 */
export type OptState =
  | { readonly kind: 'sgd'; readonly step: number; readonly momentumBuffer: Buffers }
  | { readonly kind: 'adam' | 'adamw'; readonly step: number; readonly expAvg: Buffers; readonly expAvgSq: Buffers }
  | {
    readonly kind: 'rmsprop';
    readonly step: number;
    readonly squareAvg: Buffers;
    readonly momentumBuffer: Buffers;
    readonly gradAvg: Buffers;
  };

/** New parameters and state after one step. */
export interface StepResult {
  readonly params: ParamValues;
  readonly state: OptState;
}

/** Why a step could not be taken. */
export type OptimizerError =
  | { readonly _tag: 'InvalidHyperparameter'; readonly name: string; readonly value: unknown; readonly reason: string }
  | { readonly _tag: 'KindMismatch'; readonly config: OptimizerKind; readonly state: OptimizerKind }
  | { readonly _tag: 'MissingGradient'; readonly param: string }
  | { readonly _tag: 'UnknownGradient'; readonly param: string }
  | { readonly _tag: 'SizeMismatch'; readonly param: string; readonly what: string; readonly expected: number; readonly actual: number }
  | { readonly _tag: 'MissingState'; readonly param: string; readonly buffer: string };

/**
 * A one-line description of an optimizer error.
 * @example formatOptimizerError({ _tag: 'MissingGradient', param: 'W1' }) // 'no gradient for parameter "W1"'
 */
export const formatOptimizerError = (e: OptimizerError): string => {
  switch (e._tag) {
    case 'InvalidHyperparameter': return `invalid ${e.name} ${JSON.stringify(e.value)}: ${e.reason}`;
    case 'KindMismatch': return `optimizer config is '${e.config}' but its state was made for '${e.state}'`;
    case 'MissingGradient': return `no gradient for parameter "${e.param}"`;
    case 'UnknownGradient': return `gradient for "${e.param}", which is not a parameter`;
    case 'SizeMismatch': return `${e.what} of "${e.param}" has ${e.actual} values, the parameter has ${e.expected}`;
    case 'MissingState': return `optimizer state has no ${e.buffer} for "${e.param}" (was the config changed after initOptimizer?)`;
  }
};

/** A config with every default filled in (what `resolveOptimizer` returns). */
export type ResolvedOptimizer =
  | Required<SgdConfig>
  | Required<AdamConfig>
  | Required<AdamWConfig>
  | Required<RmspropConfig>;

const bad = (name: string, value: unknown, reason: string): E.Either<OptimizerError, never> =>
  E.left({ _tag: 'InvalidHyperparameter', name, value, reason });

/** The first violated range check, as torch's constructors check them. */
const checkRanges = (checks: readonly (readonly [string, number, boolean, string])[]): E.Either<OptimizerError, void> => {
  for (const [name, v, ok, reason] of checks) if (!ok) return bad(name, v, reason);
  return E.right(undefined);
};
const nonNeg = (name: string, v: number): readonly [string, number, boolean, string] =>
  [name, v, Number.isFinite(v) && v >= 0, 'must be a finite number ≥ 0'];
const unit = (name: string, v: number): readonly [string, number, boolean, string] =>
  [name, v, v >= 0 && v < 1, 'must be in [0, 1)'];

/**
 * Fills in PyTorch's defaults and checks the ranges torch checks (lr, eps, weight decay,
 * momentum ≥ 0; betas in [0, 1); Nesterov needs momentum > 0 and zero dampening).
 * @example resolveOptimizer({ kind: 'adam' }) // right({ kind: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 })
 */
export const resolveOptimizer = (c: OptimizerConfig): E.Either<OptimizerError, ResolvedOptimizer> => {
  switch (c.kind) {
    case 'sgd': {
      const r = { kind: c.kind, lr: c.lr ?? 1e-3, momentum: c.momentum ?? 0, dampening: c.dampening ?? 0, nesterov: c.nesterov ?? false, weightDecay: c.weightDecay ?? 0 };
      const nest = !r.nesterov || (r.momentum > 0 && r.dampening === 0);
      return E.map(() => r)(checkRanges([nonNeg('lr', r.lr), nonNeg('momentum', r.momentum), nonNeg('dampening', r.dampening), nonNeg('weightDecay', r.weightDecay),
        ['nesterov', r.momentum, nest, 'Nesterov momentum needs momentum > 0 and dampening 0']]));
    }
    case 'adam':
    case 'adamw': {
      const [b1, b2] = c.betas ?? [0.9, 0.999];
      const r = { kind: c.kind, lr: c.lr ?? 1e-3, betas: [b1, b2] as const, eps: c.eps ?? 1e-8, weightDecay: c.weightDecay ?? (c.kind === 'adamw' ? 1e-2 : 0) };
      return E.map(() => r)(checkRanges([nonNeg('lr', r.lr), unit('betas[0]', b1), unit('betas[1]', b2), nonNeg('eps', r.eps), nonNeg('weightDecay', r.weightDecay)]));
    }
    case 'rmsprop': {
      const r = { kind: c.kind, lr: c.lr ?? 1e-2, alpha: c.alpha ?? 0.99, eps: c.eps ?? 1e-8, weightDecay: c.weightDecay ?? 0, momentum: c.momentum ?? 0, centered: c.centered ?? false };
      return E.map(() => r)(checkRanges([nonNeg('lr', r.lr), nonNeg('alpha', r.alpha), nonNeg('eps', r.eps), nonNeg('weightDecay', r.weightDecay), nonNeg('momentum', r.momentum)]));
    }
  }
};

/**
 * The config's learning rate (its `lr` or torch's default): the base rate for a schedule.
 * @example baseLr({ kind: 'rmsprop' }) // 0.01
 */
export const baseLr = (c: OptimizerConfig): number => c.lr ?? (c.kind === 'rmsprop' ? 1e-2 : 1e-3);

const zerosLike = (params: ParamValues): Buffers =>
  Object.fromEntries(Object.entries(params).map(([k, p]) => [k, new Float64Array(p.data.length)]));

/**
 * A fresh state: step 0 and zero buffers for the parameters (only the buffers the config uses).
 * @example const s0 = initOptimizer({ kind: 'adam' }, { w: f64([1, 2], [2]) }) // s0.step === 0
 */
export const initOptimizer = (c: OptimizerConfig, params: ParamValues): OptState => {
  switch (c.kind) {
    case 'sgd': return { kind: 'sgd', step: 0, momentumBuffer: (c.momentum ?? 0) !== 0 ? zerosLike(params) : {} };
    case 'adam':
    case 'adamw': return { kind: c.kind, step: 0, expAvg: zerosLike(params), expAvgSq: zerosLike(params) };
    case 'rmsprop': return {
      kind: 'rmsprop', step: 0, squareAvg: zerosLike(params),
      momentumBuffer: (c.momentum ?? 0) > 0 ? zerosLike(params) : {},
      gradAvg: c.centered === true ? zerosLike(params) : {},
    };
  }
};

/** The buffers of a state by name. */
const buffersOf = (s: OptState): Readonly<Record<string, Buffers>> => {
  switch (s.kind) {
    case 'sgd': return { momentumBuffer: s.momentumBuffer };
    case 'adam':
    case 'adamw': return { expAvg: s.expAvg, expAvgSq: s.expAvgSq };
    case 'rmsprop': return { squareAvg: s.squareAvg, momentumBuffer: s.momentumBuffer, gradAvg: s.gradAvg };
  }
};

/** A problem found by `stateIssues`, with the JSON path of the offending buffer. */
export interface StateIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * Checks a state against parameters: every buffer names a parameter and has its length; Adam's
 * moments and RMSprop's `squareAvg` cover every parameter; optional buffers are empty or complete.
 * Paths are relative to the state (`expAvg.W1`).
 * @example stateIssues(initOptimizer({ kind: 'adam' }, ps), ps) // []
 */
export const stateIssues = (s: OptState, params: ParamValues): readonly StateIssue[] => {
  const issues: StateIssue[] = [];
  if (!Number.isSafeInteger(s.step) || s.step < 0) issues.push({ path: 'step', message: `expected a step count (integer ≥ 0), got ${s.step}` });
  const required = new Set(['expAvg', 'expAvgSq', 'squareAvg']);
  const names = Object.keys(params);
  for (const [buffer, bufs] of Object.entries(buffersOf(s))) {
    for (const [name, b] of Object.entries(bufs)) {
      const p = params[name];
      if (p === undefined) issues.push({ path: `${buffer}.${name}`, message: `buffer for "${name}", which is not a parameter` });
      else if (b.length !== p.data.length) issues.push({ path: `${buffer}.${name}`, message: `has ${b.length} values, parameter "${name}" has ${p.data.length}` });
    }
    const present = Object.keys(bufs).length;
    if (required.has(buffer) || present > 0)
      for (const name of names)
        if (!Object.hasOwn(bufs, name)) issues.push({ path: buffer, message: `no buffer for parameter "${name}"` });
  }
  return issues;
};

/** Per-parameter inputs after the shared checks. */
interface Slot {
  readonly name: string;
  readonly p: F64Tensor;
  readonly g: Float64Array;
}

const slotsOf = (params: ParamValues, grads: ParamValues): E.Either<OptimizerError, readonly Slot[]> => {
  for (const name of Object.keys(grads)) if (!Object.hasOwn(params, name)) return E.left({ _tag: 'UnknownGradient', param: name });
  const slots: Slot[] = [];
  for (const [name, p] of Object.entries(params)) {
    const g = Object.hasOwn(grads, name) ? grads[name] : undefined;
    if (g === undefined) return E.left({ _tag: 'MissingGradient', param: name });
    if (g.data.length !== p.data.length) return E.left({ _tag: 'SizeMismatch', param: name, what: 'gradient', expected: p.data.length, actual: g.data.length });
    slots.push({ name, p, g: g.data });
  }
  return E.right(slots);
};

/** The buffer of `name`, checked; `undefined` data means "not in use". */
const bufferFor = (bufs: Buffers, buffer: string, s: Slot): E.Either<OptimizerError, Float64Array> => {
  const b = Object.hasOwn(bufs, s.name) ? bufs[s.name] : undefined;
  if (b === undefined) return E.left({ _tag: 'MissingState', param: s.name, buffer });
  return b.length === s.p.data.length ? E.right(b) : E.left({ _tag: 'SizeMismatch', param: s.name, what: buffer, expected: s.p.data.length, actual: b.length });
};

/** torch's scalar `lerp`. */
const lerp = (x: number, y: number, w: number): number => (Math.abs(w) < 0.5 ? x + w * (y - x) : y - (y - x) * (1 - w));

/** Outputs per parameter name (a Map, so any name is safe, `__proto__` included). */
type Out = Map<string, Float64Array>;
const record = (m: Out): Buffers => Object.fromEntries(m);

/**
 * One optimizer step at learning rate `lr` (from a schedule; `baseLr(config)` for a constant one).
 * Every parameter needs a gradient of its size. Returns new parameters (same shapes) and a new
 * state; the inputs are left untouched.
 * @example
 * const cfg = { kind: 'adam', lr: 0.1 } as const
 * const r = step(cfg, initOptimizer(cfg, { x: f64([1], [1]) }), { x: f64([1], [1]) }, { x: f64([2], [1]) }, 0.1)
 * // right: x ≈ 0.9 (Adam's first step moves each coordinate by lr·sign(g))
 */
export const step = (
  config: OptimizerConfig,
  state: OptState,
  params: ParamValues,
  grads: ParamValues,
  lr: number,
): E.Either<OptimizerError, StepResult> => {
  if (!(Number.isFinite(lr) && lr >= 0)) return bad('lr', lr, 'the step learning rate must be a finite number ≥ 0');
  if (config.kind !== state.kind) return E.left({ _tag: 'KindMismatch', config: config.kind, state: state.kind });
  const resolved = resolveOptimizer(config);
  if (E.isLeft(resolved)) return resolved;
  const slots = slotsOf(params, grads);
  if (E.isLeft(slots)) return slots;
  const c = resolved.right;
  const t = state.step + 1;
  const P: Out = new Map();
  const withParams = (st: OptState): StepResult => ({
    params: Object.fromEntries(slots.right.map((s) => [s.name, { shape: s.p.shape, data: P.get(s.name) as Float64Array }])),
    state: st,
  });
  switch (c.kind) {
    case 'sgd': {
      if (state.kind !== 'sgd') return E.left({ _tag: 'KindMismatch', config: c.kind, state: state.kind });
      const B: Out = new Map();
      const { momentum: mu, dampening, nesterov, weightDecay: wd } = c;
      for (const s of slots.right) {
        const buf = mu !== 0 ? bufferFor(state.momentumBuffer, 'momentumBuffer', s) : E.right(new Float64Array(0));
        if (E.isLeft(buf)) return buf;
        const p = s.p.data, n = p.length, out = new Float64Array(n), b = mu !== 0 ? new Float64Array(n) : undefined;
        for (let i = 0; i < n; i++) {
          const pi = p[i] as number;
          const g = wd !== 0 ? (s.g[i] as number) + wd * pi : (s.g[i] as number);
          let d = g;
          if (b !== undefined) {
            const bi = t === 1 ? g : (buf.right[i] as number) * mu + (1 - dampening) * g;
            b[i] = bi;
            d = nesterov ? g + mu * bi : bi;
          }
          out[i] = pi + -lr * d;
        }
        P.set(s.name, out);
        if (b !== undefined) B.set(s.name, b);
      }
      return E.right(withParams({ kind: 'sgd', step: t, momentumBuffer: mu !== 0 ? record(B) : state.momentumBuffer }));
    }
    case 'adam':
    case 'adamw': {
      if (state.kind !== 'adam' && state.kind !== 'adamw') return E.left({ _tag: 'KindMismatch', config: c.kind, state: state.kind });
      const M: Out = new Map(), V: Out = new Map();
      const [b1, b2] = c.betas;
      const { eps, weightDecay: wd } = c;
      const decoupled = c.kind === 'adamw';
      const decay = 1 - lr * wd;
      const stepSize = lr / (1 - b1 ** t);
      const bc2Sqrt = Math.sqrt(1 - b2 ** t);
      for (const s of slots.right) {
        const m0 = bufferFor(state.expAvg, 'expAvg', s);
        if (E.isLeft(m0)) return m0;
        const v0 = bufferFor(state.expAvgSq, 'expAvgSq', s);
        if (E.isLeft(v0)) return v0;
        const p = s.p.data, n = p.length, out = new Float64Array(n), m = new Float64Array(n), v = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          let pi = p[i] as number, g = s.g[i] as number;
          if (wd !== 0) {
            if (decoupled) pi = pi * decay;
            else g = g + wd * pi;
          }
          const mi = lerp(m0.right[i] as number, g, 1 - b1);
          const vi = (v0.right[i] as number) * b2 + (1 - b2) * g * g;
          m[i] = mi;
          v[i] = vi;
          out[i] = pi + (-stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
        }
        P.set(s.name, out);
        M.set(s.name, m);
        V.set(s.name, v);
      }
      return E.right(withParams({ kind: c.kind, step: t, expAvg: record(M), expAvgSq: record(V) }));
    }
    case 'rmsprop': {
      if (state.kind !== 'rmsprop') return E.left({ _tag: 'KindMismatch', config: c.kind, state: state.kind });
      const S: Out = new Map(), B: Out = new Map(), G: Out = new Map();
      const { alpha, eps, weightDecay: wd, momentum: mu, centered } = c;
      for (const s of slots.right) {
        const sq = bufferFor(state.squareAvg, 'squareAvg', s);
        if (E.isLeft(sq)) return sq;
        const mb = mu > 0 ? bufferFor(state.momentumBuffer, 'momentumBuffer', s) : E.right(new Float64Array(0));
        if (E.isLeft(mb)) return mb;
        const ga = centered ? bufferFor(state.gradAvg, 'gradAvg', s) : E.right(new Float64Array(0));
        if (E.isLeft(ga)) return ga;
        const p = s.p.data, n = p.length, out = new Float64Array(n), sa = new Float64Array(n);
        const b = mu > 0 ? new Float64Array(n) : undefined, gm = centered ? new Float64Array(n) : undefined;
        for (let i = 0; i < n; i++) {
          const pi = p[i] as number;
          const g = wd !== 0 ? (s.g[i] as number) + wd * pi : (s.g[i] as number);
          const si = (sq.right[i] as number) * alpha + (1 - alpha) * g * g;
          sa[i] = si;
          let avg: number;
          if (gm !== undefined) {
            const gi = lerp(ga.right[i] as number, g, 1 - alpha);
            gm[i] = gi;
            avg = Math.sqrt(si + -gi * gi) + eps;
          } else avg = Math.sqrt(si) + eps;
          if (b !== undefined) {
            const bi = (mb.right[i] as number) * mu + g / avg;
            b[i] = bi;
            out[i] = pi + -lr * bi;
          } else out[i] = pi + (-lr * g) / avg;
        }
        P.set(s.name, out);
        S.set(s.name, sa);
        if (b !== undefined) B.set(s.name, b);
        if (gm !== undefined) G.set(s.name, gm);
      }
      return E.right(withParams({
        kind: 'rmsprop', step: t, squareAvg: record(S),
        momentumBuffer: mu > 0 ? record(B) : state.momentumBuffer,
        gradAvg: centered ? record(G) : state.gradAvg,
      }));
    }
  }
};
