// SIGTERM/SIGINT: stop being ready, go on answering for the shutdown delay
// (SIGTERM only: Kubernetes removes the endpoint while the pod already has it),
// then stop accepting, let in-flight reviews finish, exit. Kubernetes sends
// SIGKILL after the pod's grace period (30 s by default); we exit well before,
// forcing the exit if closing hangs.
export const DEFAULT_GRACE_MS = 8000;
/** Endpoint removal reaches every API server within a few seconds. */
export const DEFAULT_SHUTDOWN_DELAY_MS = 5000;

export interface ShutdownLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ShutdownOptions {
  log: ShutdownLogger;
  /** Longest wait for in-flight requests, once closing, before the exit is forced. */
  graceMs?: number;
  /** How long a SIGTERM'd server goes on answering before it closes. SIGINT (Ctrl-C) does not wait. */
  delayMs?: number;
  signals?: readonly NodeJS.Signals[];
  exit?: (code: number) => void;
}

/** What shuts the server down: answer on for `delayMs`, call onClosing, then close. */
export type CloseFn = (options: { delayMs: number; onClosing: () => void }) => Promise<void>;

/** Installs the handlers; returns a function that removes them. */
export function exitOnSignals(close: CloseFn, opts: ShutdownOptions): () => void {
  const signals = opts.signals ?? ["SIGTERM", "SIGINT"];
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      // A second Ctrl-C means "now".
      opts.log.info({ signal }, "second signal; exiting now");
      exit(1);
      return;
    }
    closing = true;
    const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
    const delayMs = signal === "SIGTERM" ? (opts.delayMs ?? DEFAULT_SHUTDOWN_DELAY_MS) : 0;
    opts.log.info({ signal, delayMs }, "shutting down: not ready, still answering for the shutdown delay");
    const force = setTimeout(() => {
      opts.log.error({ graceMs }, "shutdown did not finish in time; exiting");
      exit(1);
    }, delayMs + graceMs);
    force.unref();
    const onClosing = () => opts.log.info({ graceMs }, "closing: no new connections, finishing in-flight requests");
    close({ delayMs, onClosing }).then(
      () => {
        clearTimeout(force);
        opts.log.info({}, "shut down");
        exit(0);
      },
      (err: unknown) => {
        clearTimeout(force);
        opts.log.error({ err }, "shutdown failed");
        exit(1);
      },
    );
  };
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}
