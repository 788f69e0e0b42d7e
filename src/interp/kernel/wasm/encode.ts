/**
 * The WebAssembly binary format, as far as the kernel generator needs it: LEB128 integers,
 * float64 literals, and a module of one imported memory, imported math functions, and
 * functions of type `() → ()` (one exported). Pure byte assembly, no knowledge of kernels.
 */

/** Value types, by their binary codes. */
export const valType = { i32: 0x7f, f64: 0x7c, v128: 0x7b } as const;
export type ValType = keyof typeof valType;

/**
 * Unsigned LEB128.
 * @example uleb(624485) // [0xe5, 0x8e, 0x26]
 */
export const uleb = (n: number): number[] => {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`bug: uleb of ${String(n)}`);
  const out: number[] = [];
  let v = n;
  do {
    const b = v % 128;
    v = Math.floor(v / 128);
    out.push(v === 0 ? b : b | 0x80);
  } while (v !== 0);
  return out;
};

/**
 * Signed LEB128 of a 32-bit integer.
 * @example sleb(-123456) // [0xc0, 0xbb, 0x78]
 */
export const sleb = (n: number): number[] => {
  if (!Number.isSafeInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) throw new Error(`bug: sleb of ${String(n)}`);
  const out: number[] = [];
  let v = n;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
};

/**
 * The eight little-endian bytes of a float64.
 * @example f64Bytes(1) // [0, 0, 0, 0, 0, 0, 0xf0, 0x3f]
 */
export const f64Bytes = (x: number): number[] => {
  const b = new Uint8Array(new Float64Array([x]).buffer);
  return Array.from(b);
};

const vec = (items: readonly (readonly number[])[]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: readonly number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => {
  const b = Array.from(new TextEncoder().encode(s));
  return [...uleb(b.length), ...b];
};

/** One defined function: its extra locals (in index order after none parameters) and body code. */
export interface FuncDef {
  readonly locals: readonly ValType[];
  /** Instructions, without the final `end`. */
  readonly code: readonly number[];
}

/** An imported function of one or two float64 arguments returning a float64. */
export interface FuncImport {
  readonly name: string;
  readonly arity: 1 | 2;
}

/**
 * A module importing `env.mem` (a memory of at least `pages` 64 KiB pages) and the functions
 * `imports` (indices 0…), defining `funcs` (indices after the imports), and exporting the
 * function `exportIndex` as `run`.
 * @example module(1, [], [{ locals: [], code: [] }], 0) // a module whose `run` does nothing
 */
export const module = (pages: number, imports: readonly FuncImport[], funcs: readonly FuncDef[], exportIndex: number): Uint8Array => {
  // Types: 0 = () → (), 1 = (f64) → f64, 2 = (f64, f64) → f64.
  const types = section(1, vec([
    [0x60, 0, 0],
    [0x60, 1, valType.f64, 1, valType.f64],
    [0x60, 2, valType.f64, valType.f64, 1, valType.f64],
  ]));
  const imps = section(2, vec([
    [...name('env'), ...name('mem'), 0x02, 0x00, ...uleb(pages)],
    ...imports.map((f) => [...name('env'), ...name(f.name), 0x00, f.arity]),
  ]));
  const fns = section(3, vec(funcs.map(() => [0])));
  const exps = section(7, vec([[...name('run'), 0x00, ...uleb(exportIndex)]]));
  const bodies = funcs.map((f) => {
    const groups: number[][] = [];
    let prev: ValType | undefined;
    for (const t of f.locals) {
      const last = groups[groups.length - 1];
      if (t === prev && last !== undefined) last[0] = (last[0] as number) + 1;
      else groups.push([1, valType[t]]);
      prev = t;
    }
    const body = [...vec(groups.map(([c, t]) => [...uleb(c as number), t as number])), ...f.code, 0x0b];
    return [...uleb(body.length), ...body];
  });
  const code = section(10, vec(bodies));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imps, ...fns, ...exps, ...code]);
};
