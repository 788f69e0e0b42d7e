/** The shape of one CLI command: a summary, a usage line and a run function. */
import type { CliResult } from './io.ts';

export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly run: (args: readonly string[]) => Promise<CliResult>;
}
