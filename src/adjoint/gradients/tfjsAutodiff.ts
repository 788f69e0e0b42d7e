/**
 * The third, independent route: TensorFlow.js's own reverse-mode autodiff (`tf.valueAndGrads`)
 * through the tfjs solver, float32. The solver frees its intermediate tensors as usual: tfjs's
 * tape keeps its own clones of every tensor a gradient needs, so the tape survives the
 * solver's disposals (and `tf.valueAndGrads` frees the tape afterwards). Step sizes are
 * computed from values read back to JS, so they are constants for the tape, as in backprop.
 *
 * Times are JS numbers, outside the tape; ∂L/∂tᵢ comes from the autodiff gradients by the
 * identities of the continuous problem: ⟨gᵢ, f(tᵢ, z(tᵢ))⟩ for i ≥ 1 and
 * −⟨∂L/∂z₀ − g₀, f(t₀, z₀)⟩ for t₀, with gᵢ = ∂L/∂z(tᵢ).
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { compileTfjs, formatTfjsBindError } from '../../interp/toTfjs.ts';
import type { F64Tensor } from '../../interp/tensor.ts';
import { integrate, tfjsSpace, type SolveError, type SolveStats } from '../../solvers/index.ts';
import { solveOptions } from './context.ts';
import type { Symbolic } from './symbolic.ts';
import { solveFailed, type GradientData, type GradientError, type GradientResult } from './types.ts';

const up = (t: F64Tensor): tf.Tensor => tf.tensor(Float32Array.from(t.data), t.shape.slice(), 'float32');
const down = (x: tf.Tensor): F64Tensor => ({ shape: x.shape.slice(), data: Float64Array.from(x.dataSync()) });
const dot = (x: Float64Array, y: Float64Array): number => x.reduce((acc, v, i) => acc + v * (y[i] as number), 0);

/**
 * ∂L/∂z₀, ∂L/∂θ, ∂L/∂tᵢ by `tf.valueAndGrads` through `integrate(tfjsSpace, …)`.
 * @example tfjsAutodiffGradient(sym, data) // right({ loss, dz0, dparams, dts, stats })
 */
export const tfjsAutodiffGradient = (s: Symbolic, d: GradientData): E.Either<GradientError, GradientResult> => {
  const fProg = compileTfjs(s.fRoots);
  const lossProg = compileTfjs(s.lossRoots);
  const valueProg = compileTfjs([s.model.loss.value.node]);
  const params = [...s.dynParams, ...s.lossParams.filter((p) => !s.dynParams.some((q) => q.name === p.name))];
  const T = d.ts.length;
  const tab = d.solver.method.kind === 'explicit' ? d.solver.method.tableau.stages : 1;
  try {
    return (tfjsSpace.scoped as NonNullable<typeof tfjsSpace.scoped>)((): E.Either<GradientError, GradientResult> => {
      const inputs: Record<string, tf.Tensor> = {};
      for (const [k, v] of Object.entries({ ...(d.dynamicsInputs ?? {}), ...(d.lossInputs ?? {}) })) inputs[k] = up(v);
      const fEval = (env: Record<string, tf.Tensor>, t: number, z: tf.Tensor): tf.Tensor =>
        tf.tidy(() => fProg.runOrThrow({ ...env, [s.z.name]: z, [s.t.name]: tf.scalar(t) })[0] as tf.Tensor);
      let failure: SolveError | undefined;
      let stats: SolveStats = { nfe: 0, njac: 0, nlu: 0, accepted: 0, rejected: 0 };
      let predF64: F64Tensor | undefined;
      const lossOf = (z0: tf.Tensor, ...pv: tf.Tensor[]): tf.Scalar => {
        const env: Record<string, tf.Tensor> = { ...inputs };
        params.forEach((p, i) => { env[p.name] = pv[i] as tf.Tensor; });
        let ys: readonly tf.Tensor[] = [z0];
        if (T > 1) {
          const sol = integrate(tfjsSpace, (t, z) => fEval(env, t, z), z0, { ...solveOptions(d.solver), ts: d.ts });
          if (E.isLeft(sol)) {
            // Throwing here would leak the tape's saved tensors: finish the tape on a zero that
            // reads every input instead, and report the failure afterwards.
            failure = sol.left;
            return tf.mul(tf.addN([z0, ...pv].map((x) => tf.sum(x))), 0) as tf.Scalar;
          }
          stats = sol.right.stats;
          ys = sol.right.ys;
        }
        const pred = tf.stack(ys.slice());
        predF64 = down(pred);
        return valueProg.runOrThrow({ ...env, [s.pred.name]: pred })[0] as tf.Scalar;
      };
      const z0 = up(d.z0);
      const pts = params.map((p) => up(d.params[p.name] as F64Tensor));
      const vg = tf.valueAndGrads(lossOf)([z0, ...pts]);
      if (failure !== undefined) return E.left(solveFailed('forward', failure));
      const prediction = predF64 as F64Tensor;
      const [gz0, ...gps] = vg.grads.map(down) as [F64Tensor, ...F64Tensor[]];
      // gᵢ = ∂L/∂z(tᵢ) from the loss alone, and f at the observed states, for ∂L/∂tᵢ.
      const env: Record<string, tf.Tensor> = { ...inputs };
      params.forEach((p, i) => { env[p.name] = pts[i] as tf.Tensor; });
      const gl = lossProg.run({ ...env, [s.pred.name]: up(prediction) });
      if (E.isLeft(gl)) return E.left({ _tag: 'EvaluationFailed', what: 'the loss', message: formatTfjsBindError(gl.left) });
      const gPred = down(gl.right[1] as tf.Tensor).data;
      const n = d.z0.data.length;
      const dts = new Float64Array(T);
      for (let i = 0; i < T; i++) {
        const zi = tf.tensor(Float32Array.from(prediction.data.subarray(i * n, (i + 1) * n)), d.z0.shape.slice(), 'float32');
        const fi = down(fEval(env, d.ts[i] as number, zi)).data;
        const gi = gPred.subarray(i * n, (i + 1) * n);
        dts[i] = i > 0 ? dot(gi, fi) : -dot(gz0.data.map((v, q) => v - (gi[q] as number)), fi);
      }
      const dparams: Record<string, F64Tensor> = {};
      params.forEach((p, i) => { dparams[p.name] = gps[i] as F64Tensor; });
      return E.right({
        loss: vg.value.dataSync()[0] as number, dz0: gz0, dparams, dts, prediction,
        stats: {
          nfeForward: stats.nfe, nfeBackward: tab * stats.accepted + T, acceptedForward: stats.accepted, rejectedForward: stats.rejected,
          acceptedBackward: stats.accepted, rejectedBackward: 0,
        },
      });
    });
  } finally {
    fProg.dispose();
    lossProg.dispose();
    valueProg.dispose();
  }
};
