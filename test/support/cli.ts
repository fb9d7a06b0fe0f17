// Run the hookpoint CLI as a user would: a real process, exit code, stdout, stderr.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string;
  /** Added to this process's environment; an undefined value removes the variable. */
  env?: Record<string, string | undefined>;
  /** Run as this user and group (the tests run as root; some errors need another user). */
  uid?: number;
  gid?: number;
}

const CLI = ["--import", "tsx", "src/cli/main.ts"];
const TIMEOUT_MS = 60_000;

function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
  return env;
}

export function runCli(args: readonly string[], opts: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [...CLI, ...args], {
    cwd: repoRoot,
    input: opts.input ?? "",
    encoding: "utf8",
    timeout: TIMEOUT_MS,
    env: cliEnv(opts.env),
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * runCli without blocking this process, for tests that serve the CLI from it
 * (a fake API server). Resolves on "close", once stdout and stderr are drained.
 */
export function runCliAsync(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd: repoRoot,
      env: cliEnv(opts.env),
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdin.on("error", () => {}); // EPIPE when the CLI exits without reading its input, as spawnSync ignores it
    child.stdin.end(opts.input ?? "");
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Waits until `child` (the webhook, spawned with stdout and stderr piped) logs Fastify's
 * "Server listening at https://HOST:PORT" with a HOST matching `host`; each JSON log line
 * goes to `onLine` first. Rejects, quoting its stderr, when it exits first or after `ms`.
 * Resolves with the host, the port and its stderr so far.
 */
export function serverListening(child: ChildProcess, what: string, opts: { ms: number; host?: RegExp; onLine?: (entry: Record<string, unknown>) => void }): Promise<{ host: string; port: number; stderr: string }> {
  const listening = new RegExp(`^Server listening at https://(${(opts.host ?? /127\.0\.0\.1/).source}):(\\d+)$`);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not listen within ${opts.ms / 1000} s; stderr: ${stderr}`)), opts.ms);
    child.once("exit", (code) => reject(new Error(`${what} exited with ${code} before listening; stderr: ${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      opts.onLine?.(entry);
      const m = listening.exec(String(entry.msg));
      if (!m) return;
      clearTimeout(timer);
      resolve({ host: m[1]!, port: Number(m[2]), stderr });
    });
  });
}

export const NOBODY = { uid: 65534, gid: 65534 } as const;
let nobodyReason: string | null | undefined;

/**
 * Why the CLI cannot run as user nobody from this checkout (a clone under a 0700
 * directory, say), or null when it can. Tests that need a second user skip with this
 * reason instead of failing on an unrelated EACCES.
 */
export function nobodySkipReason(): string | null {
  if (nobodyReason !== undefined) return nobodyReason;
  const probe = spawnSync(process.execPath, ["-e", "require('node:fs').accessSync(process.argv[1], require('node:fs').constants.R_OK)", `${repoRoot}src/cli/main.ts`], { ...NOBODY, encoding: "utf8", timeout: TIMEOUT_MS });
  nobodyReason = probe.status === 0 ? null : `user nobody (uid 65534) cannot read this checkout (${repoRoot}): a parent directory is not searchable by others`;
  return nobodyReason;
}
