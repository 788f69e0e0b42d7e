/**
 * The `fluxion` command line. Each subcommand returns `Either<CliError, string>`; a user error
 * is one line on stderr and a non-zero exit code, never a stack trace.
 */
import * as E from 'fp-ts/lib/Either.js';
import { info } from './cmdInfo.ts';
import type { Command } from './command.ts';

const commands: Readonly<Record<string, Command>> = Object.freeze(Object.assign(Object.create(null) as Record<string, Command>, {
  info,
}));

const help = (): string =>
  ['usage: fluxion <command> [options]', '', 'commands:', ...Object.values(commands).map((c) => `  ${c.usage.padEnd(58)} ${c.summary}`)].join('\n');

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code.
 * @example await main(['info']) // 0
 */
export const main = async (argv: readonly string[]): Promise<number> => {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name === undefined ? 2 : 0;
  }
  const cmd = commands[name];
  if (cmd === undefined) {
    process.stderr.write(`fluxion: unknown command ${JSON.stringify(name)}; try: ${Object.keys(commands).join(', ')}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: ${cmd.usage}\n${cmd.summary}\n`);
    return 0;
  }
  const r = await cmd.run(rest);
  if (E.isLeft(r)) {
    process.stderr.write(`fluxion ${name}: ${r.left.message}${r.left.usage === true ? `\nusage: ${cmd.usage}` : ''}\n`);
    return r.left.usage === true ? 2 : 1;
  }
  if (r.right !== '') process.stdout.write(r.right.endsWith('\n') ? r.right : r.right + '\n');
  return 0;
};
