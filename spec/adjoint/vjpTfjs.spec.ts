/**
 * Property: on random well-shaped expressions, the symbolic VJP (evaluated in float64) equals
 * TensorFlow.js's own autodiff (`tf.grads` through `compileTfjs`, float32) within float32
 * tolerance, for every variable the expression reads.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import * as tf from '@tensorflow/tfjs';
import * as C from '../../src/dsl/construct.ts';
import type { Node } from '../../src/dsl/node.ts';
import { vjp } from '../../src/adjoint/vjp.ts';
import { evalF64, type F64Env } from '../../src/interp/evalF64.ts';
import { compileTfjs } from '../../src/interp/toTfjs.ts';
import { selectBackend } from '../../src/interp/backend.ts';
import { freeVars } from '../../src/interp/traverse.ts';
import { seedRng, nextUniform, type RngState } from '../../src/random/prng.ts';
import { anyExpr } from '../arbitraries/expr.ts';
import { assertProperty } from '../support/property.ts';
import { froundConsts } from '../support/rebuild.ts';

const BATCH = 3;
const shapes: Record<string, number[]> = { s: [], a: [3], M: [2, 3], Z: [BATCH, 3], Q: [3, 3] };

before(async () => {
  assert.ok(E.isRight(await selectBackend({ backend: 'cpu' })));
});

/** Values in [-1.5, 1.5], rounded to float32 so both sides read the same numbers. */
const uniforms = (seed: number) => {
  let s: RngState = seedRng(seed, 'vjp-tfjs');
  return (n: number): Float64Array => Float64Array.from({ length: n }, () => {
    const [u, s1] = nextUniform(s);
    s = s1;
    return Math.fround(3 * u - 1.5);
  });
};

test('symbolic VJPs equal tf.grads on random expressions (float32 tolerance)', () => {
  let checked = 0;
  assertProperty(
    fc.property(anyExpr, fc.integer({ min: 0, max: 1e6 }), (e0: Node, seed) => {
      const e = froundConsts(e0);
      const vars = freeVars([e]);
      if (vars.length === 0) return;
      const draw = uniforms(seed);
      const env: Record<string, { shape: number[]; data: Float64Array }> = {};
      for (const v of vars) env[v.name] = { shape: shapes[v.name]!, data: draw(shapes[v.name]!.reduce((a, b) => a * b, 1)) };
      const outShape = (evalF64([e], env as F64Env, { batch: BATCH }) as E.Right<readonly { shape: readonly number[] }[]>).right[0]!.shape;
      const ct = draw(outShape.reduce((a, b) => a * b, 1));
      const ctNode = C.variable('ct_', 'input', e.shape);
      assert.ok(E.isRight(ctNode));
      const ours = vjp([e], [ctNode.right], vars);
      const got = evalF64(ours, { ...env, ct_: { shape: [...outShape], data: ct } } as F64Env, { batch: BATCH });
      assert.ok(E.isRight(got));
      const prog = compileTfjs([e]);
      const tfVars = vars.map((v) => tf.tensor(Float32Array.from(env[v.name]!.data), env[v.name]!.shape, 'float32'));
      const ctT = tf.tensor(Float32Array.from(ct), [...outShape], 'float32');
      const grads = tf.grads((...xs: tf.Tensor[]) => {
        const out = prog.runOrThrow(Object.fromEntries(vars.map((v, i) => [v.name, xs[i] as tf.Tensor])), { batch: BATCH })[0] as tf.Tensor;
        return tf.sum(tf.mul(out, ctT)) as tf.Scalar;
      })(tfVars);
      vars.forEach((v, i) => {
        const want = (got.right[i] as { data: Float64Array }).data;
        const have = (grads[i] as tf.Tensor).dataSync();
        const scale = Math.max(1, ...Array.from(want, Math.abs).filter(Number.isFinite));
        want.forEach((w, k) => {
          if (!Number.isFinite(w)) return;
          assert.ok(Math.abs(w - (have[k] as number)) <= 2e-3 * scale, `∂/∂${v.name}[${k}]: symbolic ${w} vs tf ${have[k]}`);
        });
      });
      checked++;
      tf.dispose([...grads, ...tfVars, ctT]);
      prog.dispose();
    }),
    { seed: 777, numRuns: 120 },
  );
  assert.ok(checked > 80, `only ${checked} expressions had variables`);
});
