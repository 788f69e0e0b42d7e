/**
 * A TensorFlow.js program behind the positional-buffer interface of the generated kernels
 * (`BufferProgram`): Float64 buffers in, Float64 buffers out, evaluated in float32 on the active
 * tfjs backend. Each call uploads its inputs, runs the compiled program and reads the results
 * back, freeing every tensor it made. The caller's solver stays on Float64; only the vector field
 * moves, which pays when the batch is large enough for a native backend to beat the JS kernel
 * (see `placement.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import type { Node, VarNode } from '../dsl/node.ts';
import { formatShape, resolveShape } from '../dsl/shape.ts';
import type { BufferProgram } from './evaluator.ts';
import { sizeOf } from './tensor.ts';
import { compileTfjs } from './toTfjs.ts';

/** A buffer program on tfjs, with the constants it uploaded. */
export interface TfjsBufferProgram extends BufferProgram {
  /** Frees the program's constants. */
  readonly dispose: () => void;
}

/**
 * Compiles `roots` for fixed named-dim `sizes` on the active tfjs backend.
 * @example
 * const p = tfjsBufferProgram([f.node], [y.node, W.node], new Map([['batch', 4096]]));
 * if (E.isRight(p)) p.right.run([yData, wData], [out]);
 */
export const tfjsBufferProgram = (
  roots: readonly Node[], inputs: readonly VarNode[], sizes: ReadonlyMap<string, number>,
): E.Either<string, TfjsBufferProgram> => {
  const shapes: (readonly number[])[] = [];
  for (const n of [...inputs, ...roots]) {
    const r = resolveShape(n.shape, sizes);
    if (r === undefined) return E.left(`a dim of ${formatShape(n.shape)} has no size`);
    shapes.push(r);
  }
  const inShapes = shapes.slice(0, inputs.length), outShapes = shapes.slice(inputs.length);
  const prog = compileTfjs(roots);
  const staging = inShapes.map((s) => new Float32Array(sizeOf(s)));
  const run = (ins: readonly Float64Array[], outs: readonly Float64Array[]): void => {
    tf.tidy(() => {
      const env: Record<string, tf.Tensor> = {};
      inputs.forEach((v, i) => {
        const buf = staging[i] as Float32Array;
        buf.set(ins[i] as Float64Array);
        env[v.name] = tf.tensor(buf, (inShapes[i] as readonly number[]).slice(), 'float32');
      });
      const r = prog.run(env);
      if (E.isLeft(r)) throw new Error(`bug: a checked tfjs buffer program failed: ${JSON.stringify(r.left)}`);
      r.right.forEach((t, j) => (outs[j] as Float64Array).set(t.dataSync()));
    });
  };
  return E.right({ run, inputSizes: inShapes.map(sizeOf), outputSizes: outShapes.map(sizeOf), dispose: prog.dispose });
};
