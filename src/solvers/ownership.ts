/**
 * Reference counting for states that must be freed explicitly (tensors). The solver adopts every
 * state it creates, retains states it stores (dense output, saved steps, outputs) and releases
 * them when done; a state is disposed when its count reaches zero. States the caller owns
 * (the initial state) are pinned and never disposed. For garbage-collected layouts (no
 * `space.dispose`) every operation is a no-op.
 */
import type { VectorSpace } from './vectorSpace.ts';

/** Ownership operations over states of one space. */
export interface Ownership<V> {
  /** Take ownership of a new state (or add a reference if it is already tracked). */
  readonly adopt: (x: V) => V;
  /** Add a reference. */
  readonly retain: (x: V) => V;
  /** Drop a reference; dispose at zero. */
  readonly release: (x: V | undefined) => void;
  /** Never dispose `x` (caller-owned). */
  readonly pin: (x: V) => V;
}

/**
 * Ownership tracking for a space.
 * @example
 * const mem = ownership(tfjsSpace);
 * const y = mem.adopt(tfjsSpace.linComb([1, h], [y0, k]));
 * mem.release(y); // disposed
 */
export const ownership = <V>(space: VectorSpace<V>): Ownership<V> => {
  const dispose = space.dispose;
  if (dispose === undefined) {
    const id = (x: V): V => x;
    return { adopt: id, retain: id, release: () => undefined, pin: id };
  }
  const counts = new Map<V, number>();
  const bump = (x: V, by: number): V => {
    counts.set(x, (counts.get(x) ?? 0) + by);
    return x;
  };
  return {
    adopt: (x) => bump(x, 1),
    retain: (x) => bump(x, 1),
    release: (x) => {
      if (x === undefined) return;
      const n = counts.get(x);
      if (n === undefined) return;
      if (n <= 1) {
        counts.delete(x);
        dispose(x);
      } else counts.set(x, n - 1);
    },
    pin: (x) => bump(x, Number.POSITIVE_INFINITY),
  };
};
