/**
 * Batch independence: a structural check that a function `f` of a batched state `z` (batch on
 * axis 0) treats rows independently, i.e. row `b` of `f` depends only on row `b` of `z`. It
 * follows the batch axis of `z` through every node that depends on `z` and fails at the first
 * node that mixes rows (a reduction over the batch axis, a matmul contracting over it or
 * multiplying two batch-dependent operands other than stack by stack, a reshape or slice that
 * splits it, a concat along it, windows sliding over it, two operands whose batch axes do not
 * line up). One linear pass; conservative: a function it accepts is row-wise, a function it
 * rejects may still be row-wise in exotic ways.
 */
import * as E from 'fp-ts/lib/Either.js';
import { children, type Node } from '../dsl/node.ts';
import { formatShape, sizeSignature, type Dim } from '../dsl/shape.ts';
import { topoOrder } from '../interp/traverse.ts';

/** Where the batch axis of a dependent node is, or why it is lost. */
type Axis = E.Either<string, number>;

const mixes = (n: Node, why: string): Axis => E.left(`${n.kind} of shape ${formatShape(n.shape)} ${why}`);

/** The batch axis of `n`, given the axes of its children (`undefined`: independent of `z`). */
const axisOf = (n: Node, kids: readonly (number | undefined)[]): Axis => {
  const [p] = kids;
  switch (n.kind) {
    case 'const':
    case 'var':
      return mixes(n, 'is a leaf');
    case 'unary':
      return E.right(p as number);
    case 'binary':
    case 'concat': {
      const xs = children(n);
      let at: number | undefined;
      for (const [i, x] of xs.entries()) {
        const q = kids[i];
        if (q === undefined) continue;
        const aligned = q + n.shape.length - x.shape.length;
        if (x.shape[q] !== n.shape[aligned] && n.kind === 'binary') return mixes(n, 'stretches the batch axis');
        if (at !== undefined && at !== aligned) return mixes(n, 'combines operands whose batch axes differ');
        at = aligned;
      }
      if (n.kind === 'concat' && at === n.axis && xs.length > 1) return mixes(n, 'concatenates along the batch axis');
      return E.right(at as number);
    }
    case 'matmul': {
      // Operand axes map to output axes aligned on the right; x's last and y's second-to-last
      // axes are contracted. Two dependent operands are row-wise only when both batch axes are
      // the same leading (stacking) axis: then each product pairs one row with the same row.
      const r = n.shape.length, xr = n.x.shape.length, yr = n.y.shape.length;
      const [px, py] = kids;
      if (px !== undefined && py !== undefined) {
        const ax = px + r - xr;
        return ax === py + r - yr && px < xr - 2 && py < yr - 2 ? E.right(ax) : mixes(n, 'multiplies two batch-dependent matrices');
      }
      if (px !== undefined) return px === xr - 1 ? mixes(n, 'contracts over the batch axis') : E.right(px + r - xr);
      const q = py as number;
      return q === yr - 2 ? mixes(n, 'contracts over the batch axis') : E.right(q + r - yr);
    }
    case 'reduce': {
      const q = p as number;
      if (n.axes.includes(q)) return mixes(n, 'reduces over the batch axis');
      return E.right(n.keepDims ? q : q - n.axes.filter((a) => a < q).length);
    }
    case 'reshape': {
      const q = p as number;
      const pre = sizeSignature(n.x.shape.slice(0, q));
      const d = n.x.shape[q] as Dim;
      const at = n.shape.findIndex((e, i) => e === d && sizeSignature(n.shape.slice(0, i)) === pre);
      return at >= 0 ? E.right(at) : mixes(n, 'splits or merges the batch axis');
    }
    case 'broadcast': {
      const q = p as number;
      const at = q + n.shape.length - n.x.shape.length;
      return n.x.shape[q] === n.shape[at] ? E.right(at) : mixes(n, 'stretches the batch axis');
    }
    case 'transpose':
      return E.right(n.perm.indexOf(p as number));
    case 'slice': {
      const q = p as number;
      return n.begin[q] === 0 && n.shape[q] === n.x.shape[q] ? E.right(q) : mixes(n, 'slices the batch axis');
    }
    case 'patches':
    case 'unpatches':
      // Windows slide over H and W within each image N: row-wise when the batch axis is N.
      return p === 0 ? E.right(0) : mixes(n, `slides windows over the batch axis (axis ${String(p)}, not N)`);
  }
};

/**
 * Checks that `f` maps rows of `z` (batch axis 0) to rows of `f` (batch axis 0) independently.
 * @example
 * checkRowwise(X.tanh(X.matmul(z, W)).node, z.node) // right(undefined)
 * checkRowwise(X.sumAxis(z, 0).node, z.node)         // left('reduce of shape [2] reduces over the batch axis')
 */
export const checkRowwise = (f: Node, z: Node): E.Either<string, void> => {
  const axes = new Map<number, number>();
  for (const n of topoOrder([f])) {
    if (n === z) {
      axes.set(n.id, 0);
      continue;
    }
    const kids = children(n).map((k) => axes.get(k.id));
    if (kids.every((k) => k === undefined)) continue;
    const r = axisOf(n, kids);
    if (E.isLeft(r)) return r;
    axes.set(n.id, r.right);
  }
  const at = axes.get(f.id);
  if (at !== undefined && at !== 0) return E.left(`the batch axis ends on axis ${at} of f, not axis 0`);
  return E.right(undefined);
};
