// Retry delays for watches and status writes: exponential, capped, with jitter
// so that replicas (and many webhooks behind one API server) do not retry in step.

export interface BackoffOptions {
  /** First delay (default 500 ms). */
  initialMs?: number;
  /** Largest delay (default 30 s). */
  maxMs?: number;
  /** Random number in [0, 1), for tests. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000 } as const;

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
    this.maxMs = Math.max(options.maxMs ?? DEFAULT_BACKOFF.maxMs, this.initialMs);
    this.random = options.random ?? Math.random;
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }

  /** The next delay: the capped exponential step, jittered down by up to half ("equal jitter"). */
  next(): number {
    const step = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(step / 2 + (step / 2) * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
