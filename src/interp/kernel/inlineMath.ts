/**
 * Inline expansions of exp and tanh for fused loops: the same arithmetic as `fastExp` and
 * `fastTanh` (`../fastMath.ts`), operation for operation, so results agree bit for bit, but
 * written into the loop body where V8 keeps everything in registers. Measured here, a call to
 * the same function from a generated loop was 3–4× slower than the inlined code (V8 did not
 * inline the branching callee). Rare inputs (NaN, ±Infinity, overflow, subnormal results, |x| ≥ 22
 * for tanh) still go to the functions.
 */
import type { UnaryOp } from '../../dsl/ops.ts';
import { js, type Js } from './js.ts';

/** Makes a fresh math temporary. */
export type Fresh = () => Js;

/**
 * Lines assigning e^y to the already declared `out`, for y known to lie in (−708, 709).
 * @example expLines(ident('l', 0), ident('e', 1), fresh) // ['const x0 = l0 * 184.66…', …, 'e1 = …;']
 */
const expLines = (y: Js, out: Js, fresh: Fresh): Js[] => {
  const kf = fresh(), k = fresh(), r = fresh(), r2 = fresh(), q = fresh(), j = fresh(), t = fresh();
  return [
    js`const ${kf} = ${y} * 184.6649652337873 + 6755399441055744 - 6755399441055744;`,
    js`const ${k} = ${kf} | 0;`,
    js`const ${r} = ${y} - ${kf} * 0.00541521234663378 - ${kf} * 1.4907929134926466e-12;`,
    js`const ${r2} = ${r} * ${r};`,
    js`const ${q} = ${r} + ${r2} * ((0.5 + ${r} * 0.16666666666666666) + ${r2} * (0.041666666666666664 + ${r} * 0.008333333333333333));`,
    js`const ${j} = (${k} & 127) << 1;`,
    js`const ${t} = Ftab[${j}];`,
    js`${out} = (${t} + (Ftab[${j} + 1] + ${t} * ${q})) * Fpow[(${k} >> 7) + 1074];`,
  ];
};

const indent = (lines: readonly Js[]): Js[] => lines.map((l) => js`  ${l}`);

/**
 * The ops with an inline expansion: lines that declare `out` and assign it `op(a)`.
 * @example inlineUnary.tanh?.(ident('l', 0), ident('e', 1), fresh)
 */
export const inlineUnary: { readonly [K in UnaryOp]?: (a: Js, out: Js, fresh: Fresh) => Js[] } = {
  exp: (a, out, fresh) => [
    js`let ${out};`,
    js`if (${a} > -708 && ${a} < 709) {`,
    ...indent(expLines(a, out, fresh)),
    js`} else ${out} = Fexp(${a});`,
  ],
  tanh: (a, out, fresh) => {
    const abs = fresh(), z = fresh(), z2 = fresh(), y = fresh(), e = fresh();
    return [
      js`const ${abs} = Mabs(${a});`,
      js`let ${out};`,
      js`if (${abs} < 0.85) {`,
      js`  const ${z} = ${a} * ${a};`,
      js`  const ${z2} = ${z} * ${z};`,
      js`  ${out} = ${a} === 0 ? ${a} : ${a} - ${a} * ((${z} * ((11486475 + ${z} * 810810) + ${z2} * (12870 + ${z} * 44))) / ((34459425 + ${z} * 16216200) + ${z2} * ((945945 + ${z} * 13860) + ${z2} * 45)));`,
      js`} else if (${abs} < 22) {`,
      js`  const ${y} = 2 * ${abs};`,
      js`  let ${e};`,
      ...indent(expLines(y, e, fresh)),
      js`  ${out} = (1 - 2 / (${e} + 1)) * (${a} / ${abs});`,
      js`} else ${out} = Ftanh(${a});`,
    ];
  },
};
