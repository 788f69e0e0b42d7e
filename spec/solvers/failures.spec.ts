import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { integrate } from '../../src/solvers/integrate.ts';
import { f64FromRows, f64Space } from '../../src/solvers/f64Space.ts';
import { formatSolveError } from '../../src/solvers/errors.ts';
import { methods } from '../../src/solvers/methods.ts';
import { err, ok, rowwise } from './helpers.ts';

const { dopri5, rk4, tsit5 } = methods;
const square = rowwise((_t, y, o) => { o[0] = (y[0] as number) ** 2; });
const one = f64FromRows([[1]]);

describe('failures are values with actionable messages', () => {
  it('blow-up y\' = y², y(0) = 1 on [0, 2]: StepSizeUnderflow near the singularity t = 1', () => {
    const e = err(integrate(f64Space, square, one, { method: dopri5, t0: 0, t1: 2 }));
    assert.equal(e._tag, 'StepSizeUnderflow');
    assert.ok(e._tag === 'StepSizeUnderflow' && Math.abs(e.t - 1) < 1e-6, `t = ${'t' in e ? e.t : NaN}`);
    const msg = formatSolveError(e);
    assert.match(msg, /step size fell to dt = .* at t = 1(\.0+\d*|\b)/);
    assert.match(msg, /blow up/);
    assert.match(msg, /raise atol/);
    assert.match(msg, /rodas4/);
    assert.match(msg, /trajectory 0, component 0/);
  });

  it('dtMin turns a shrinking step into StepSizeUnderflow that names dtMin', () => {
    const e = err(integrate(f64Space, square, one, { method: tsit5, t0: 0, t1: 2, dtMin: 1e-4 }));
    assert.equal(e._tag, 'StepSizeUnderflow');
    assert.match(formatSolveError(e), /below dtMin = 0\.0001/);
  });

  it('maxSteps: 10 gives MaxStepsReached with the time reached and advice', () => {
    const osc = rowwise((_t, y, o) => { o[0] = y[1] as number; o[1] = -(y[0] as number); });
    const e = err(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: dopri5, t0: 0, t1: 100, maxSteps: 10 }));
    assert.equal(e._tag, 'MaxStepsReached');
    if (e._tag !== 'MaxStepsReached') return;
    assert.equal(e.steps, 10);
    assert.ok(e.t > 0 && e.t < 100);
    const msg = formatSolveError(e);
    assert.match(msg, /maxSteps \(10\) reached at t = [\d.]+ before t1 = 100/);
    assert.match(msg, /Raise maxSteps/);
    assert.match(msg, /stiff solver rodas4/);
  });

  it('NaN from log of a negative number: NonFiniteState at the boundary of the domain', () => {
    // y' = −1 + 0·log(y): y = 1 − t, and f is NaN once y < 0 (t > 1).
    const f = rowwise((_t, y, o) => { o[0] = -1 + 0 * Math.log(y[0] as number); });
    const e = err(integrate(f64Space, f, one, { method: dopri5, t0: 0, t1: 2 }));
    assert.equal(e._tag, 'NonFiniteState');
    if (e._tag !== 'NonFiniteState') return;
    assert.ok(Math.abs(e.t - 1) < 1e-6, `t = ${e.t}`);
    assert.deepEqual(e.component, { row: 0, index: 0 });
    const msg = formatSolveError(e);
    assert.match(msg, /non-finite value \(NaN or ±Infinity\) in the (state|vector field) at t = 1/);
    assert.match(msg, /log\/sqrt of negative numbers/);
  });

  it('NaN in a fixed-step solve is reported at the step where it appears', () => {
    const f = rowwise((_t, y, o) => { o[0] = -1 + 0 * Math.log(y[0] as number); });
    const e = err(integrate(f64Space, f, one, { method: rk4, t0: 0, t1: 2, dt: 0.3 }));
    assert.equal(e._tag, 'NonFiniteState');
    assert.ok(e._tag === 'NonFiniteState' && Math.abs(e.t - 1.2) < 1e-12);
  });

  it('NaN in the initial state or the first evaluation is reported at t0', () => {
    const e1 = err(integrate(f64Space, square, f64FromRows([[Number.NaN]]), { method: dopri5, t0: 0, t1: 1 }));
    assert.match(formatSolveError(e1), /in the initial state at t = 0/);
    const e2 = err(integrate(f64Space, rowwise((_t, _y, o) => { o[0] = Number.POSITIVE_INFINITY; }), one, { method: dopri5, t0: 0, t1: 1 }));
    assert.match(formatSolveError(e2), /in the vector field at t = 0 after 0 accepted steps/);
  });

  it('decreasing ts in a forward solve is InvalidTimes', () => {
    const e = err(integrate(f64Space, square, one, { method: dopri5, t0: 0, t1: 1, ts: [1, 0.5, 0] }));
    assert.equal(e._tag, 'InvalidTimes');
    assert.match(formatSolveError(e), /output times run down but the integration runs from t0 = 0 to t1 = 1/);
  });

  it('non-monotone, NaN and out-of-span ts are InvalidTimes that name the index', () => {
    const e1 = err(integrate(f64Space, square, one, { method: dopri5, ts: [0, 0.5, 0.2, 1] }));
    assert.match(formatSolveError(e1), /not strictly monotone \(at index 2\), value 0\.2/);
    const e2 = err(integrate(f64Space, square, one, { method: dopri5, ts: [0, Number.NaN] }));
    assert.match(formatSolveError(e2), /not a finite number \(at index 1\)/);
    const e3 = err(integrate(f64Space, square, one, { method: dopri5, t0: 0, t1: 0.5, ts: [0, 0.7] }));
    assert.match(formatSolveError(e3), /outside the span/);
    const e4 = err(integrate(f64Space, square, one, { method: dopri5, t0: 0, t1: Number.NaN }));
    assert.match(formatSolveError(e4), /t1 is not a finite number/);
    const e5 = err(integrate(f64Space, square, one, { method: dopri5, t0: 0 }));
    assert.match(formatSolveError(e5), /no t1/);
  });

  it('bad options are InvalidOptions', () => {
    const e1 = err(integrate(f64Space, square, one, { method: dopri5, t1: 1, rtol: -1 }));
    assert.match(formatSolveError(e1), /invalid option rtol: must be a finite number ≥ 0, got -1/);
    const e2 = err(integrate(f64Space, square, one, { method: rk4, t1: 1 }));
    assert.match(formatSolveError(e2), /rk4 is a fixed-step method: give dt or output times ts/);
    const e3 = err(integrate(f64Space, square, one, { method: dopri5, t1: 1, atol: new Float64Array(3) }));
    assert.match(formatSolveError(e3), /atol: has 3 entries, the state has dimension 1/);
    const e4 = err(integrate(f64Space, square, one, { method: dopri5, t1: 1, maxSteps: 0 }));
    assert.equal(e4._tag, 'InvalidOptions');
  });

  it('the same problem succeeds once the advice is followed (maxSteps raised)', () => {
    const osc = rowwise((_t, y, o) => { o[0] = y[1] as number; o[1] = -(y[0] as number); });
    ok(integrate(f64Space, osc, f64FromRows([[1, 0]]), { method: dopri5, t0: 0, t1: 100, maxSteps: 10_000 }));
  });
});
