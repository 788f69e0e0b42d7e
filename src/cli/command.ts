/** One CLI command: parses its arguments and runs; its usage and summary live in main.ts. */
import type { CliResult } from './io.ts';

export interface Command {
  readonly run: (args: readonly string[]) => Promise<CliResult>;
}
