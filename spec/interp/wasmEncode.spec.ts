/**
 * The WebAssembly byte layer under the kernel generator: LEB128 and float64 encodings against
 * known byte sequences and round trips, and modules the engine validates and runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { asm, op } from '../../src/interp/kernel/wasm/asm.ts';
import { wasmApi, wasmSimdAvailable } from '../../src/interp/kernel/wasm/compileWasm.ts';
import { byteBuf, module } from '../../src/interp/kernel/wasm/encode.ts';

const bytesOf = (write: (b: ReturnType<typeof byteBuf>) => void): number[] => {
  const b = byteBuf();
  write(b);
  return Array.from(b.bytes());
};

/** Decodes an unsigned or signed LEB128 number from the start of `bs`. */
const decode = (bs: readonly number[], signed: boolean): number => {
  let v = 0, shift = 0, i = 0, byte = 0;
  do {
    byte = bs[i++] as number;
    v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  if (signed && byte & 0x40) v -= 2 ** shift;
  return v;
};

test('LEB128 and float64 encodings: known bytes', () => {
  assert.deepEqual(bytesOf((b) => b.u32(624485)), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(bytesOf((b) => b.u32(0)), [0]);
  assert.deepEqual(bytesOf((b) => b.u32(127)), [0x7f]);
  assert.deepEqual(bytesOf((b) => b.u32(128)), [0x80, 0x01]);
  assert.deepEqual(bytesOf((b) => b.s32(-123456)), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(bytesOf((b) => b.s32(-1)), [0x7f]);
  assert.deepEqual(bytesOf((b) => b.s32(64)), [0xc0, 0x00]);
  assert.deepEqual(bytesOf((b) => b.f64(1)), [0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  assert.deepEqual(bytesOf((b) => b.f64(-0)), [0, 0, 0, 0, 0, 0, 0, 0x80]);
  assert.throws(() => byteBuf().u32(-1), /bug/);
  assert.throws(() => byteBuf().s32(2 ** 31), /bug/);
});

test('property: LEB128 round-trips every 32-bit value, and the buffer grows past its first block', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (u, s) => {
    assert.equal(decode(bytesOf((b) => b.u32(u)), false), u);
    assert.equal(decode(bytesOf((b) => b.s32(s)), true), s);
  }), { numRuns: 2000, seed: 7 });
  const big = byteBuf();
  for (let i = 0; i < 5000; i++) big.byte(i & 0xff);
  const got = big.bytes();
  assert.equal(got.length, 5000);
  assert.ok(got.every((v, i) => v === (i & 0xff)));
});

test('modules validate and run: an empty entry, and constants hoisted by the assembler', () => {
  assert.ok(wasmSimdAvailable, 'Node 20 has WebAssembly SIMD');
  const W = wasmApi;
  if (W === undefined) throw new Error('no WebAssembly');
  const empty = module(1, [], [{ locals: [], code: new Uint8Array(0) }], 0);
  assert.ok(W.validate(empty));
  // Stores 2·(−0) + 1.5 (lane 0, via hoisted splat constants) at address 0.
  const a = asm();
  a.i32(0); a.vconst(-0); a.vconst(-0); a.emit(0xfd, 240, 1); a.vconst(1.5); a.emit(0xfd, 240, 1); a.vstore(0);
  const f = a.done();
  assert.equal(f.locals.length, 2, 'one local per distinct constant, −0 apart from 0');
  const bin = module(1, [], [f], 0);
  const mem = new W.Memory({ initial: 1, maximum: 1 });
  const inst = new W.Instance(new W.Module(bin), { env: { mem } });
  (inst.exports['run'] as () => void)();
  assert.deepEqual(Array.from(new Float64Array(mem.buffer, 0, 2)), [1.5, 1.5]);
  assert.equal(op.end, 0x0b);
});
