/**
 * Code generation: a placed tape becomes the body of a JavaScript factory
 * `(K, A, F) => function kernel(I, O) {...}` where `K` holds the constants, `A` is the arena, `F`
 * holds Fluxion's exp and tanh (`fastMath`), and
 * `I`/`O` are the input and output buffers. Every instruction becomes straight-line code or a
 * loop nest whose bounds, strides and offsets are integer literals; nothing from the model but
 * numbers reaches the source (see `js.ts`).
 */
import { sizeOf, stridesOf } from '../tensor.ts';
import type { Loc } from './alloc.ts';
import { ident, int, js, plus, type IdentPrefix, type Js } from './js.ts';
import { inlineUnary } from './inlineMath.ts';
import { levelsOf } from './levels.ts';
import { binaryJs, mathPrologue, template, unaryJs } from './jsOps.ts';
import type { AccumulateInstr, CopyInstr, Instr, MapInstr, MatmulInstr, ReduceInstr, Tape, ValueId } from './tape.ts';

/** A matmul with at most this inner size is unrolled over k; else with at most this many columns, over n. */
export const unrollLimit = 8;

/** An offset sequence over a loop nest: `base + Σ index·stride`. */
interface Stream {
  readonly base: Js;
  readonly strides: readonly number[];
}

const indent = (lines: readonly Js[]): Js[] => lines.map((l) => js`  ${l}`);

interface Ctx {
  readonly fresh: (p: IdentPrefix) => Js;
  readonly buf: (v: ValueId) => Js;
  readonly base: (v: ValueId) => number;
  /** Run-time offsets added to some values' bases (the current product of a batched matmul). */
  readonly shift?: ReadonlyMap<ValueId, Js>;
}

/**
 * Emits a loop nest over `dims`, handing `body` one offset expression per stream. Unit dims are
 * dropped and adjacent dims merged when every stream walks them contiguously; a zero dim emits
 * nothing. Offsets are built incrementally per level, so the innermost index costs one add.
 */
const nest = (ctx: Ctx, dims: readonly number[], streams: readonly Stream[], body: (offs: readonly Js[]) => Js[]): Js[] => {
  if (dims.some((d) => d === 0)) return [];
  const levels = levelsOf(dims, streams.map((st) => st.strides));
  const head: Js[][] = [];
  let cur = streams.map((st) => st.base);
  for (const [lv, { d, s }] of levels.entries()) {
    const i = ctx.fresh('i');
    const lines: Js[] = [js`for (let ${i} = 0; ${i} < ${d}; ${i}++) {`];
    const innermost = lv === levels.length - 1;
    cur = cur.map((c, k) => {
      const st = s[k] as number;
      if (st === 0) return c;
      const e = plus(c, st === 1 ? i : js`${i} * ${st}`);
      if (innermost) return e;
      const p = ctx.fresh('p');
      lines.push(js`  const ${p} = ${e};`);
      return p;
    });
    head.push(lines);
  }
  let out = body(cur);
  for (let lv = head.length - 1; lv >= 0; lv--) {
    const [open, ...decls] = head[lv] as [Js, ...Js[]];
    out = [open, ...decls, ...indent(out), js`}`];
  }
  return out;
};

const at = (ctx: Ctx, v: ValueId, off: Js): Js => js`${ctx.buf(v)}[${off}]`;
const baseOf = (ctx: Ctx, v: ValueId, extra = 0): Js => plus(int(ctx.base(v) + extra), ctx.shift?.get(v) ?? int(0));

