/**
 * Loop nests for the WebAssembly emitter: byte addresses held in i32 pointer locals, and dims
 * merged as the JavaScript emitter merges them, walked with one pointer per stream.
 */
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
 * Dims merged as the JavaScript emitter merges them: unit dims dropped, contiguous runs fused.
 * @example levelsOf([256, 1, 64], [[64, 64, 1], [64, 64, 1]]) // [{ d: 16384, s: [1, 1] }]
 */
export const levelsOf = (dims: readonly number[], strides: readonly (readonly number[])[]): { d: number; s: number[] }[] => {
  const levels: { d: number; s: number[] }[] = [];
  for (let ax = 0; ax < dims.length; ax++) {
    const d = dims[ax] as number;
    if (d === 1) continue;
    const s = strides.map((st) => st[ax] as number);
    const prev = levels[levels.length - 1];
    if (prev !== undefined && prev.s.every((ps, k) => ps === (s[k] as number) * d)) {
      prev.d *= d;
      prev.s = s;
    } else levels.push({ d, s });
  }
  return levels;
};

/**
 * Loops over `levels`, handing `body` one pointer local per stream (pointing at the element).
 * @example walk(a, levelsOf([4, 3], [[3, 1]]), [p], ([q]) => { a.get(q); a.f64(0); a.store(0); }) // zero-fills 12 floats
 */
export const walk = (a: Asm, levels: readonly { d: number; s: readonly number[] }[], bases: readonly number[], body: (ptrs: readonly number[]) => void): void => {
  const rec = (lv: number, cur: readonly number[]): void => {
    const level = levels[lv];
    if (level === undefined) { body(cur); return; }
    const ps = cur.map((c) => a.pointer(c, 0));
    a.repeat(level.d, ps.map((p, k) => ({ local: p, bytes: (level.s[k] as number) * 8 })), () => rec(lv + 1, ps));
  };
  rec(0, bases);
};

