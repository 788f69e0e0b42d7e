/**
 * Solver failures as values: a tagged union keeping the offending quantities, and one formatter
 * that says what happened, where, and what to try.
 */

/** Where in a batched state a component lives. */
export interface ComponentRef {
  readonly row: number;
  readonly index: number;
}

/** The step budget ran out before reaching the end of the interval. */
export interface MaxStepsReached {
  readonly _tag: 'MaxStepsReached';
  readonly t: number;
  readonly t1: number;
  readonly steps: number;
  readonly row?: number;
}

/** The controller asked for a step smaller than `dtMin` or than round-off allows. */
export interface StepSizeUnderflow {
  readonly _tag: 'StepSizeUnderflow';
  readonly t: number;
  readonly dt: number;
  readonly dtMin: number;
  /** The component with the largest weighted error in the last rejected step. */
  readonly worst?: ComponentRef & { readonly weightedError: number };
  readonly row?: number;
}

/** The state or the vector field became NaN or infinite and no smaller step avoids it. */
export interface NonFiniteState {
  readonly _tag: 'NonFiniteState';
  readonly t: number;
  readonly step: number;
  readonly component: ComponentRef;
  readonly where: 'initial state' | 'vector field' | 'state';
}

/** Times were NaN, non-monotone, outside the span, or inconsistent. */
export interface InvalidTimes {
  readonly _tag: 'InvalidTimes';
  readonly reason: string;
  readonly value?: number;
  readonly index?: number;
  readonly row?: number;
}

/** An option had a value the solver cannot use. */
export interface InvalidOptions {
  readonly _tag: 'InvalidOptions';
  readonly option: string;
  readonly reason: string;
}

/** A linear solve in the implicit method met a singular matrix at every step size tried. */
export interface SingularMatrix {
  readonly _tag: 'SingularMatrix';
  readonly t: number;
  readonly dt: number;
  readonly row: number;
}

/** `Solution.evaluate` was asked for a time outside the solved span. */
export interface OutsideSpan {
  readonly _tag: 'OutsideSpan';
  readonly t: number;
  readonly t0: number;
  readonly t1: number;
}

/** `Solution.evaluate` needs the per-step dense information, which was not kept. */
export interface DenseNotKept {
  readonly _tag: 'DenseNotKept';
  readonly t: number;
}

/** Every way a solve or an evaluation can fail. */
export type SolveError =
  | MaxStepsReached
  | StepSizeUnderflow
  | NonFiniteState
  | InvalidTimes
  | InvalidOptions
  | SingularMatrix
  | OutsideSpan
  | DenseNotKept;

const g = (x: number): string => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));
const rowText = (row: number | undefined): string => (row === undefined ? '' : ` (trajectory ${row})`);
const compText = (c: ComponentRef): string => `trajectory ${c.row}, component ${c.index}`;

/**
 * A message saying what happened, at which t, and what to try.
 * @example
 * formatSolveError({ _tag: 'MaxStepsReached', t: 0.3, t1: 1, steps: 10 });
 * // "maxSteps (10) reached at t = 0.3 before t1 = 1. Raise maxSteps, loosen rtol/atol, or, if the
 * //  problem is stiff (…), use the stiff solver rodas4."
 */
export const formatSolveError = (e: SolveError): string => {
  switch (e._tag) {
    case 'MaxStepsReached':
      return (
        `maxSteps (${e.steps}) reached at t = ${g(e.t)} before t1 = ${g(e.t1)}${rowText(e.row)}. ` +
        'Raise maxSteps, loosen rtol/atol, or, if the problem is stiff (step sizes stay tiny while the ' +
        'solution changes slowly), use the stiff solver rodas4.'
      );
    case 'StepSizeUnderflow':
      return (
        `step size fell to dt = ${g(e.dt)} at t = ${g(e.t)}${rowText(e.row)}, below ` +
        (e.dtMin > 0 ? `dtMin = ${g(e.dtMin)}` : 'what round-off in t allows') +
        (e.worst === undefined
          ? ''
          : `; the largest weighted error was ${g(e.worst.weightedError)} in ${compText(e.worst)}`) +
        '. The solution may blow up (finite-time singularity) near this t, or the tolerances are too tight ' +
        'for the precision: raise atol (especially for components near zero), loosen rtol, use the stiff ' +
        'solver rodas4 if the problem is stiff, or lower dtMin.'
      );
    case 'NonFiniteState':
      return (
        `non-finite value (NaN or ±Infinity) in the ${e.where} at t = ${g(e.t)} after ${e.step} accepted steps, ` +
        `${compText(e.component)}. Check the dynamics for log/sqrt of negative numbers, division by zero or ` +
        'overflow near this state; if the true solution stays finite, tighten rtol/atol or set dtMax so the ' +
        'solver does not step into the invalid region.'
      );
    case 'InvalidTimes':
      return (
        `invalid times: ${e.reason}` +
        (e.index === undefined ? '' : ` (at index ${e.index}${e.row === undefined ? '' : ` of trajectory ${e.row}`})`) +
        (e.value === undefined ? '' : `, value ${g(e.value)}`) +
        '. Output times must be finite, strictly monotone in the direction of integration and inside [t0, t1].'
      );
    case 'InvalidOptions':
      return `invalid option ${e.option}: ${e.reason}.`;
    case 'SingularMatrix':
      return (
        `the Newton matrix I/(hγ) − J was singular at t = ${g(e.t)}, dt = ${g(e.dt)}, trajectory ${e.row}. ` +
        'Check the Jacobian (try the finite-difference fallback by omitting jacobian), or raise atol.'
      );
    case 'OutsideSpan':
      return `cannot evaluate at t = ${g(e.t)}: outside the solved span [${g(e.t0)}, ${g(e.t1)}].`;
    case 'DenseNotKept':
      return `cannot evaluate at t = ${g(e.t)}: the dense output was not kept; solve with dense: true.`;
  }
};
