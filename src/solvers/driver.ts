/**
 * The shared-step integration loop: one step size for the whole batch (error norm over the whole
 * state), like torchdiffeq's odeint. Generic over the vector space and over the method (any
 * `Stepper`). Outputs come from dense output; stop and jump times are stepped onto exactly.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { ComponentRef, SolveError } from './errors.ts';
import type { DenseStep } from './denseOutput.ts';
import { denseStates, denseTerms } from './denseOutput.ts';
import type { EventHit, EventSpec } from './events.ts';
import { crossed, eventValues, illinois } from './events.ts';
import type { StepController } from './controller.ts';
import type { Ownership } from './ownership.ts';
import type { Solution } from './solution.ts';
import { denseEvaluator } from './solution.ts';
import type { StepEnv, Stepper } from './stepper.ts';
import type { TimePlan } from './times.ts';
import { outputCollector } from './outputs.ts';
import type { Coef } from './vectorSpace.ts';
import { isBatchedSpace } from './vectorSpace.ts';
import { initialStep } from './initialStep.ts';

/** Resolved options of the loop. */
export interface DriverConfig<V> {
  readonly controller: StepController;
  readonly fixed: boolean;
  readonly dt: number | undefined;
  readonly firstStep: number | undefined;
  readonly dtMin: number;
  readonly dtMax: number;
  readonly maxSteps: number;
  readonly saveSteps: boolean;
  readonly dense: boolean;
  readonly event: EventSpec<V> | undefined;
  /** Weighted norm with sk = atol + rtol·|y0| (initial step heuristic). */
  readonly norm0: (x: V, y0: V) => number;
}

const EPS = Number.EPSILON;

/**
 * Runs the loop. `nfe()` reads the evaluation counter the env's `f` increments.
 * @example
 * const r = runShared(env, mem, stepper, y0, plan, config, () => count);
 */
