/**
 * Terminating events: an event function g(t, y) (one value, or one per trajectory) stops the solve
 * at its first sign change, located on the dense output by the Illinois variant of regula falsi.
 */

/** Which sign changes count. */
export type EventDirection = 'rising' | 'falling' | 'either';

/** A terminating event. */
export interface EventSpec<V> {
  /** The event function: one value, or one value per trajectory of the batch. */
  readonly g: (t: number, y: V) => number | Float64Array;
  /** Only crossings from negative to positive (`rising`), the reverse, or both (default). */
  readonly direction?: EventDirection;
  /** Absolute tolerance on the event time (default: a few ulps of t). */
  readonly tTol?: number;
}

/** Where an event fired. */
export interface EventHit<V> {
  readonly t: number;
  readonly y: V;
  /** Which component of g changed sign (the trajectory, for per-trajectory g). */
  readonly index: number;
  /** +1 for a rising crossing, −1 for a falling one. */
  readonly sign: 1 | -1;
}

/**
 * The values of g as an array.
 * @example
 * eventValues(0.5); // Float64Array [0.5]
 */
export const eventValues = (v: number | Float64Array): Float64Array => (typeof v === 'number' ? Float64Array.of(v) : v);

/**
 * True when g went from `before` to `after` across zero in an accepted direction. A start exactly
 * at zero does not count (the event is not re-triggered where it was just located).
 * @example
 * crossed(-1, 2, 'rising'); // true
 * crossed(-1, 2, 'falling'); // false
 */
export const crossed = (before: number, after: number, direction: EventDirection): boolean => {
  if (before === 0 || Number.isNaN(before) || Number.isNaN(after)) return false;
  const rising = before < 0 && after >= 0;
  const falling = before > 0 && after <= 0;
  switch (direction) {
    case 'rising':
      return rising;
    case 'falling':
      return falling;
    case 'either':
      return rising || falling;
  }
};

/**
 * Finds a sign change of `fn` on [a, b] (fa, fb of opposite signs or fb = 0) by the Illinois
 * method; returns the bracket end on the far side of the root (where the sign has changed), to
 * within `xtol`.
 * @example
 * illinois((x) => x * x - 2, 0, 2, -2, 2, 1e-14); // ≈ 1.41421356237310 (from above)
 */
export const illinois = (fn: (x: number) => number, a0: number, b0: number, fa0: number, fb0: number, xtol: number): number => {
  let a = a0, b = b0, fa = fa0, fb = fb0;
  const signA = Math.sign(fa0);
  let side = 0;
  for (let iter = 0; iter < 200 && Math.abs(b - a) > xtol && fb !== 0; iter++) {
    let x = (a * fb - b * fa) / (fb - fa);
    if (!(x > Math.min(a, b) && x < Math.max(a, b))) x = 0.5 * (a + b);
    const fx = fn(x);
    if (!Number.isNaN(fx) && Math.sign(fx) === signA) {
      a = x;
      fa = fx;
      if (side === 1) fb /= 2;
      side = 1;
    } else {
      // On the far side of the root, at it, or where g is undefined (shrink towards a).
      b = x;
      fb = Number.isNaN(fx) ? fb : fx;
      if (side === -1) fa /= 2;
      side = -1;
      if (fx === 0) break;
    }
  }
  return b;
};
