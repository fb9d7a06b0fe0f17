// Exponential backoff for retries that must never give up (tracing is retried for as long
// as the proxy runs). Pure: the caller says how long the last attempt ran.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** An attempt that ran at least this long was healthy: start over from initialMs. */
  resetAfterMs: number;
}

export class Backoff {
  private attempt = 0;

  constructor(private readonly opts: BackoffOptions) {}

  /** Delay before the next attempt, given how long the last one ran. */
  next(ranMs = 0): number {
    if (ranMs >= this.opts.resetAfterMs) this.attempt = 0;
    const delay = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }
}
