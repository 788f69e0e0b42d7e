/**
 * Step-size controllers, separate from the methods: three small functions (init, accept, reject)
 * over an immutable state, in the manner of OrdinaryDiffEq.jl. Controllers return a factor by
 * which to multiply the step just attempted.
 */

/** Controller state: the previous accepted error and whether the last attempt was rejected. */
export interface ControllerState {
  readonly errPrev: number;
  readonly lastRejected: boolean;
}

/** The result of a controller decision. */
export interface ControllerDecision {
  readonly factor: number;
  readonly state: ControllerState;
}

/** A step-size controller. `order` is the method's control order (error order + 1). */
export interface StepController {
  readonly name: string;
  readonly init: () => ControllerState;
  readonly accept: (s: ControllerState, err: number, order: number) => ControllerDecision;
  readonly reject: (s: ControllerState, err: number, order: number) => ControllerDecision;
}

/** Parameters of the PI controller. */
export interface PIParams {
  /** Safety factor applied to every proposal (0.9). */
  readonly safety: number;
  /** Largest growth factor per step (10). */
  readonly factorMax: number;
  /** Smallest shrink factor per step (0.2). */
  readonly factorMin: number;
  /** Integral gain numerator: exponent β₁ = beta1/order on the current error (0.7). */
  readonly beta1: number;
  /** Proportional gain numerator: exponent β₂ = beta2/order on the previous error (0.4). */
  readonly beta2: number;
}

const defaults: PIParams = { safety: 0.9, factorMax: 10, factorMin: 0.2, beta1: 0.7, beta2: 0.4 };

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/**
 * A PI controller (Gustafsson; Hairer–Wanner II §IV.2): factor = safety · err^(−β₁) · errPrev^(β₂),
 * clamped to [factorMin, factorMax]; no growth right after a rejection; err = 0 gives factorMax;
 * a non-finite error gives factorMin. `beta2: 0` is the classical integral (I) controller.
 * @example
 * integrate(space, f, y0, { method: dopri5, t1: 1, controller: piController({ factorMax: 5 }) });
 */
export const piController = (params: Partial<PIParams> = {}): StepController => {
  const p: PIParams = { ...defaults, ...params };
  const c: StepController = {
    name: `PI(β₁=${p.beta1}/k, β₂=${p.beta2}/k)`,
    init: () => ({ errPrev: 1, lastRejected: false }),
    accept: (s, err, order) => {
      const raw =
        err === 0 ? p.factorMax : p.safety * Math.pow(err, -p.beta1 / order) * Math.pow(s.errPrev, p.beta2 / order);
      const hi = s.lastRejected ? 1 : p.factorMax;
      return { factor: clamp(raw, p.factorMin, hi), state: { errPrev: Math.max(err, 1e-4), lastRejected: false } };
    },
    reject: (s, err, order) => {
      const raw = Number.isFinite(err) ? p.safety * Math.pow(err, -1 / order) : p.factorMin;
      return { factor: clamp(raw, p.factorMin, 1), state: { errPrev: s.errPrev, lastRejected: true } };
    },
  };
  return Object.freeze(c);
};

/**
 * The default controller: `piController()` with safety 0.9, factors in [0.2, 10], β = (0.7, 0.4)/k.
 * @example
 * const c = defaultController.accept(defaultController.init(), 0.5, 5).factor; // > 1
 */
export const defaultController: StepController = piController();
