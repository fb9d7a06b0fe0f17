// Bounded polling for what the cluster does eventually (a new webhook
// configuration in the API server, a namespace or policy in the webhook's
// informers). Every loop is bounded in time; the elapsed time is returned so a
// test can print it (tests never assert on time).

export interface PollOptions {
  /** What is awaited, for the error message. */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
}

export interface Polled<T> {
  value: T;
  /** From the first attempt's start to the successful attempt's end. */
  elapsedMs: number;
  attempts: number;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Calls `attempt` until `done(value)`; throws after timeoutMs naming `what` and the last value. */
export async function pollUntil<T>(attempt: () => Promise<T>, done: (value: T) => boolean, opts: PollOptions): Promise<Polled<T>> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const intervalMs = opts.intervalMs ?? 50;
  const start = performance.now();
  let attempts = 0;
  let last: T | undefined;
  while (performance.now() - start < timeoutMs) {
    attempts += 1;
    last = await attempt();
    if (done(last)) return { value: last, elapsedMs: performance.now() - start, attempts };
    await sleep(intervalMs);
  }
  throw new Error(`${opts.what}: not reached after ${timeoutMs} ms (${attempts} attempts); last: ${JSON.stringify(last)?.slice(0, 800)}`);
}
