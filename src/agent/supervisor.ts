// Starts the proxy command (pilot-agent) as the proxy's uid/gid, forwards signals to it,
// and reports its exit code. Nothing here depends on tracing: it runs first and alone.
//
// Zombies: as a container's PID 1 the agent inherits every orphaned process, and Node can
// only wait for its own children. With a reaper (`tini -s`), the command runs under tini,
// which registers as child subreaper and reaps orphans of the whole proxy tree.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Logger } from "pino";

export const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

export interface SupervisorOptions {
  command: string;
  args: string[];
  uid: number | null;
  gid: number | null;
  /** Run the command as `REAPER -s -g -- command args` (tini). */
  reaper: string | null;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

export interface CommandExit {
  code: number;
  signal: NodeJS.Signals | null;
}

/** Exit code for a child that ended by a signal: 128 + signal number, like a shell. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null, signalNumbers: Record<string, number>): number {
  if (code !== null) return code;
  if (signal) return 128 + (signalNumbers[signal] ?? 0);
  return 1;
}

export class Supervisor {
  readonly exited: Promise<CommandExit>;
  private resolveExit!: (e: CommandExit) => void;
  private readonly handlers = new Map<string, () => void>();

  constructor(private readonly opts: SupervisorOptions) {
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  /** Starts the command; the returned pid is the root of the process tree to search. */
  start(): number | null {
    const { command, args, reaper, log } = this.opts;
    const [file, argv] = reaper ? [reaper, ["-s", "-g", "--", command, ...args]] : [command, args];
    const child = spawn(file, argv, {
      stdio: "inherit",
      env: this.opts.env,
      ...(this.opts.uid !== null ? { uid: this.opts.uid } : {}),
      ...(this.opts.gid !== null ? { gid: this.opts.gid } : {}),
    });
    child.on("error", (err) => {
      log.error({ command, err: err.message }, "cannot start the command");
      this.finish({ code: 127, signal: null });
    });
    child.on("exit", (code, signal) => {
      const exitCode = exitCodeOf(code, signal, constants.signals as Record<string, number>);
      log.info({ command, pid: child.pid, code, signal, exitCode }, "command exited");
      this.finish({ code: exitCode, signal });
    });
    for (const sig of FORWARDED_SIGNALS) {
      const h = (): void => {
        log.info({ signal: sig, pid: child.pid }, "forwarding signal to the command");
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill(sig);
      };
      this.handlers.set(sig, h);
      process.on(sig, h);
    }
    if (child.pid !== undefined) log.info({ command, args, pid: child.pid, uid: this.opts.uid, gid: this.opts.gid, reaper }, "command started");
    return child.pid ?? null;
  }

  private finish(e: CommandExit): void {
    for (const [sig, h] of this.handlers) process.off(sig, h);
    this.handlers.clear();
    this.resolveExit(e);
  }
}
