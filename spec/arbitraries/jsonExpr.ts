/**
 * fast-check arbitraries of random well-shaped DAGs for JSON round trips. A "program" is a list
 * of steps; each step applies an op to earlier results (picked by index, so results are shared
 * and the DAG has nodes with several parents) and keeps the result only when the checked
 * constructor accepts it. Constants include the values JSON cannot write as numbers (-0, NaN,
 * ±Infinity) and zero-sized tensors. Variables: the state `y: [batch,3]`, time `t`, parameters
 * `W: [3,3]`, `b: [3]`, an input `u: [3]`.
 */
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../../src/dsl/construct.ts';
import { makeDynamics, makeLoss, makeModel, type Model } from '../../src/dsl/model.ts';
import type { Node, VarNode } from '../../src/dsl/node.ts';
import { binaryOps, isBinaryOp, isUnaryOp, reduceOps, unaryOps, type Role } from '../../src/dsl/ops.ts';
import * as X from '../../src/dsl/expr.ts';
import { param } from '../../src/dsl/params.ts';
import { isSym, sym, type Dim, type Shape } from '../../src/dsl/shape.ts';
import { makeWindow } from '../../src/dsl/window.ts';

const must = <T>(r: E.Either<string, T>): T => {
  if (E.isLeft(r)) throw new Error(`jsonExpr arbitrary: ${r.left}`);
  return r.right;
};

export const batch = sym('batch');
const v = (name: string, role: Role, shape: Shape): VarNode => must(C.variable(name, role, shape));

/** The variables of the random DAGs. */
export const jsonVars = {
  y: v('y', 'state', [batch, 3]),
  t: v('t', 'time', []),
  W: v('W', 'param', [3, 3]),
  b: v('b', 'param', [3]),
  u: v('u', 'input', [3]),
} as const;

const specials = [0, -0, 1, 0.5, -2, 1e-300, 3.25, NaN, Infinity, -Infinity];
const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length] as T;

/** One step: which op, two operand picks and a free number for attributes. */
export type Step = readonly [number, number, number, number];

const structural = [
  'matmul', 'reduce', 'reshape', 'broadcast', 'transpose', 'concat', 'slice', 'const', 'scalar', 'patches', 'unpatches',
] as const;
const opNames = [...unaryOps, ...binaryOps, ...structural] as const;

const constant = (k: number): E.Either<string, Node> => {
  const shapes: readonly (readonly number[])[] = [[3], [2, 3], [0, 3], [3, 0], [1]];
  const shape = pick(shapes, k);
  const n = shape.reduce((a, b) => a * b, 1);
  return C.constant(Array.from({ length: n }, (_, i) => pick(specials, k + i)), shape);
};

const apply = (op: (typeof opNames)[number], x: Node, y: Node, k: number): E.Either<string, Node> => {
  const rank = x.shape.length;
  if (isUnaryOp(op)) return C.unary(op, x);
  if (isBinaryOp(op)) return C.binary(op, x, y);
  switch (op) {
    case 'matmul': return C.matmul(x, y);
    case 'reduce': {
      const axes = x.shape.map((_, i) => i).filter((i) => ((k >> i) & 1) === 1);
      return C.reduce(pick(reduceOps, k), x, k % 5 === 0 ? undefined : axes, (k & 8) !== 0);
    }
    case 'reshape': return C.reshape(x, k % 2 === 0 ? [...x.shape, 1] : x.shape.filter((d) => d !== 1));
    case 'broadcast': return C.broadcastTo(x, [k % 2 === 0 ? 2 : batch, ...x.shape]);
    case 'transpose': return C.transpose(x, k % 2 === 0 ? undefined : x.shape.map((_, i) => (i + 1) % rank));
    case 'concat': return C.concat(k % 3 === 0 ? [x] : [x, y], rank === 0 ? 0 : k % rank);
    case 'slice': {
      const begin = x.shape.map((d) => (isSym(d) || d === 0 ? 0 : k % d));
      const size = x.shape.map((d, i): Dim => (isSym(d) ? d : d - (begin[i] as number)));
      return C.slice(x, begin, size);
    }
    case 'patches':
    case 'unpatches': {
      // A matrix [d0, d1] as a one-row image [d0, 1, d1, 1]; the window varies with k.
      const [d0, d1] = x.shape;
      if (rank !== 2 || d0 === undefined || typeof d1 !== 'number' || d1 === 0) return E.left('not a matrix');
      const image = C.reshape(x, [d0, 1, d1, 1]);
      if (E.isLeft(image)) return image;
      const stride = 1 + (k % 2);
      if (op === 'unpatches') {
        const w = makeWindow({ kernel: [1, 1], strides: [1, stride] });
        return E.isLeft(w) ? w : C.unpatches(image.right, w.right, [1, (d1 - 1) * stride + 1]);
      }
      const w = makeWindow({ kernel: [1, 1 + ((k >> 1) % 3)], strides: [1, stride], padding: [0, 0, (k >> 3) % 2, (k >> 4) % 3] });
      return E.isLeft(w) ? w : C.patches(image.right, w.right);
    }
    case 'const': return constant(k);
    case 'scalar': return E.right(C.scalar(pick(specials, k)));
  }
};

