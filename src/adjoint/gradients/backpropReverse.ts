/**
 * The reverse pass of float64 backprop over the recorded steps, last to first: the cotangents of
 * the outputs inside each step (through the dense output or the cubic Hermite interpolant),
 * y₁ = y₀ + hΣbᵢkᵢ, then the stages in reverse with one VJP of f each; step sizes are constants,
 * their time sensitivities go to the grid ends (`toGrid`). Leaves ∂L/∂z₀ in `r.ybar` and adds
 * ∂L/∂tᵢ into `dts`.
 */
import type { Poly } from '../../solvers/polynomial.ts';
import { polyEval } from '../../solvers/polynomial.ts';
import { axpy, combine, dot, type Coeffs, type Runner, type Step } from './backpropTape.ts';

/** What the reverse pass reads and writes. */
export interface ReverseInputs {
  readonly r: Runner;
  /** Recorded steps and state size. */
  readonly N: number;
  readonly n: number;
  /** Observation times, the span's end and its direction (±1). */
  readonly ts: readonly number[];
  readonly tEnd: number;
  readonly dir: number;
  /** ∂L/∂prediction, [T, n]. */
  readonly gPred: Float64Array;
  /** Step j's full record. */
  readonly stepAt: (j: number) => Step;
  /** VJP of f at (t, y) with cotangent k̄: −Ȳ into `mZ`, θ̄ accumulated; returns k̄ᵀ∂f/∂t. */
  readonly stageVjp: (tv: number, y: Float64Array, kb: Float64Array, acts: readonly Float64Array[] | undefined) => number;
  readonly mZ: Float64Array;
  /** Sends a cotangent on grid time s to t₀ and t_end. */
  readonly toGrid: (sv: number, c: number) => void;
  readonly dts: Float64Array;
}

/**
 * Runs the reverse pass (see the module comment).
 * @example reverseSweep({ r, N, n, ts, tEnd, dir: 1, gPred, stepAt, stageVjp, mZ, toGrid, dts }); r.ybar // ∂L/∂z₀
 */
