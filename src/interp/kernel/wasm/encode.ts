/**
 * The WebAssembly binary format, as far as the kernel generator needs it: LEB128 integers,
 * float64 literals, and a module of one imported memory, imported math functions, and
 * functions of type `() → ()` (one exported). Pure byte assembly, no knowledge of kernels.
 */

/** Value types, by their binary codes. */
export const valType = { i32: 0x7f, f64: 0x7c, v128: 0x7b } as const;
export type ValType = keyof typeof valType;

/**
 * A growable byte buffer with the writers the format needs. Written for cold code (kernels are
 * generated before the JIT has warmed up): no arrays per byte, no spreads.
 */
export interface ByteBuf {
  readonly byte: (b: number) => void;
  readonly u32: (n: number) => void;
  readonly s32: (n: number) => void;
  readonly f64: (x: number) => void;
  readonly append: (b: Uint8Array) => void;
  readonly length: () => number;
  /** A copy of the bytes written. */
  readonly bytes: () => Uint8Array;
}

const scratch = new DataView(new ArrayBuffer(8));

/**
 * An empty buffer.
 * @example const b = byteBuf(); b.u32(624485); b.bytes() // Uint8Array [0xe5, 0x8e, 0x26]
 */
export const byteBuf = (): ByteBuf => {
  let buf = new Uint8Array(1024);
  let n = 0;
  const room = (k: number): void => {
    if (n + k <= buf.length) return;
    const next = new Uint8Array(Math.max(buf.length * 2, n + k));
    next.set(buf.subarray(0, n));
    buf = next;
  };
  const b: ByteBuf = {
    byte: (x) => { room(1); buf[n++] = x; },
    u32: (x) => {
      if (!Number.isSafeInteger(x) || x < 0 || x > 0xffffffff) throw new Error(`bug: uleb of ${String(x)}`);
      room(5);
      let v = x;
      for (;;) {
        const low = v % 128;
        v = Math.floor(v / 128);
        if (v === 0) { buf[n++] = low; return; }
        buf[n++] = low | 0x80;
      }
    },
    s32: (x) => {
      if (!Number.isSafeInteger(x) || x < -(2 ** 31) || x >= 2 ** 31) throw new Error(`bug: sleb of ${String(x)}`);
      room(5);
      let v = x;
      for (;;) {
        const low = v & 0x7f;
        v >>= 7;
        if ((v === 0 && (low & 0x40) === 0) || (v === -1 && (low & 0x40) !== 0)) { buf[n++] = low; return; }
        buf[n++] = low | 0x80;
      }
    },
    f64: (x) => {
      room(8);
      scratch.setFloat64(0, x, true);
      for (let i = 0; i < 8; i++) buf[n++] = scratch.getUint8(i);
    },
    append: (src) => { room(src.length); buf.set(src, n); n += src.length; },
    length: () => n,
    bytes: () => buf.slice(0, n),
  };
  return b;
};

/** One defined function: its locals (in index order; no parameters) and body code. */
export interface FuncDef {
  readonly locals: readonly ValType[];
  /** Instructions, without the final `end`. */
  readonly code: Uint8Array;
}

/** An imported function of one or two float64 arguments returning a float64. */
export interface FuncImport {
  readonly name: string;
  readonly arity: 1 | 2;
}

const name = (out: ByteBuf, s: string): void => {
  const b = new TextEncoder().encode(s);
  out.u32(b.length);
  out.append(b);
};
const section = (out: ByteBuf, id: number, body: ByteBuf): void => {
  out.byte(id);
  out.u32(body.length());
  out.append(body.bytes());
};

/**
 * A module importing `env.mem` (a memory of at least `pages` 64 KiB pages) and the functions
 * `imports` (indices 0…), defining `funcs` (indices after the imports), and exporting the
 * function `exportIndex` as `run`.
 * @example module(1, [], [{ locals: [], code: new Uint8Array(0) }], 0) // a module whose `run` does nothing
 */
export const module = (pages: number, imports: readonly FuncImport[], funcs: readonly FuncDef[], exportIndex: number): Uint8Array => {
  const out = byteBuf();
  for (const b of [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) out.byte(b);
  // Types: 0 = () → (), 1 = (f64) → f64, 2 = (f64, f64) → f64.
  const types = byteBuf();
  for (const b of [3, 0x60, 0, 0, 0x60, 1, valType.f64, 1, valType.f64, 0x60, 2, valType.f64, valType.f64, 1, valType.f64]) types.byte(b);
  section(out, 1, types);
  const imps = byteBuf();
  imps.u32(imports.length + 1);
  name(imps, 'env'); name(imps, 'mem'); imps.byte(0x02); imps.byte(0x00); imps.u32(pages);
  for (const f of imports) { name(imps, 'env'); name(imps, f.name); imps.byte(0x00); imps.u32(f.arity); }
  section(out, 2, imps);
  const fns = byteBuf();
  fns.u32(funcs.length);
  for (let i = 0; i < funcs.length; i++) fns.byte(0);
  section(out, 3, fns);
  const exps = byteBuf();
  exps.u32(1); name(exps, 'run'); exps.byte(0x00); exps.u32(exportIndex);
  section(out, 7, exps);
  const code = byteBuf();
  code.u32(funcs.length);
  for (const f of funcs) {
    const body = byteBuf();
    // Locals as runs of one type.
    const runs: { t: ValType; count: number }[] = [];
    for (const t of f.locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last.t === t) last.count++;
      else runs.push({ t, count: 1 });
    }
    body.u32(runs.length);
    for (const r of runs) { body.u32(r.count); body.byte(valType[r.t]); }
    body.append(f.code);
    body.byte(0x0b);
    code.u32(body.length());
    code.append(body.bytes());
  }
  section(out, 10, code);
  return out.bytes();
};
