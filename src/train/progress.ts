/**
 * What a user sees while training: on a terminal, a progress bar (cli-progress) with iteration,
 * loss, forward/backward function evaluations and time per iteration; without a terminal, one
 * JSON line per logged iteration. A `--log FILE` gets the JSON lines as well.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';

/** One logged training iteration. */
export interface IterationLog {
  readonly iteration: number;
  readonly loss: number;
  readonly nfeForward: number;
  readonly nfeBackward: number;
  readonly timeMs: number;
  readonly lr: number;
  readonly gradNorm: number;
}

/** A sink for iteration logs; `close` ends the bar and flushes. */
export interface Progress {
  readonly log: (entry: IterationLog) => void;
  readonly message: (line: string) => void;
  readonly close: () => void;
}

/** Options of `progress`. */
export interface ProgressOptions {
  readonly total: number;
  /** Start value (when resuming). */
  readonly start?: number;
  /** Show a bar (default: when stderr is a TTY); otherwise JSON lines on stdout. */
  readonly tty?: boolean;
  /** Also append JSON lines here (the file is truncated first). */
  readonly logFile?: string;
  /** Print nothing on stdout/stderr (the log file is still written). */
  readonly quiet?: boolean;
  /** Without a terminal, print every N-th iteration (and the last); the log file gets all (default 10). */
  readonly every?: number;
}

const fmt = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toPrecision(4));

/**
 * A progress reporter.
 * @example const p = progress({ total: 2000 }); p.log({ iteration: 1, loss: 0.5, … }); p.close();
 */
export const progress = (o: ProgressOptions): Progress => {
  if (o.logFile !== undefined) writeFileSync(o.logFile, '');
  const toFile = (e: IterationLog): void => {
    if (o.logFile !== undefined) appendFileSync(o.logFile, JSON.stringify(e) + '\n');
  };
  const tty = o.tty ?? process.stderr.isTTY === true;
  if (o.quiet === true) return { log: toFile, message: () => undefined, close: () => undefined };
  if (!tty) {
    const every = o.every ?? 10;
    return {
      log: (e) => {
        toFile(e);
        if (e.iteration % every === 0 || e.iteration === o.total || e.iteration === 1) process.stdout.write(JSON.stringify(e) + '\n');
      },
      message: (line) => process.stderr.write(line + '\n'),
      close: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar({
    format: 'iter {value}/{total} |{bar}| loss {loss} | nfe fwd {fwd} bwd {bwd} | {ms} ms/iter | eta {eta_formatted}',
    hideCursor: true, stream: process.stderr, clearOnComplete: false, barsize: 24,
  }, cliProgress.Presets.shades_classic);
  bar.start(o.total, o.start ?? 0, { loss: '-', fwd: '-', bwd: '-', ms: '-' });
  return {
    log: (e) => {
      toFile(e);
      bar.update(e.iteration, { loss: fmt(e.loss), fwd: e.nfeForward, bwd: e.nfeBackward, ms: e.timeMs.toFixed(1) });
    },
    // The single bar has no log line API: end the line, print, and let the next update redraw.
    message: (line) => process.stderr.write(`\n${line}\n`),
    close: () => bar.stop(),
  };
};