export const reverseSweep = (x: ReverseInputs): void => {
  const { r, N, n, ts, tEnd, dir, gPred, stepAt, stageVjp, mZ, toGrid, dts } = x;
  const co = r.co, st = co.s;
  const ybar = r.ybar, acc = r.acc, kbar = r.kbar, touched = r.touched, stage = r.stage, tmp = r.tmp;
  let obs = ts.length - 1;
  for (let j = N - 1; j >= 0; j--) {
    const step = stepAt(j);
    const t0 = r.ts[j] as number, h = r.hs[j] as number;
    const tNew = j + 1 < N ? (r.ts[j + 1] as number) : tEnd;
    const ks = step.ks;
    touched.fill(0);
    acc.fill(0);
    let tbar = 0, hbar = 0, f1Touched = false;
    // Outputs inside the step: ∂/∂y₀, ∂/∂kᵢ (or y₁, f₀, f₁), and the time derivatives.
    while (obs >= 1 && dir * ((ts[obs] as number) - t0) > 0) {
      const g = gPred.subarray(obs * n, (obs + 1) * n);
      const tk = ts[obs] as number;
      if (tk === tNew) axpy(ybar, 1, g, n);
      else {
        const th = (tk - t0) / h;
        let dyth = 0, dyh = 0;
        if (co.polys !== undefined && co.dpolys !== undefined) {
          axpy(acc, 1, g, n);
          for (let i = 0; i < st; i++) {
            const pi = polyEval(co.polys[i] as Poly, th);
            if (pi !== 0) {
              if (touched[i] === 0) { (kbar[i] as Float64Array).fill(0); touched[i] = 1; }
              axpy(kbar[i] as Float64Array, h * pi, g, n);
            }
            const gk = dot(g, ks[i] as Float64Array, n);
            dyh += pi * gk;
            dyth += h * polyEval(co.dpolys[i] as Poly, th) * gk;
          }
        } else {
          const sv = th;
          const h00 = (1 + 2 * sv) * (1 - sv) * (1 - sv), h01 = sv * sv * (3 - 2 * sv);
          const h10 = sv * (1 - sv) * (1 - sv), h11 = sv * sv * (sv - 1);
          axpy(acc, h00, g, n);
          axpy(ybar, h01, g, n);
          if (touched[0] === 0) { (kbar[0] as Float64Array).fill(0); touched[0] = 1; }
          axpy(kbar[0] as Float64Array, h * h10, g, n);
          if (!f1Touched) { tmp.fill(0); f1Touched = true; }
          axpy(tmp, h * h11, g, n);
          const g0 = dot(g, step.y0, n), g1 = dot(g, step.y1, n), gf0 = dot(g, ks[0] as Float64Array, n), gf1 = dot(g, step.f1, n);
          dyh = h10 * gf0 + h11 * gf1;
          dyth = (6 * sv * sv - 6 * sv) * g0 + (6 * sv - 6 * sv * sv) * g1 + h * ((3 * sv * sv - 4 * sv + 1) * gf0 + (3 * sv * sv - 2 * sv) * gf1);
        }
        // y(tₖ) with θ = (tₖ − t)/h: ∂/∂tₖ = (∂y/∂θ)/h.
        const D = dyth / h;
        dts[obs] = (dts[obs] as number) + D;
        tbar -= D;
        hbar += dyh - th * D;
      }
      obs--;
    }
    // f₁ = f(t + h, y₁) read by the Hermite interpolant: the FSAL stage, else its own VJP.
    if (f1Touched) {
      if (co.fsal) {
        const kl = kbar[st - 1] as Float64Array;
        if (touched[st - 1] === 0) { kl.set(tmp); touched[st - 1] = 1; } else axpy(kl, 1, tmp, n);
      } else {
        toGrid(tNew, stageVjp(tNew, step.y1, tmp, step.saved ? step.acts[st] : undefined));
        axpy(ybar, -1, mZ, n);
      }
    }
    // y₁ = y₀ + hΣbᵢkᵢ.
    axpy(acc, 1, ybar, n);
    const bt = co.b;
    for (let q = 0; q < bt.idx.length; q++) {
      const i = bt.idx[q] as number, w = bt.w[q] as number;
      const kb = kbar[i] as Float64Array;
      if (touched[i] === 0) { kb.fill(0); touched[i] = 1; }
      axpy(kb, h * w, ybar, n);
      hbar += w * dot(ybar, ks[i] as Float64Array, n);
    }
    // Stages in reverse: Yᵢ = y₀ + hΣⱼ aᵢⱼkⱼ, kᵢ = f(t + cᵢh, Yᵢ).
    for (let i = st - 1; i >= 0; i--) {
      if (touched[i] === 0) continue;
      const row = co.rows[i] as Coeffs['b'];
      const ci = co.c[i] as number;
      let Y = step.y0;
      if (row.idx.length > 0) {
        combine(stage, n, step.y0, row, h, ks);
        Y = stage;
      }
      const tau = stageVjp(t0 + ci * h, Y, kbar[i] as Float64Array, step.saved ? step.acts[i] : undefined);
      tbar += tau;
      hbar += ci * tau;
      // Ȳᵢ = −mZ.
      axpy(acc, -1, mZ, n);
      for (let q = 0; q < row.idx.length; q++) {
        const l = row.idx[q] as number, w = row.w[q] as number;
        const kb = kbar[l] as Float64Array;
        if (touched[l] === 0) { kb.fill(0); touched[l] = 1; }
        axpy(kb, -h * w, mZ, n);
        hbar -= w * dot(mZ, ks[l] as Float64Array, n);
      }
    }
    // h = s_{j+1} − s_j.
    toGrid(t0, tbar - hbar);
    toGrid(tNew, hbar);
    ybar.set(acc);
  }
  // Outputs at t₀ (z₀ itself).
  while (obs >= 0) {
    axpy(ybar, 1, gPred.subarray(obs * n, (obs + 1) * n), n);
    obs--;
  }
};
