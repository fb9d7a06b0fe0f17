// Certificate lifetimes in days, apart from generate.ts so that command-line
// help can show the defaults without loading node-forge.

export const CA_DAYS = 3650;
export const SERVING_DAYS = 365;
const MAX_DAYS = 3650;

/** Throws an error naming `what` unless `days` is a whole number in 1..MAX_DAYS. */
export function checkDays(what: string, days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
    throw new Error(`${what} must be a whole number of days between 1 and ${MAX_DAYS}, got ${String(days)}`);
  }
  return days;
}
