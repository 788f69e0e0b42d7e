/**
 * Loop levels of a strided walk, shared by the JavaScript and WebAssembly emitters: unit dims
 * dropped, and adjacent dims merged when every stream walks them contiguously, so a contiguous
 * [256, 64] walk becomes one loop of 16,384.
 */

/** One loop: its trip count and each stream's stride (in elements) per iteration. */
export interface Level {
  d: number;
  s: number[];
}

/**
 * The merged levels of walking `dims`, one stride list per stream (outermost first).
 * @example levelsOf([256, 1, 64], [[64, 64, 1], [64, 64, 1]]) // [{ d: 16384, s: [1, 1] }]
 */
export const levelsOf = (dims: readonly number[], strides: readonly (readonly number[])[]): Level[] => {
  const levels: Level[] = [];
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
