/**
 * The initial step-size heuristic of Hairer–Nørsett–Wanner I, §II.4 (p. 169), vectorised over
 * groups (one group for a shared step, one per trajectory for per-trajectory control).
 */

/** What the heuristic needs from the caller: weighted norms and one extra evaluation. */
export interface InitialStepProblem<V> {
  readonly y0: V;
  readonly f0: V;
  /** Method order p (the heuristic aims at a local error ≈ 0.01 ⇒ h ∝ (0.01/‖f'‖)^(1/(p+1))). */
  readonly order: number;
  /** Weighted norm of `x` per group, with `sk = atol + rtol·|y0|`. */
  readonly norms: (x: V) => Float64Array;
  /** `y0 + dir·h0[g]·f0` per group. */
  readonly euler: (h0: Float64Array) => V;
  /** `f(t0 + dir·h0[g], y)` per group. */
  readonly feval: (h0: Float64Array, y: V) => V;
  /** `(f1 − f0)` as a state. */
  readonly diff: (f1: V, f0: V) => V;
  /** Frees states created here. */
  readonly release: (x: V) => void;
}

/**
 * Proposes a first step size |h| per group (positive numbers; the caller applies the direction and
 * clamps to the span and dtMax).
 * @example
 * const [h] = initialStep({ y0, f0, order: 5, norms, euler, feval, diff, release });
 */
export const initialStep = <V>(p: InitialStepProblem<V>): Float64Array => {
  const d0 = p.norms(p.y0);
  const d1 = p.norms(p.f0);
  const h0 = d0.map((a, g) => {
    const b = d1[g] as number;
    return a < 1e-5 || b < 1e-5 || !Number.isFinite(a / b) ? 1e-6 : 0.01 * (a / b);
  });
  const y1 = p.euler(h0);
  const f1 = p.feval(h0, y1);
  const df = p.diff(f1, p.f0);
  const d2 = p.norms(df).map((x, g) => x / (h0[g] as number));
  [y1, f1, df].forEach(p.release);
  return h0.map((h, g) => {
    const m = Math.max(d1[g] as number, d2[g] as number);
    const h1 = !(m > 1e-15) ? Math.max(1e-6, h * 1e-3) : Math.pow(0.01 / m, 1 / (p.order + 1));
    return Math.min(100 * h, h1);
  });
};
