// Starts the proxy command (pilot-agent) as the proxy's uid/gid, forwards signals to it,
// and reports its exit code. Nothing here depends on tracing: it runs first and alone.
//
// Signals go to the command's pid only, never to its process group: pilot-agent drains
// Envoy on SIGTERM (`--drain-time-s`, EXIT_ON_ZERO_ACTIVE_CONNECTIONS) and then stops it
// itself; a SIGTERM that reached Envoy directly would cut the drain short. The command
// runs in a session of its own, so a terminal's Ctrl-C reaches only the agent too.
//
// Zombies: as a container's PID 1 the agent inherits every orphaned process, and Node can
// only wait for its own children. The image's launcher makes tini PID 1 instead; when the
// agent is PID 1 all the same, the command runs under `tini -s --` (child subreaper, no
// group signalling), which reaps orphans of the whole proxy tree.
import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import type { Logger } from "pino";

export const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;
export type ForwardedSignal = (typeof FORWARDED_SIGNALS)[number];

export interface SupervisorOptions {
  command: string;
  args: string[];
  uid: number | null;
  gid: number | null;
  /** Run the command as `REAPER -s -- command args` (tini as child subreaper). */
  reaper: string | null;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** Told of each signal the agent receives, after it was forwarded. */
  onSignal?: (signal: ForwardedSignal) => void;
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
  /** The uid/gid the command really runs as (null: the agent's own). */
  runsAs: { uid: number | null; gid: number | null } = { uid: null, gid: null };
  private resolveExit!: (e: CommandExit) => void;
  private readonly handlers = new Map<string, () => void>();
  private child: ChildProcess | null = null;
  private done = false;

  constructor(private readonly opts: SupervisorOptions) {
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  /** Starts the command; the returned pid is the root of the process tree to search. */
  start(): number | null {
    const { command, log } = this.opts;
    // Handlers go in before the spawn: on a busy node the command can start and a signal
    // arrive before this thread runs again, and without a handler Node's default would end
    // the agent instead. The handlers run from the event loop, after this method, when
    // the child is known.
    for (const sig of FORWARDED_SIGNALS) {
      const h = (): void => {
        if (this.done) {
          // Kept after the command's exit: the agent is writing its final dumps, and Node's
          // default would end it with this signal, losing them and the command's exit code.
          this.opts.log.info({ signal: sig }, "signal after the command exited: the agent finishes writing and exits with the command's code");
          return;
        }
        this.forward(sig);
        this.opts.onSignal?.(sig);
      };
      this.handlers.set(sig, h);
      process.on(sig, h);
    }
    let child: ChildProcess | null = null;
    try {
      child = this.spawnAs(this.opts.uid, this.opts.gid);
      this.runsAs = { uid: this.opts.uid, gid: this.opts.gid };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "EPERM" && (this.opts.uid !== null || this.opts.gid !== null)) {
        // The proxy runs rather than not at all: as the agent's own user.
        log.error(
          { command, uid: this.opts.uid, gid: this.opts.gid, err: e.message, fix: "add SETUID and SETGID to the profile's capabilities" },
          "cannot switch to the proxy's uid/gid (CAP_SETUID/CAP_SETGID missing); starting the command as the agent's own user",
        );
        try {
          child = this.spawnAs(null, null);
        } catch (again) {
          log.error({ command, err: (again as Error).message }, "cannot start the command");
        }
      } else {
        log.error({ command, err: e.message }, "cannot start the command");
      }
    }
    if (!child) {
      this.finish({ code: 127, signal: null });
      return null;
    }
    this.child = child;
    child.on("error", (err) => {
      // spawn failures that Node reports late (ENOENT, EACCES): no exit event follows.
      log.error({ command, err: err.message }, "cannot start the command");
      this.finish({ code: 127, signal: null });
    });
    child.on("exit", (code, signal) => {
      const exitCode = exitCodeOf(code, signal, constants.signals as Record<string, number>);
      log.info({ command, pid: child.pid, code, signal, exitCode }, "command exited");
      this.finish({ code: exitCode, signal });
    });
    if (child.pid !== undefined) {
      log.info({ command, args: this.opts.args, pid: child.pid, uid: this.runsAs.uid, gid: this.runsAs.gid, reaper: this.opts.reaper }, "command started");
    }
    return child.pid ?? null;
  }

  /** Sends `sig` to the command's pid (not its group); a failure is logged with its reason. */
  forward(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined || this.done) return;
    try {
      process.kill(pid, sig);
      this.opts.log.info({ signal: sig, pid }, "forwarding signal to the command");
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ESRCH") return;
      this.opts.log.error(
        { signal: sig, pid, err: e.message, ...(e.code === "EPERM" ? { fix: "add KILL to the profile's capabilities" } : {}) },
        e.code === "EPERM" ? "cannot signal the command: it runs as another user and the agent lacks CAP_KILL" : "cannot signal the command",
      );
    }
  }

  private spawnAs(uid: number | null, gid: number | null): ChildProcess {
    const { command, args, reaper } = this.opts;
    const [file, argv] = reaper ? [reaper, ["-s", "--", command, ...args]] : [command, args];
    return spawn(file, argv, {
      stdio: "inherit",
      env: this.opts.env,
      detached: true,
      ...(uid !== null ? { uid } : {}),
      ...(gid !== null ? { gid } : {}),
    });
  }

  /** Removes the signal handlers (once the agent has finished after the command's exit). */
  release(): void {
    for (const [sig, h] of this.handlers) process.off(sig, h);
    this.handlers.clear();
  }

  private finish(e: CommandExit): void {
    if (this.done) return;
    this.done = true;
    this.resolveExit(e);
  }
}
