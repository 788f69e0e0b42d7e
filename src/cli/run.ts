/** Process entry of the `fluxion` command: runs `main` and sets the exit code. */
import { main } from './main.ts';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Only bugs reach here: expected failures are values.
    process.stderr.write(`fluxion: internal error (please report): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
