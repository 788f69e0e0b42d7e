/**
 * Validation of the time arguments of a solve, turned into a plan: span, direction, output grid
 * (shared or one per trajectory), and the stop times the stepper must land on exactly.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { InvalidTimes, SolveError } from './errors.ts';

/** Output times: none, one grid for the batch, or one grid per trajectory (B × T). */
export type OutputGrid =
  | { readonly kind: 'none' }
  | { readonly kind: 'shared'; readonly ts: readonly number[] }
  | { readonly kind: 'rows'; readonly ts: readonly (readonly number[])[] };

/** A validated time plan. */
export interface TimePlan {
  readonly t0: number;
  readonly t1: number;
  /** +1 forwards, −1 backwards. */
  readonly dir: 1 | -1;
  readonly out: OutputGrid;
  /** Times strictly inside the span to land on, sorted in the direction of integration. */
  readonly stops: readonly number[];
  /** The subset of `stops` that are discontinuities (restart after them). */
  readonly jumps: ReadonlySet<number>;
}

/** The time-related options. */
export interface TimeOptions {
  readonly t0?: number;
  readonly t1?: number;
  readonly ts?: readonly number[] | readonly (readonly number[])[];
  readonly stepTs?: readonly number[];
  readonly jumpTs?: readonly number[];
}

const bad = (reason: string, extra: Omit<InvalidTimes, '_tag' | 'reason'> = {}): E.Either<SolveError, never> =>
  E.left({ _tag: 'InvalidTimes', reason, ...extra });

const isGrid = (ts: readonly number[] | readonly (readonly number[])[]): ts is readonly (readonly number[])[] =>
  ts.length > 0 && Array.isArray(ts[0]);

const checkRow = (row: readonly number[], r: number | undefined): E.Either<SolveError, readonly number[]> => {
  for (let i = 0; i < row.length; i++) {
    const v = row[i] as number;
    if (!Number.isFinite(v)) return bad('output time is not a finite number', { index: i, value: v, ...(r === undefined ? {} : { row: r }) });
  }
  if (row.length >= 2) {
    const d = Math.sign((row[1] as number) - (row[0] as number));
    for (let i = 1; i < row.length; i++) {
      const step = (row[i] as number) - (row[i - 1] as number);
      if (step === 0 || Math.sign(step) !== d) {
        return bad('output times are not strictly monotone', { index: i, value: row[i] as number, ...(r === undefined ? {} : { row: r }) });
      }
    }
  }
  return E.right(row);
};

const checkInSpan = (row: readonly number[], t0: number, t1: number, dir: 1 | -1, r: number | undefined): E.Either<SolveError, true> => {
  if (row.length >= 2 && t0 !== t1 && Math.sign((row[1] as number) - (row[0] as number)) !== dir) {
    return bad(`output times run ${dir === 1 ? 'down' : 'up'} but the integration runs from t0 = ${t0} to t1 = ${t1}`, {
      index: 1, value: row[1] as number, ...(r === undefined ? {} : { row: r }),
    });
  }
  for (let i = 0; i < row.length; i++) {
    const v = row[i] as number;
    if (dir * (v - t0) < 0 || dir * (v - t1) > 0) {
      return bad(`output time outside the span [${t0}, ${t1}] or against the direction of integration`, {
        index: i, value: v, ...(r === undefined ? {} : { row: r }),
      });
    }
  }
  return E.right(true);
};

/**
 * Validates times and builds the plan. `t0` defaults to the first output time (the earliest over
 * rows), `t1` to the last (the latest over rows).
 * @example
 * planTimes({ ts: [0, 0.5, 1] }); // Right({ t0: 0, t1: 1, dir: 1, out: shared, stops: [], … })
 * planTimes({ ts: [0, 2, 1] });   // Left(InvalidTimes 'not strictly monotone')
 */
export const planTimes = (o: TimeOptions): E.Either<SolveError, TimePlan> => {
  const ts = o.ts ?? [];
  const rows: readonly (readonly number[])[] = isGrid(ts) ? ts : [ts as readonly number[]];
  for (let r = 0; r < rows.length; r++) {
    const c = checkRow(rows[r] as readonly number[], isGrid(ts) ? r : undefined);
    if (E.isLeft(c)) return c;
  }
  if (isGrid(ts) && rows.some((row) => row.length !== (rows[0] as readonly number[]).length)) {
    return bad('per-trajectory grids must all have the same number of times');
  }
  const firsts = rows.flatMap((row) => (row.length > 0 ? [row[0] as number] : []));
  const lasts = rows.flatMap((row) => (row.length > 0 ? [row[row.length - 1] as number] : []));
  const inferredDir = rows.some((row) => row.length >= 2 && (row[1] as number) < (row[0] as number)) ? -1 : 1;
  const pick = (xs: number[], latest: boolean): number | undefined =>
    xs.length === 0 ? undefined : (latest === (inferredDir === 1) ? Math.max : Math.min)(...xs);
  const t0 = o.t0 ?? pick(firsts, false);
  const t1 = o.t1 ?? pick(lasts, true);
  if (t0 === undefined) return bad('no t0: give t0 or output times ts');
  if (t1 === undefined) return bad('no t1: give t1 or output times ts');
  if (!Number.isFinite(t0)) return bad('t0 is not a finite number', { value: t0 });
  if (!Number.isFinite(t1)) return bad('t1 is not a finite number', { value: t1 });
  const dir: 1 | -1 = t1 >= t0 ? 1 : -1;
  for (let r = 0; r < rows.length; r++) {
    const c = checkInSpan(rows[r] as readonly number[], t0, t1, dir, isGrid(ts) ? r : undefined);
    if (E.isLeft(c)) return c;
  }
  const extra = [...(o.stepTs ?? []), ...(o.jumpTs ?? [])];
  const nonFinite = extra.findIndex((v) => !Number.isFinite(v));
  if (nonFinite >= 0) return bad('stepTs/jumpTs contain a non-finite time', { index: nonFinite, value: extra[nonFinite] as number });
  const inside = (v: number): boolean => dir * (v - t0) > 0 && dir * (v - t1) < 0;
  const stops = [...new Set(extra.filter(inside))].sort((a, b) => dir * (a - b));
  const jumps = new Set((o.jumpTs ?? []).filter(inside));
  const out: OutputGrid =
    ts.length === 0 ? { kind: 'none' } : isGrid(ts) ? { kind: 'rows', ts: rows } : { kind: 'shared', ts: rows[0] as readonly number[] };
  return E.right({ t0, t1, dir, out, stops, jumps });
};
