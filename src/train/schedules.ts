/**
 * Learning-rate schedules as data. `lrAt(schedule, baseLr, iteration)` is a closed form in the
 * 0-based iteration (the number of optimizer steps already taken), so a resumed run needs no
 * scheduler state: the checkpoint's iteration is enough.
 */
import * as E from 'fp-ts/lib/Either.js';

/**
 * - `constant`: always `baseLr`.
 * - `step`: `baseLr · gamma^⌊iteration / every⌋` (torch `StepLR`'s closed form).
 * - `cosine`: with `w = warmup` (default 0), linear warmup `baseLr · (i + 1) / w` for `i < w`, then
 *   `minLr + (baseLr − minLr) · (1 + cos(π · (i − w) / (total − w))) / 2` (torch
 *   `CosineAnnealingLR`'s closed form with `T_max = total − w`), and `minLr` (default 0) from
 *   iteration `total` on. `total` counts the warmup iterations too.
 */
export type Schedule =
  | { readonly kind: 'constant' }
  | { readonly kind: 'step'; readonly every: number; readonly gamma: number }
  | { readonly kind: 'cosine'; readonly total: number; readonly minLr?: number; readonly warmup?: number };

/** A schedule field that cannot be used, with the reason. */
export interface ScheduleError {
  readonly _tag: 'InvalidSchedule';
  readonly field: string;
  readonly value: unknown;
  readonly reason: string;
}

/**
 * A one-line description of a schedule error.
 * @example formatScheduleError({ _tag: 'InvalidSchedule', field: 'every', value: 0, reason: 'must be an integer ≥ 1' })
 * // 'invalid schedule field every = 0: must be an integer ≥ 1'
 */
export const formatScheduleError = (e: ScheduleError): string =>
  `invalid schedule field ${e.field} = ${JSON.stringify(e.value)}: ${e.reason}`;

const isCount = (v: number, min: number): boolean => Number.isSafeInteger(v) && v >= min;

/**
 * Checks a schedule (e.g. one decoded from a user's config): `every ≥ 1` and `warmup ≥ 0`
 * integers, `total > warmup`, `gamma > 0` and `minLr ≥ 0` finite.
 * @example validateSchedule({ kind: 'cosine', total: 10, warmup: 10 }) // left: total must exceed warmup
 */
export const validateSchedule = (s: Schedule): E.Either<ScheduleError, Schedule> => {
  const fail = (field: string, value: unknown, reason: string): E.Either<ScheduleError, Schedule> =>
    E.left({ _tag: 'InvalidSchedule', field, value, reason });
  switch (s.kind) {
    case 'constant': return E.right(s);
    case 'step':
      if (!isCount(s.every, 1)) return fail('every', s.every, 'must be an integer ≥ 1');
      if (!(Number.isFinite(s.gamma) && s.gamma > 0)) return fail('gamma', s.gamma, 'must be a finite number > 0');
      return E.right(s);
    case 'cosine': {
      const warmup = s.warmup ?? 0;
      const minLr = s.minLr ?? 0;
      if (!isCount(warmup, 0)) return fail('warmup', warmup, 'must be an integer ≥ 0');
      if (!isCount(s.total, warmup + 1)) return fail('total', s.total, `must be an integer greater than warmup (${warmup})`);
      if (!(Number.isFinite(minLr) && minLr >= 0)) return fail('minLr', minLr, 'must be a finite number ≥ 0');
      return E.right(s);
    }
  }
};

/**
 * The learning rate for step `iteration` (0-based). Total: for schedules `validateSchedule`
 * rejects, `every` is taken as at least 1, `warmup` as at least 0 and `total − warmup` as at
 * least 1; a negative iteration is taken as 0.
 * @example lrAt({ kind: 'step', every: 10, gamma: 0.5 }, 0.1, 25) // 0.025
 * @example lrAt({ kind: 'cosine', total: 100 }, 0.1, 50) // ≈ 0.05
 */
export const lrAt = (s: Schedule, baseLr: number, iteration: number): number => {
  const i = Math.max(0, Math.floor(iteration));
  switch (s.kind) {
    case 'constant': return baseLr;
    case 'step': return baseLr * s.gamma ** Math.floor(i / Math.max(1, Math.floor(s.every)));
    case 'cosine': {
      const minLr = s.minLr ?? 0;
      const warmup = Math.max(0, Math.floor(s.warmup ?? 0));
      if (i < warmup) return (baseLr * (i + 1)) / warmup;
      const span = Math.max(1, Math.floor(s.total) - warmup);
      const tCur = i - warmup;
      if (tCur >= span) return minLr;
      return minLr + ((baseLr - minLr) * (1 + Math.cos((Math.PI * tCur) / span))) / 2;
    }
  }
};