/**
 * Runs a program: the pool of variables plus every node the steps built, in order.
 * @example runProgram([[0, 0, 0, 0]]).length // 6 (5 variables and neg(y))
 */
export const runProgram = (steps: readonly Step[]): readonly Node[] => {
  const pool: Node[] = Object.values(jsonVars);
  for (const [o, a, b, k] of steps) {
    const r = apply(pick(opNames, o), pick(pool, a), pick(pool, b), k);
    if (E.isRight(r)) pool.push(r.right);
  }
  return pool;
};

/** Programs of up to 40 steps. */
export const programArb: fc.Arbitrary<readonly Step[]> = fc.array(
  fc.tuple(fc.nat({ max: 1000 }), fc.nat({ max: 1000 }), fc.nat({ max: 1000 }), fc.nat({ max: 1000 })),
  { minLength: 1, maxLength: 40 },
);

/** Let names, some clashing with the encoder's fresh names. */
const letNames = ['h', 'g', 'v1', 'v2', 'z', 'cube', 'v3', 'k'];

/** Picks up to 4 pool nodes as user lets (several names may share a node). */
export const letsArb: fc.Arbitrary<readonly number[]> = fc.array(fc.nat({ max: 1000 }), { maxLength: 4 });

/** The user lets chosen by `picks` from `pool`. */
export const pickLets = (pool: readonly Node[], picks: readonly number[]): Map<string, Node> =>
  new Map(picks.map((p, i) => [letNames[i] as string, pick(pool, p)]));

/**
 * A model over the pool: f = y + (the last pool node that broadcasts to y's shape), or tanh(y);
 * the loss mean |yhat − ytrue| · Σ b, so the loss has a parameter of its own.
 * @example modelOf(runProgram(steps)).dynamics.f.shape // ['batch', 3]
 */
export const modelOf = (pool: readonly Node[]): Model => {
  const y = jsonVars.y;
  let f: Node = must(C.unary('tanh', y));
  for (let i = pool.length - 1; i >= 0; i--) {
    const r = C.binary('add', y, pool[i] as Node);
    if (E.isRight(r) && r.right.shape.length === 2 && r.right.shape[0] === batch && r.right.shape[1] === 3) {
      f = r.right;
      break;
    }
  }
  const W = param('W', [3, 3], { kind: 'normal', mean: 0, std: 0.5 });
  const b = param('b', [3], { kind: 'lecunUniform', fanIn: 3 });
  const yhat = X.input('yhat', [sym('obs'), batch, 3]);
  const ytrue = X.input('ytrue', [sym('obs'), batch, 3]);
  const dyn = must(makeDynamics({ state: X.lift(y), time: X.wrap(jsonVars.t, []), params: [W, b], f: X.lift(f) }));
  const lo = must(makeLoss({ prediction: yhat, params: [b], value: X.mul(X.mean(X.abs(X.sub(yhat, ytrue))), X.sum(b.expr)) }));
  return must(makeModel({ name: 'random', dynamics: dyn, loss: lo, seed: 7 }));
};
