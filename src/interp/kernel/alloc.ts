/**
 * Placement of values: inputs, outputs and constants live in their own buffers; temporaries are
 * packed into one arena by a liveness-based allocator over the tape order. A temporary's block
 * is taken when the instruction that first writes it runs and given back after the last
 * instruction that reads it, so blocks are reused; an instruction's output never overlaps its
 * inputs (the output is placed before the inputs' blocks are released).
 */
import { reads, type Tape, type ValueId } from './tape.ts';

/** Which buffer a value is in, and where it starts. */
export interface Loc {
  readonly space: 'arena' | 'const' | 'input' | 'output';
  /** Input or output index (0 for the arena and constants). */
  readonly index: number;
  readonly base: number;
}

interface Block {
  off: number;
  size: number;
}

/** Best-fit free list over a growing arena, coalescing neighbours on release. */
const freeList = () => {
  const blocks: Block[] = [];
  let end = 0;
  return {
    take(size: number): number {
      if (size === 0) return 0;
      let best = -1;
      for (let i = 0; i < blocks.length; i++) {
        const b = blocks[i] as Block;
        if (b.size >= size && (best < 0 || b.size < (blocks[best] as Block).size)) best = i;
      }
      if (best >= 0) {
        const b = blocks[best] as Block;
        const off = b.off;
        if (b.size === size) blocks.splice(best, 1);
        else {
          b.off += size;
          b.size -= size;
        }
        return off;
      }
      const last = blocks[blocks.length - 1];
      if (last !== undefined && last.off + last.size === end) {
        blocks.pop();
        end = last.off + size;
        return last.off;
      }
      end += size;
      return end - size;
    },
    give(off: number, size: number): void {
      if (size === 0) return;
      let i = 0;
      while (i < blocks.length && (blocks[i] as Block).off < off) i++;
      blocks.splice(i, 0, { off, size });
      const next = blocks[i + 1];
      if (next !== undefined && off + size === next.off) {
        (blocks[i] as Block).size += next.size;
        blocks.splice(i + 1, 1);
      }
      const prev = blocks[i - 1];
      if (prev !== undefined && prev.off + prev.size === off) {
        prev.size += (blocks[i] as Block).size;
        blocks.splice(i, 1);
      }
    },
    get size(): number {
      return end;
    },
  };
};

/**
 * Places every value of a tape; returns the locations and the arena length (in float64s).
 * @example allocate(tape).arenaSize // 1000 for [20,50] temporaries that never overlap in time
 */
export const allocate = (tape: Tape): { readonly locs: readonly Loc[]; readonly arenaSize: number } => {
  const n = tape.values.length;
  const def = new Array<number>(n).fill(-1);
  const last = new Array<number>(n).fill(-1);
  tape.instrs.forEach((ins, t) => {
    if ((def[ins.out] as number) < 0) def[ins.out] = t;
    for (const r of reads(ins)) last[r] = t;
  });
  const definedAt: ValueId[][] = tape.instrs.map(() => []);
  const releasedAt: ValueId[][] = tape.instrs.map(() => []);
  const locs: Loc[] = tape.values.map((v, id) => {
    switch (v.kind) {
      case 'input': return { space: 'input', index: v.index, base: 0 };
      case 'output': return { space: 'output', index: v.index, base: 0 };
      case 'const': return { space: 'const', index: 0, base: v.offset };
      case 'temp': {
        const d = def[id] as number;
        if (d < 0) throw new Error('bug: a kernel temporary is never written');
        (definedAt[d] as ValueId[]).push(id);
        (releasedAt[Math.max(d, last[id] as number)] as ValueId[]).push(id);
        return { space: 'arena', index: 0, base: 0 };
      }
    }
  });
  const arena = freeList();
  for (let t = 0; t < tape.instrs.length; t++) {
    for (const id of definedAt[t] as ValueId[]) locs[id] = { space: 'arena', index: 0, base: arena.take(tape.values[id]?.size ?? 0) };
    for (const id of releasedAt[t] as ValueId[]) arena.give((locs[id] as Loc).base, tape.values[id]?.size ?? 0);
  }
  return { locs, arenaSize: arena.size };
};
