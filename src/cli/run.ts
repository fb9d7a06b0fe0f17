// Shared exit handling (exit codes in errors.ts): one clear line on stderr,
// prefixed by the command, and nothing on stdout.
import { EXIT_BAD_INPUT, EXIT_FAILURE, InputError, UsageError } from "./errors.js";

export async function runCommand(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof InputError || err instanceof UsageError) {
      process.stderr.write(`hookpoint ${name}: ${err.message}\n`);
      process.exitCode = EXIT_BAD_INPUT;
      return;
    }
    // The job failed: a JobError says why; anything else is reported the same way.
    process.stderr.write(`hookpoint ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}
