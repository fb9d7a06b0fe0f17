// Shared exit handling: bad input is exit code 2 with one clear line on stderr,
// and nothing on stdout.
import { EXIT_BAD_INPUT, InputError } from "./errors.js";

export async function runCommand(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`hookpoint ${name}: ${err.message}\n`);
      process.exitCode = EXIT_BAD_INPUT;
      return;
    }
    throw err;
  }
}
