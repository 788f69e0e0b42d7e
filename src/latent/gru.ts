/**
 * A gated recurrent unit as an expression builder: the cell is a value (its parameters and a pure
 * step function from expressions to expressions), so an unrolled recurrence is one expression DAG
 * that every interpreter and the symbolic VJP understand.
 *
 * The equations are PyTorch's `nn.GRUCell` (Cho et al. 2014 with the reset gate applied after
 * the hidden matmul), rows being batch elements:
 *
 *   r  = σ(x W_ir + b_ir + h W_hr + b_hr)
 *   z  = σ(x W_iz + b_iz + h W_hz + b_hz)
 *   n  = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn))
 *   h' = (1 − z) ⊙ n + z ⊙ h            (built as n + z ⊙ (h − n), one node fewer)
 *
 * The three gates' weights are fused column-wise, gate order r, z, n as in PyTorch:
 * `W_i = [W_ir | W_iz | W_in]: [I, 3H]`, `W_h: [H, 3H]`, `b_i, b_h: [3H]`, so one step costs two
 * matmuls; the gates are slices of the fused pre-activations. Every parameter is initialised
 * U(±1/√H), PyTorch's default for recurrent cells.
 */
import * as X from '../dsl/expr.ts';
import { param, type ParamDecl } from '../dsl/params.ts';
import type { Dim } from '../dsl/shape.ts';

/** A GRU cell from input size `I` to hidden size `H`. */
export interface Gru<I extends number, H extends number> {
  readonly inputDim: I;
  readonly hiddenDim: H;
  /** `[W_i, W_h, b_i, b_h]`, named `${name}_Wi`, `${name}_Wh`, `${name}_bi`, `${name}_bh`. */
  readonly params: readonly ParamDecl[];
  /** One step: the next hidden state of every row. */
  readonly apply: <M extends Dim>(h: X.Expr<readonly [M, H]>, x: X.Expr<readonly [M, I]>) => X.Expr<readonly [M, H]>;
}

/**
 * The fused gate columns of one gate: `[M, 3H] → [M, H]`, gate 0 = r, 1 = z, 2 = n.
 * @example gateOf(pre, 1, 25) // the update-gate pre-activation
 */
const gateOf = <M extends Dim, H extends number>(pre: X.Expr<readonly [M, number]>, gate: 0 | 1 | 2, hiddenDim: H): X.Expr<readonly [M, H]> =>
  X.slice(pre, [0, gate * hiddenDim], [pre.shape[0], hiddenDim] as const);

/**
 * Declares a GRU cell.
 * @throws when a size is not a positive integer
 * @example
 * const cell = gru('enc', 3, 25);
 * const h1 = cell.apply(h0 /* [B,25] *\/, x /* [B,3] *\/); // Expr<[B, 25]>
 */
export const gru = <const I extends number, const H extends number>(name: string, inputDim: I, hiddenDim: H): Gru<I, H> => {
  for (const [what, d] of [['inputDim', inputDim], ['hiddenDim', hiddenDim]] as const)
    if (!Number.isInteger(d) || d < 1) throw new RangeError(`gru ${name}: ${what} must be a positive integer, got ${d}`);
  const init = { kind: 'lecunUniform', fanIn: hiddenDim } as const;
  const Wi = param(`${name}_Wi`, [inputDim, 3 * hiddenDim] as const, init);
  const Wh = param(`${name}_Wh`, [hiddenDim, 3 * hiddenDim] as const, init);
  const bi = param(`${name}_bi`, [3 * hiddenDim] as const, init);
  const bh = param(`${name}_bh`, [3 * hiddenDim] as const, init);
  return {
    inputDim,
    hiddenDim,
    params: [Wi, Wh, bi, bh],
    apply: (h, x) => {
      const gi = X.add(X.matmul(x, Wi.expr), bi.expr);
      const gh = X.add(X.matmul(h, Wh.expr), bh.expr);
      const r = X.sigmoid(X.add(gateOf(gi, 0, hiddenDim), gateOf(gh, 0, hiddenDim)));
      const z = X.sigmoid(X.add(gateOf(gi, 1, hiddenDim), gateOf(gh, 1, hiddenDim)));
      const n = X.tanh(X.add(gateOf(gi, 2, hiddenDim), X.mul(r, gateOf(gh, 2, hiddenDim))));
      return X.add(n, X.mul(z, X.sub(h, n)));
    },
  };
};

/**
 * A batch of zero rows, the initial hidden state of a recurrence.
 * @example zeroState(sym('batch'), 25) // broadcast(0, [batch, 25])
 */
export const zeroState = <M extends Dim, H extends number>(rows: M, hiddenDim: H): X.Expr<readonly [M, H]> =>
  X.broadcastTo(X.scalar(0), [rows, hiddenDim] as const);
