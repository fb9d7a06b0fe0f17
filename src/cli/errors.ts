// Exit codes and the errors behind them, the same for every command:
//   0  the job was done;
//   1  the job failed (a denied document, a failing check, a rollout rolled back,
//      a cluster that cannot be reached);
//   2  the command could not start: a usage error (unknown or conflicting flags)
//      or bad input (a file that cannot be read or parsed), named in one line.

export { InputError } from "../input-error.js";

export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

/** Flags that do not go together, or a flag value that cannot be used: exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The job ran and failed; the message says what failed (exit 1). */
export class JobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JobError";
  }
}
