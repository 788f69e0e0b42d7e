/**
 * Loop nests for the WebAssembly emitter: byte addresses held in i32 pointer locals, and the
 * merged levels of `../levels.ts` walked with one pointer per stream.
 */
import type { Level } from '../levels.ts';
import type { Asm } from './asm.ts';

/** A run-time byte address: an optional i32 local plus a constant. */
export interface Addr {
  readonly local?: number;
  readonly bytes: number;
}

/**
 * A new pointer local holding `b`.
 * @example ptr(a, { bytes: 4096 }) // local set to 4096
 */
export const ptr = (a: Asm, b: Addr): number => a.pointer(b.local, b.bytes);

/**
 * Loops over `levels`, handing `body` one pointer local per stream (pointing at the element).
 * @example walk(a, levelsOf([4, 3], [[3, 1]]), [p], ([q]) => { a.get(q); a.f64(0); a.store(0); }) // zero-fills 12 floats
 */
export const walk = (a: Asm, levels: readonly Level[], bases: readonly number[], body: (ptrs: readonly number[]) => void): void => {
  const rec = (lv: number, cur: readonly number[]): void => {
    const level = levels[lv];
    if (level === undefined) { body(cur); return; }
    const ps = cur.map((c) => a.pointer(c, 0));
    a.repeat(level.d, ps.map((p, k) => ({ local: p, bytes: (level.s[k] as number) * 8 })), () => rec(lv + 1, ps));
  };
  rec(0, bases);
};

