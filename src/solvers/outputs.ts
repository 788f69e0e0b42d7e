/**
 * Collects the solution at requested output times from each accepted step's dense output, without
 * forcing steps onto those times. Handles one shared grid or one grid per trajectory (row b of
 * output k is the state at ts[b][k]).
 */
import type { OutputGrid } from './times.ts';
import type { Coef, VectorSpace } from './vectorSpace.ts';
import type { Ownership } from './ownership.ts';

/** Output collection for one solve. */
export interface OutputCollector<V> {
  /** Records outputs at exactly t0. */
  readonly start: (t0: number, y0: V) => void;
  /** True when some output time lies in (ta, tb] (in the direction of integration). */
  readonly pendingIn: (ta: number, tb: number) => boolean;
  /**
   * Records outputs in (ta, tb]: `yb` is the state at tb, `at(θ)` evaluates the step's dense
   * output as a new owned state (per-row θ allowed), `theta(t)` maps a time of the step to θ.
   */
  readonly step: (ta: number, tb: number, yb: V, at: (theta: Coef) => V, theta: (t: number) => number) => void;
  /** The filled outputs; releases any partially filled slot. */
  readonly finish: () => { readonly ts: readonly number[] | readonly (readonly number[])[]; readonly ys: readonly V[] };
  /** Releases everything (failure path). */
  readonly discard: () => void;
}

/**
 * A collector for the given output grid.
 * @example
 * const out = outputCollector(f64Space, mem, plan.out, plan.dir, selectRows);
 */
export const outputCollector = <V>(
  space: VectorSpace<V>,
  mem: Ownership<V>,
  grid: OutputGrid,
  dir: 1 | -1,
  selectRows: ((mask: Uint8Array, a: V, b: V) => V) | undefined,
): OutputCollector<V> => {
  const inStep = (v: number, ta: number, tb: number): boolean => dir * (v - ta) > 0 && dir * (v - tb) <= 0;
  switch (grid.kind) {
    case 'none':
      return {
        start: () => undefined,
        pendingIn: () => false,
        step: () => undefined,
        finish: () => ({ ts: [], ys: [] }),
        discard: () => undefined,
      };
    case 'shared': {
      const ts = grid.ts;
      const ys: V[] = [];
      return {
        start: (t0, y0) => {
          while (ys.length < ts.length && ts[ys.length] === t0) ys.push(mem.adopt(space.clone(y0)));
        },
        pendingIn: (ta, tb) => ys.length < ts.length && inStep(ts[ys.length] as number, ta, tb),
        step: (ta, tb, yb, at, theta) => {
          while (ys.length < ts.length && inStep(ts[ys.length] as number, ta, tb)) {
            const tk = ts[ys.length] as number;
            ys.push(tk === tb ? mem.adopt(space.clone(yb)) : at(theta(tk)));
          }
        },
        finish: () => ({ ts: ts.slice(0, ys.length), ys }),
        discard: () => ys.forEach(mem.release),
      };
    }
    case 'rows': {
      const rows = grid.ts;
      const B = rows.length;
      const T = rows[0]?.length ?? 0;
      const ptr = new Int32Array(B);
      const slots: (V | undefined)[] = new Array<V | undefined>(T).fill(undefined);
      const merge = (k: number, mask: Uint8Array, cand: V): void => {
        const prev = slots[k];
        if (prev === undefined || selectRows === undefined) {
          slots[k] = cand;
          return;
        }
        slots[k] = mem.adopt(selectRows(mask, cand, prev));
        mem.release(cand);
        mem.release(prev);
      };
      const pendingRows = (ta: number, tb: number): number[] => {
        const out: number[] = [];
        for (let b = 0; b < B; b++) {
          const k = ptr[b] as number;
          const row = rows[b] as readonly number[];
          if (k < T && inStep(row[k] as number, ta, tb)) out.push(b);
        }
        return out;
      };
      return {
        start: (t0, y0) => {
          const mask = new Uint8Array(B);
          let anyRow = false;
          for (let b = 0; b < B; b++) {
            if (T > 0 && (rows[b] as readonly number[])[0] === t0) {
              mask[b] = 1;
              ptr[b] = 1;
              anyRow = true;
            }
          }
          if (anyRow) merge(0, mask, mem.adopt(space.clone(y0)));
        },
        pendingIn: (ta, tb) => pendingRows(ta, tb).length > 0,
        step: (ta, tb, _yb, at, theta) => {
          for (let pending = pendingRows(ta, tb); pending.length > 0; pending = pendingRows(ta, tb)) {
            const k = Math.min(...pending.map((b) => ptr[b] as number));
            const mask = new Uint8Array(B);
            const th = new Float64Array(B);
            for (const b of pending) {
              if (ptr[b] !== k) continue;
              mask[b] = 1;
              th[b] = theta((rows[b] as readonly number[])[k] as number);
              ptr[b] = k + 1;
            }
            merge(k, mask, at(th));
          }
        },
        finish: () => {
          const done = B === 0 ? 0 : Math.min(...Array.from(ptr));
          slots.slice(done).forEach((s) => mem.release(s));
          return { ts: rows.map((r) => r.slice(0, done)), ys: slots.slice(0, done) as V[] };
        },
        discard: () => slots.forEach((s) => mem.release(s)),
      };
    }
  }
};