const emitMap = (ctx: Ctx, ins: MapInstr): Js[] => {
  if (sizeOf(ins.dims) === 0) return [];
  const hoisted: Js[] = [];
  const names = ins.leaves.map(() => ctx.fresh('l'));
  const streams: Stream[] = [{ base: baseOf(ctx, ins.out), strides: stridesOf(ins.dims) }];
  const streamed: number[] = [];
  ins.leaves.forEach((l, i) => {
    if (l.strides.every((s) => s === 0)) hoisted.push(js`const ${names[i] as Js} = ${at(ctx, l.value, baseOf(ctx, l.value))};`);
    else {
      streams.push({ base: baseOf(ctx, l.value), strides: l.strides });
      streamed.push(i);
    }
  });
  return [...hoisted, ...nest(ctx, ins.dims, streams, (offs) => {
    const lines = streamed.map((li, k) =>
      js`const ${names[li] as Js} = ${at(ctx, (ins.leaves[li] as MapInstr['leaves'][number]).value, offs[k + 1] as Js)};`);
    const stepNames: Js[] = [];
    const operand = (o: MapInstr['steps'][number]['a']): Js =>
      (o.kind === 'leaf' ? names[o.index] : stepNames[o.index]) as Js;
    for (const st of ins.steps) {
      const e = ctx.fresh('e');
      const inline = st.kind === 'unary' && Object.hasOwn(inlineUnary, st.op) ? inlineUnary[st.op] : undefined;
      if (st.kind === 'unary' && inline !== undefined) lines.push(...inline(operand(st.a), e, () => ctx.fresh('x')));
      else {
        const expr = st.kind === 'unary'
          ? template(unaryJs, st.op)(operand(st.a))
          : template(binaryJs, st.op)(operand(st.a), operand(st.b));
        lines.push(js`const ${e} = ${expr};`);
      }
      stepNames.push(e);
    }
    lines.push(js`${at(ctx, ins.out, offs[0] as Js)} = ${stepNames[stepNames.length - 1] as Js};`);
    return lines;
  })];
};

/**
 * Matmul in one of four schedules, all summing over k in increasing order from 0 (so every
 * result equals the reference i-k-j loop bit for bit): small k unrolled into one expression per
 * output; small n, or small m, accumulated in registers; otherwise i-k-j accumulating into the
 * output row. Operands are read through their (row, column) strides, so transposes cost nothing.
 */
const emitMatmul = (ctx: Ctx, ins: MatmulInstr): Js[] => {
  const { m, k, n, x, y, out } = ins;
  const [xr0, xc] = ins.xStrides;
  const [yr0, yc] = ins.yStrides;
  const rows: Stream[] = [{ base: baseOf(ctx, x), strides: [xr0] }, { base: baseOf(ctx, out), strides: [n] }];
  if (k <= unrollLimit) {
    return nest(ctx, [m], rows, ([xr, or]) => {
      const as = Array.from({ length: k }, () => ctx.fresh('a'));
      const lines = as.map((a, p) => js`const ${a} = ${at(ctx, x, plus(xr as Js, int(p * xc)))};`);
      return [...lines, ...nest(ctx, [n], [{ base: or as Js, strides: [1] }, { base: baseOf(ctx, y), strides: [yc] }], ([o, yo]) => {
        let e = js`0`;
        as.forEach((a, p) => (e = js`${e} + ${a} * ${at(ctx, y, plus(yo as Js, int(p * yr0)))}`));
        return [js`${at(ctx, out, o as Js)} = ${e};`];
      })];
    });
  }
  if (n <= unrollLimit) {
    // Rows in pairs: 2·n independent accumulators hide the add latency; an odd last row alone.
    const block = (xrs: readonly Js[], ors: readonly Js[]): Js[] => {
      const ss = xrs.map(() => Array.from({ length: n }, () => ctx.fresh('s')));
      const inner = nest(ctx, [k], [{ base: int(0), strides: [xc] }, { base: baseOf(ctx, y), strides: [yr0] }], ([p, yo]) => {
        const as = xrs.map(() => ctx.fresh('a'));
        const ys = Array.from({ length: n }, () => ctx.fresh('v'));
        return [
          ...as.map((a, r) => js`const ${a} = ${at(ctx, x, plus(xrs[r] as Js, p as Js))};`),
          ...ys.map((v, j) => js`const ${v} = ${at(ctx, y, plus(yo as Js, int(j * yc)))};`),
          ...ss.flatMap((row, r) => row.map((s, j) => js`${s} = ${s} + ${as[r] as Js} * ${ys[j] as Js};`)),
        ];
      });
      return [...ss.flat().map((s) => js`let ${s} = 0;`), ...inner,
        ...ss.flatMap((row, r) => row.map((s, j) => js`${at(ctx, out, plus(ors[r] as Js, int(j)))} = ${s};`))];
    };
    const pairs = Math.floor(m / 2);
    const paired: Stream[] = [{ base: baseOf(ctx, x), strides: [2 * xr0] }, { base: baseOf(ctx, out), strides: [2 * n] }];
    const last = m % 2 === 1 ? block([baseOf(ctx, x, (m - 1) * xr0)], [baseOf(ctx, out, (m - 1) * n)]) : [];
    return [...nest(ctx, [pairs], paired, ([xr, or]) =>
      block([xr as Js, plus(xr as Js, int(xr0))], [or as Js, plus(or as Js, int(n))])), ...last];
  }
  if (m <= unrollLimit) {
    // Few rows (a parameter gradient xᵀ·g): one register per row, column by column.
    return nest(ctx, [n], [{ base: baseOf(ctx, y), strides: [yc] }, { base: baseOf(ctx, out), strides: [1] }], ([yj, oj]) => {
      const ss = Array.from({ length: m }, () => ctx.fresh('s'));
      const inner = nest(ctx, [k], [{ base: yj as Js, strides: [yr0] }, { base: baseOf(ctx, x), strides: [xc] }], ([yo, xo]) => {
        const v = ctx.fresh('v');
        return [js`const ${v} = ${at(ctx, y, yo as Js)};`,
          ...ss.map((s, r) => js`${s} = ${s} + ${at(ctx, x, plus(xo as Js, int(r * xr0)))} * ${v};`)];
      });
      return [...ss.map((s) => js`let ${s} = 0;`), ...inner, ...ss.map((s, r) => js`${at(ctx, out, plus(oj as Js, int(r * n)))} = ${s};`)];
    });
  }
  return nest(ctx, [m], rows, ([xr, or]) => [
    ...nest(ctx, [n], [{ base: or as Js, strides: [1] }], ([o]) => [js`${at(ctx, out, o as Js)} = 0;`]),
    ...nest(ctx, [k], [{ base: xr as Js, strides: [xc] }, { base: baseOf(ctx, y), strides: [yr0] }], ([xo, yr]) => {
      const a = ctx.fresh('a');
      return [js`const ${a} = ${at(ctx, x, xo as Js)};`,
        ...nest(ctx, [n], [{ base: or as Js, strides: [1] }, { base: yr as Js, strides: [yc] }], ([o, yo]) =>
          [js`${at(ctx, out, o as Js)} = ${at(ctx, out, o as Js)} + ${a} * ${at(ctx, y, yo as Js)};`])];
    }),
  ]);
};

