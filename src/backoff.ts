// Retry delays: exponential and capped. Watches and status writes jitter them so
// that replicas (and many webhooks behind one API server) do not retry in step;
// the agent, alone in its pod, retries on the plain steps.

export interface BackoffOptions {
  /** First delay (default 500 ms). */
  initialMs?: number;
  /** Largest delay (default 30 s). */
  maxMs?: number;
  /** An attempt that ran at least this long was healthy: next() starts over (default: never). */
  resetAfterMs?: number;
  /** Jitter each delay down by up to half (default true). */
  jitter?: boolean;
  /** Random number in [0, 1), for tests. */
  random?: () => number;
}

const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000 } as const;

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly resetAfterMs: number;
  private readonly random: (() => number) | undefined;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
    this.maxMs = Math.max(options.maxMs ?? DEFAULT_BACKOFF.maxMs, this.initialMs);
    this.resetAfterMs = options.resetAfterMs ?? Infinity;
    this.random = (options.jitter ?? true) ? (options.random ?? Math.random) : undefined;
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }

  /**
   * The next delay, given how long the last attempt ran: the capped exponential
   * step, jittered down by up to half ("equal jitter") unless jitter is off.
   */
  next(ranMs = 0): number {
    if (ranMs >= this.resetAfterMs) this.attempt = 0;
    const step = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return this.random ? Math.round(step / 2 + (step / 2) * this.random()) : step;
  }

  reset(): void {
    this.attempt = 0;
  }
}