export const runShared = <V, C>(
  env: StepEnv<V>,
  mem: Ownership<V>,
  stepper: Stepper<V, C>,
  y0: V,
  plan: TimePlan,
  cfg: DriverConfig<V>,
  nfe: () => number,
): E.Either<SolveError, Solution<V>> => {
  const { space } = env;
  const { t0, t1, dir } = plan;
  const B = Math.max(1, space.batchOf(y0));
  const dim = space.size(y0) / B;
  const ref = (flat: number): ComponentRef => ({ row: Math.floor(flat / dim), index: flat % dim });
  const scoped = <T>(fn: () => T): T => (space.scoped === undefined ? fn() : space.scoped(fn));
  const selectRows = isBatchedSpace(space) ? space.selectRows : undefined;
  const out = outputCollector(space, mem, plan.out, dir, selectRows);
  const dense: DenseStep<V>[] = [];
  const savedTs: number[] = [];
  const savedYs: V[] = [];
  let accepted = 0, rejected = 0;
  mem.pin(y0);
  let y = y0;
  let tCur = t0;
  let k1: V | undefined;

  const cleanup = (): void => {
    out.discard();
    dense.forEach((d) => denseStates(d).forEach(mem.release));
    savedYs.forEach(mem.release);
    mem.release(k1);
    mem.release(y);
  };
  const fail = (e: SolveError): E.Either<SolveError, Solution<V>> => {
    cleanup();
    return E.left(e);
  };

  const bad0 = space.firstNonFinite(y0);
  if (bad0 >= 0) return fail({ _tag: 'NonFiniteState', t: t0, step: 0, component: ref(bad0), where: 'initial state' });
  k1 = env.f(t0, y0);
  const badF = space.firstNonFinite(k1);
  if (badF >= 0) return fail({ _tag: 'NonFiniteState', t: t0, step: 0, component: ref(badF), where: 'vector field' });
  out.start(t0, y0);
  if (cfg.saveSteps) {
    savedTs.push(t0);
    savedYs.push(mem.adopt(space.clone(y0)));
  }
  const ev = cfg.event;
  const evalG = (t: number, ys: V): Float64Array => Float64Array.from(eventValues(scoped(() => ev?.g(t, ys) ?? 0)));
  let gPrev = ev === undefined ? undefined : evalG(t0, y0);

  // Stops: stepTs and jumpTs; for fixed steps without dt, also every output time.
  const outTimes = plan.out.kind === 'none' ? [] : plan.out.kind === 'shared' ? plan.out.ts : plan.out.ts.flat();
  const stops =
    cfg.fixed && cfg.dt === undefined
      ? [...new Set([...plan.stops, ...outTimes.filter((v) => dir * (v - t0) > 0 && dir * (v - t1) < 0)])].sort((a, b) => dir * (a - b))
      : plan.stops;
  let stopIdx = 0;
  const span = Math.abs(t1 - t0);

  let hAbs: number;
  if (cfg.fixed) hAbs = cfg.dt ?? Number.POSITIVE_INFINITY;
  else if (cfg.firstStep !== undefined) hAbs = cfg.firstStep;
  else {
    const k = k1;
    const [h0] = initialStep({
      y0,
      f0: k,
      order: stepper.order,
      norms: (x) => Float64Array.of(cfg.norm0(x, y0)),
      euler: (h) => env.comb([1, dir * (h[0] as number)], [y0, k]),
      feval: (h, ys) => env.f(t0 + dir * (h[0] as number), ys),
      diff: (a, b) => env.comb([1, -1], [a, b]),
      release: env.release,
    });
    hAbs = Math.min(h0 as number, cfg.dtMax, span);
  }
  let ctrl = cfg.controller.init();
  let cache = stepper.emptyCache();
  let event: EventHit<V> | undefined;
  let lastNonFinite: { t: number; component: ComponentRef; where: 'state' | 'vector field' } | undefined;

  while (t0 !== t1 && dir * (t1 - tCur) > 0) {
    const t = tCur;
    if (accepted + rejected >= cfg.maxSteps) return fail({ _tag: 'MaxStepsReached', t, t1, steps: accepted + rejected });
    while (stopIdx < stops.length && dir * ((stops[stopIdx] as number) - t) <= 0) stopIdx++;
    const target = stopIdx < stops.length ? (stops[stopIdx] as number) : t1;
    const hProp = Math.min(hAbs, cfg.dtMax);
    const landing = Math.abs(target - t) <= hProp * 1.01;
    // A step onto a discontinuity ends one ulp before it, so every stage sees the left limit.
    const isJump = landing && plan.jumps.has(target);
    const tLand = isJump ? nextToward(target, t) : target;
    const hStep = landing ? tLand - t : dir * hProp;
    const tNew = landing ? tLand : t + hStep;
    const minStep = Math.max(cfg.dtMin, 16 * EPS * Math.abs(t), EPS * EPS * span);
    if (!cfg.fixed && !landing && (hProp < minStep || tNew === t)) {
      // One diagnostic attempt at this size tells which component limits the step.
      const probe = stepper.attempt(t, y, hStep, k1, cache).attempt;
      const worst = probe.worst();
      [probe.y1, ...probe.temps].forEach(env.release);
      if (probe.fNew !== undefined) env.release(probe.fNew);
      return fail(underflow(t, hProp * dir, cfg.dtMin, lastNonFinite, worst, accepted));
    }
    const r = stepper.attempt(t, y, hStep, k1, cache);
    cache = r.cache;
    const a = r.attempt;
    let fNew = a.fNew;
    let nonFinite: { component: ComponentRef; where: 'state' | 'vector field' } | undefined;
    let ok = a.singularRow === undefined && (cfg.fixed || a.errNorm <= 1);
    if (a.singularRow === undefined && (ok || Number.isNaN(a.errNorm) || a.errNorm === Number.POSITIVE_INFINITY)) {
      const bad = space.firstNonFinite(a.y1);
      if (bad >= 0) nonFinite = { component: ref(bad), where: 'state' };
      else if (ok) {
        fNew ??= env.f(tNew, a.y1);
        const badK = space.firstNonFinite(fNew);
        if (badK >= 0) nonFinite = { component: ref(badK), where: 'vector field' };
      }
      if (nonFinite !== undefined) ok = false;
    }
    if (!ok) {
      if (nonFinite !== undefined && cfg.fixed) {
        [a.y1, ...a.temps].forEach(env.release);
        if (fNew !== undefined) env.release(fNew);
        return fail({ _tag: 'NonFiniteState', t: tNew, step: accepted, component: nonFinite.component, where: nonFinite.where });
      }
      rejected++;
      const errForCtrl = nonFinite !== undefined || a.singularRow !== undefined ? Number.POSITIVE_INFINITY : a.errNorm;
      const d = cfg.controller.reject(ctrl, errForCtrl, stepper.controlOrder);
      ctrl = d.state;
      hAbs = Math.abs(hStep) * d.factor;
      lastNonFinite = nonFinite === undefined ? undefined : { t: tNew, ...nonFinite };
      let failure: SolveError | undefined;
      if (hAbs < minStep) {
        failure =
          a.singularRow !== undefined
            ? { _tag: 'SingularMatrix', t, dt: hStep, row: a.singularRow }
            : underflow(t, hAbs * dir, cfg.dtMin, lastNonFinite, a.worst(), accepted);
      }
      [a.y1, ...a.temps].forEach(env.release);
      if (fNew !== undefined) env.release(fNew);
      if (failure !== undefined) return fail(failure);
      continue;
    }
    accepted++;
    const f1 = fNew as V;
    const needDense = cfg.dense || ev !== undefined || out.pendingIn(t, tNew);
    const built = needDense ? a.dense(f1) : undefined;
    const step = built?.step;
    if (step !== undefined) denseStates(step).forEach(mem.retain);
    const at = (theta: Coef): V => {
      const [coeffs, xs] = denseTerms(step as DenseStep<V>, theta);
      return env.comb(coeffs, xs);
    };
    const thetaOf = (tt: number): number => (tt - t) / hStep;
    let tEnd = isJump ? target : tNew;
    let yEnd = a.y1;
    let gNew: Float64Array | undefined;
    if (ev !== undefined && gPrev !== undefined) {
      gNew = evalG(tNew, a.y1);
      const direction = ev.direction ?? 'either';
      let best: { theta: number; index: number } | undefined;
      const gp = gPrev;
      gNew.forEach((gn, m) => {
        const g0 = gp[m] as number;
        if (!crossed(g0, gn, direction)) return;
        const xtol = Math.max(4 * EPS, (ev.tTol ?? 4 * EPS * Math.max(Math.abs(t), Math.abs(tNew))) / Math.abs(hStep));
        const phi = (th: number): number => {
          const yy = at(th);
          const v = evalG(t + th * hStep, yy)[m] ?? Number.NaN;
          env.release(yy);
          return v;
        };
        const th = illinois(phi, 0, 1, g0, gn, xtol);
        if (best === undefined || th < best.theta) best = { theta: th, index: m };
      });
      const hit = best as { theta: number; index: number } | undefined;
      if (hit !== undefined) {
        tEnd = hit.theta >= 1 ? tEnd : t + hit.theta * hStep;
        yEnd = hit.theta >= 1 ? a.y1 : at(hit.theta);
        const before = gp[hit.index] as number;
        event = { t: tEnd, y: yEnd, index: hit.index, sign: before < 0 ? 1 : -1 };
      }
    }
    out.step(t, tEnd, yEnd, at, thetaOf);
    if (cfg.saveSteps) {
      savedTs.push(tEnd);
      savedYs.push(mem.retain(yEnd));
    }
    if (step !== undefined) {
      if (cfg.dense) dense.push(step);
      else denseStates(step).forEach(mem.release);
    }
    (built?.created ?? []).forEach(env.release);
    a.temps.forEach(env.release);
    // Advance.
    const d = cfg.controller.accept(ctrl, a.errNorm, stepper.controlOrder);
    ctrl = d.state;
    if (!cfg.fixed) hAbs = landing && Math.abs(hStep) < hProp ? Math.max(Math.abs(hStep) * d.factor, hProp) : Math.abs(hStep) * d.factor;
    mem.release(y);
    mem.release(k1);
    if (yEnd !== a.y1) env.release(a.y1);
    y = yEnd;
    k1 = f1;
    tCur = tEnd;
    gPrev = gNew;
    cache = stepper.emptyCache();
    if (event !== undefined) break;
    if (isJump) {
      // Discontinuity: restart from f on the far side (one ulp past the jump), no FSAL reuse.
      env.release(k1);
      k1 = env.f(nextToward(tEnd, tEnd + dir), y);
      const badK = space.firstNonFinite(k1);
      if (badK >= 0) return fail({ _tag: 'NonFiniteState', t: tEnd, step: accepted, component: ref(badK), where: 'vector field' });
    }
  }
  mem.release(k1);
  k1 = undefined;
  const filled = out.finish();
  const { njac, nlu } = stepper.counters();
  const tFinal = tCur;
  const yFinal = y;
  if (event !== undefined) mem.retain(event.y);
  let disposed = false;
  const sol: Solution<V> = {
    t0,
    t1: tFinal,
    ts: filled.ts,
    ys: filled.ys,
    yFinal,
    ...(cfg.saveSteps ? { steps: { ts: savedTs, ys: savedYs } } : {}),
    ...(event === undefined ? {} : { event }),
    stats: { nfe: nfe(), njac, nlu, accepted, rejected },
    evaluate: denseEvaluator(cfg.dense ? dense : undefined, t0, tFinal, (c, xs) => space.linComb(c as number[], xs), () => space.clone(y0)),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      cleanup();
      if (event !== undefined) mem.release(event.y);
    },
  };
  return E.right(sol);
};

const f64 = new Float64Array(1);
const bits = new BigInt64Array(f64.buffer);

/**
 * The float next to `x` in the direction of `toward` (IEEE nextafter).
 * @example
 * nextToward(1, 2) - 1; // 2.220446049250313e-16
 */
export const nextToward = (x: number, toward: number): number => {
  if (Number.isNaN(x) || Number.isNaN(toward) || x === toward) return x;
  if (x === 0) return toward > 0 ? Number.MIN_VALUE : -Number.MIN_VALUE;
  f64[0] = x;
  bits[0] = (bits[0] as bigint) + ((toward > x) === (x > 0) ? 1n : -1n);
  return f64[0] as number;
};

const underflow = (
  t: number,
  dt: number,
  dtMin: number,
  nonFinite: { t: number; component: ComponentRef; where: 'state' | 'vector field' } | undefined,
  worst: (ComponentRef & { readonly weightedError: number }) | undefined,
  step: number,
): SolveError =>
  nonFinite !== undefined
    ? { _tag: 'NonFiniteState', t: nonFinite.t, step, component: nonFinite.component, where: nonFinite.where }
    : { _tag: 'StepSizeUnderflow', t, dt, dtMin, ...(worst === undefined ? {} : { worst }) };