/** Reductions, mirroring `reduceKernel`: each output sums its inputs in row-major order from 0. */
const emitReduce = (ctx: Ctx, ins: ReduceInstr): Js[] => {
  const outer: Stream[] = [{ base: baseOf(ctx, ins.out), strides: stridesOf(ins.keptDims) }, { base: baseOf(ctx, ins.x), strides: ins.keptStrides }];
  return nest(ctx, ins.keptDims, outer, ([o, xr]) => {
    const inner = (body: (xo: Js) => Js[]): Js[] =>
      nest(ctx, ins.redDims, [{ base: xr as Js, strides: ins.redStrides }], ([xo]) => body(xo as Js));
    const dst = at(ctx, ins.out, o as Js);
    const s = ctx.fresh('s');
    const sum = (): Js[] => [js`let ${s} = 0;`, ...inner((xo) => [js`${s} = ${s} + ${at(ctx, ins.x, xo)};`])];
    const rules: { readonly [K in ReduceInstr['op']]: () => Js[] } = {
      sum: () => [...sum(), js`${dst} = ${s};`],
      mean: () => [...sum(), js`${dst} = ${s} / ${ins.count};`],
      logsumexp: () => {
        const m = ctx.fresh('m'), f = ctx.fresh('f');
        return [
          js`let ${m} = -Infinity;`,
          ...inner((xo) => {
            const v = ctx.fresh('v');
            return [js`const ${v} = ${at(ctx, ins.x, xo)};`, js`if (!(${v} <= ${m})) ${m} = ${v};`];
          }),
          js`const ${f} = Nfin(${m});`,
          js`let ${s} = 0;`,
          ...inner((xo) => {
            const v = ctx.fresh('v');
            return [js`const ${v} = ${at(ctx, ins.x, xo)};`, js`${s} = ${s} + (${f} ? Mexp(${v} - ${m}) : ${v} === ${m} ? 1 : 0);`];
          }),
          js`${dst} = Nnan(${m}) ? NaN : ${m} === -Infinity ? -Infinity : ${m} + Mlog(${s});`,
        ];
      },
    };
    return template(rules, ins.op)();
  });
};

