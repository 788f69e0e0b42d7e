/**
 * The `fluxion` command line. Each subcommand returns `Either<CliError, string>`; a user error
 * is one line on stderr and a non-zero exit code, never a stack trace. Commands are loaded
 * lazily so that `fluxion print` does not pay for loading TensorFlow.js.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from './command.ts';

interface Entry {
  readonly usage: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

const commands: ReadonlyMap<string, Entry> = new Map<string, Entry>([
  ['print', { usage: 'fluxion print SPEC.json [--latex] [--ascii]', summary: 'print a model or expression spec as text or LaTeX', load: async () => (await import('./cmdPrint.ts')).print }],
  ['eval', { usage: 'fluxion eval SPEC.json --inputs VALUES.json', summary: 'evaluate a spec in float64 on inputs from a JSON file', load: async () => (await import('./cmdEval.ts')).evalCmd }],
  ['solve', { usage: 'fluxion solve SPEC.json --y0 JSON --ts T0,T1,… [--method dopri5] [--rtol R] [--atol A] [--json]', summary: 'solve the dynamics from y0 and print the solution at ts with statistics', load: async () => (await import('./cmdSolve.ts')).solve }],
  ['adjoint', { usage: 'fluxion adjoint SPEC.json [--latex]', summary: 'print the augmented adjoint system derived from the model', load: async () => (await import('./cmdAdjoint.ts')).adjoint }],
  ['gradcheck', { usage: 'fluxion gradcheck SPEC.json --data DATA.json [--rtol R] [--json]', summary: 'compare adjoint, backprop and finite-difference gradients on a batch', load: async () => (await import('./cmdGradcheck.ts')).gradcheck }],
  ['train', { usage: 'fluxion train SPEC.json --data DATA.json --out DIR [--resume] [--iters N] [--method M] [--rtol R] [--atol A] [--grad adjoint|backprop] [--optimizer adam|adamw|rmsprop|sgd] [--lr LR] [--batch-size B] [--batch-time T] [--clip N] [--seed S] [--log FILE]', summary: 'train a model on trajectory data with the adjoint method; checkpoints, plots and a summary in DIR', load: async () => (await import('./cmdTrain.ts')).train }],
  ['predict', { usage: 'fluxion predict SPEC.json --params DIR/checkpoint.json --y0 JSON --ts T0,T1,… [--method M]', summary: 'forecast with trained parameters (JSON out)', load: async () => (await import('./cmdPredict.ts')).predict }],
  ['demo', { usage: 'fluxion demo [--out DIR] [--iters N] [...train options]', summary: "train torchdiffeq's spiral on the shipped data and write plots to out/", load: async () => (await import('./cmdTrain.ts')).demo }],
  ['info', { usage: 'fluxion info [--json]', summary: 'show versions and which TensorFlow.js backend is used', load: async () => (await import('./cmdInfo.ts')).info }],
]);

const help = (): string =>
  ['usage: fluxion <command> [options]', '', 'commands:', ...[...commands.values()].map((c) => `  ${c.usage.padEnd(60)} ${c.summary}`)].join('\n');

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code.
 * @example await main(['print', 'examples/specs/spiral.json']) // 0
 */
export const main = async (argv: readonly string[]): Promise<number> => {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name === undefined ? 2 : 0;
  }
  const entry = commands.get(name);
  if (entry === undefined) {
    process.stderr.write(`fluxion: unknown command ${JSON.stringify(name)}; try: ${[...commands.keys()].join(', ')}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: ${entry.usage}\n${entry.summary}\n`);
    return 0;
  }
  const cmd = await entry.load();
  const r = await cmd.run(rest);
  if (E.isLeft(r)) {
    const lines = r.left.message.split('\n').map((l) => `fluxion ${name}: ${l}`);
    process.stderr.write(`${lines.join('\n')}${r.left.usage === true ? `\nusage: ${entry.usage}` : ''}\n`);
    return r.left.usage === true ? 2 : 1;
  }
  if (r.right !== '') process.stdout.write(r.right.endsWith('\n') ? r.right : r.right + '\n');
  return 0;
};
