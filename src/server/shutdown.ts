// SIGTERM/SIGINT: stop accepting, let in-flight reviews finish, exit. Kubernetes
// sends SIGKILL after the pod's grace period (30 s by default); we exit well
// before, forcing the exit if closing hangs.
export const DEFAULT_GRACE_MS = 8000;

export interface ShutdownLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ShutdownOptions {
  log: ShutdownLogger;
  /** Longest wait for in-flight requests before the exit is forced. */
  graceMs?: number;
  signals?: readonly NodeJS.Signals[];
  exit?: (code: number) => void;
}

/** Installs the handlers; returns a function that removes them. */
export function exitOnSignals(close: () => Promise<void>, opts: ShutdownOptions): () => void {
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
    opts.log.info({ signal, graceMs }, "shutting down: no new connections, finishing in-flight requests");
    const force = setTimeout(() => {
      opts.log.error({ graceMs }, "shutdown did not finish in time; exiting");
      exit(1);
    }, graceMs);
    force.unref();
    close().then(
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