/**
 * A batched matmul: a loop over the products around one product's code, whose operand and output
 * bases are shifted by the loop's offsets.
 */
const emitBatchedMatmul = (ctx: Ctx, ins: MatmulInstr): Js[] =>
  nest(ctx, [ins.batch], [
    { base: int(0), strides: [ins.xStep] }, { base: int(0), strides: [ins.yStep] }, { base: int(0), strides: [ins.m * ins.n] },
  ], ([xs, ys, os]) => emitMatmul({ ...ctx, shift: new Map([[ins.x, xs as Js], [ins.y, ys as Js], [ins.out, os as Js]]) }, ins));

const emitCopy = (ctx: Ctx, ins: CopyInstr | AccumulateInstr): Js[] =>
  nest(ctx, ins.dims, [
    { base: baseOf(ctx, ins.out, ins.outBase), strides: ins.outStrides },
    { base: baseOf(ctx, ins.x, ins.xBase), strides: ins.xStrides },
  ], ([o, xo]) => [ins.kind === 'copy'
    ? js`${at(ctx, ins.out, o as Js)} = ${at(ctx, ins.x, xo as Js)};`
    : js`${at(ctx, ins.out, o as Js)} = ${at(ctx, ins.out, o as Js)} + ${at(ctx, ins.x, xo as Js)};`]);

const emitInstr = (ctx: Ctx, ins: Instr): Js[] => {
  switch (ins.kind) {
    case 'map': return emitMap(ctx, ins);
    case 'matmul': return ins.batch === 1 ? emitMatmul(ctx, ins) : emitBatchedMatmul(ctx, ins);
    case 'reduce': return emitReduce(ctx, ins);
    case 'copy':
    case 'accumulate': return emitCopy(ctx, ins);
  }
};

const bufName = (l: Loc): Js => {
  switch (l.space) {
    case 'arena': return js`A`;
    case 'const': return js`K`;
    case 'input': return ident('I', l.index);
    case 'output': return ident('O', l.index);
  }
};

/** Instructions are packed into functions of at most about this many lines, so V8 optimizes each. */
export const chunkLines = 400;

/**
 * The factory body for a placed tape: `new Function('K', 'A', 'F', source)` returns the kernel
 * (`F` is `fastMath`). Small
 * tapes become one function; large ones a sequence of chunk functions taking the buffers.
 * @example emitKernel(tape, allocate(tape).locs) // 'const Mexp = Math.exp, ...; return function kernel(I, O) {...}'
 */
export const emitKernel = (tape: Tape, locs: readonly Loc[]): string => {
  let counter = 0;
  const loc = (v: ValueId): Loc => {
    const l = locs[v];
    if (l === undefined) throw new Error('bug: kernel value without a location');
    return l;
  };
  const ctx: Ctx = {
    fresh: (p) => ident(p, counter++),
    buf: (v) => bufName(loc(v)),
    base: (v) => loc(v).base,
  };
  const chunks: Js[][] = [[]];
  for (const ins of tape.instrs) {
    const body = emitInstr(ctx, ins);
    let cur = chunks[chunks.length - 1] as Js[];
    if (cur.length > 0 && cur.length + body.length > chunkLines) chunks.push((cur = []));
    for (const l of body) cur.push(l);
  }
  const bufs = [...tape.inputShapes.map((_, i) => ident('I', i)), ...tape.outputShapes.map((_, j) => ident('O', j))];
  const params = bufs.reduce((acc, b) => (acc === '' ? b : js`${acc}, ${b}`), js``);
  const lines: Js[] = [mathPrologue];
  const names = chunks.length === 1 ? [] : chunks.map(() => ctx.fresh('c'));
  names.forEach((c, i) => lines.push(js`function ${c}(${params}) {`, ...indent(chunks[i] as Js[]), js`}`));
  lines.push(js`return function kernel(I, O) {`);
  tape.inputShapes.forEach((_, i) => lines.push(js`  const ${ident('I', i)} = I[${i}];`));
  tape.outputShapes.forEach((_, j) => lines.push(js`  const ${ident('O', j)} = O[${j}];`));
  if (chunks.length === 1) lines.push(...indent(chunks[0] as Js[]));
  else for (const c of names) lines.push(js`  ${c}(${params});`);
  lines.push(js`};`);
  return lines.join('\n');
};
