// The benchmarks' server child processes (bench/webhook-server.ts): the real
// webhook or a bare Fastify server, each in a process of its own so that the load
// generator never shares its event loop; and what is read from /proc about them.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createCertificateAuthority, createServingCertificate } from "../src/certs/generate.js";
import { cpuTicks } from "./common.js";

export interface Server {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** bare: [answers file] ({uid: answer text}); webhook: nothing. */
  args?: readonly string[];
  /** Another checkout of hookpoint whose webhook-server.ts runs instead of this one's. */
  checkout?: string;
}

/**
 * Starts bench/webhook-server.ts MODE CERT KEY [FILES...] and waits for its port.
 * BENCH_NODE_FLAGS adds node flags to both servers (profiling); BENCH_WEBHOOK_NODE_FLAGS
 * to the webhook only (tuning it against an untouched bare server); BENCH_BASELINE_NODE_FLAGS
 * to the --compare webhook only (the same code with and without a flag, side by side).
 */
export async function startServer(mode: "webhook" | "bare", cert: string, key: string, o: ServerOptions = {}): Promise<Server> {
  const script = o.checkout ? join(o.checkout, "bench", "webhook-server.ts") : new URL("./webhook-server.ts", import.meta.url).pathname;
  const own = mode === "bare" ? undefined : o.checkout ? process.env.BENCH_BASELINE_NODE_FLAGS : process.env.BENCH_WEBHOOK_NODE_FLAGS;
  const flags = [process.env.BENCH_NODE_FLAGS, own].flatMap((f) => (f ? f.split(" ") : []));
  const args = [...flags, "--import", "tsx", script, mode, cert, key, ...(o.args ?? [])];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
    ...(o.checkout ? { cwd: o.checkout } : {}),
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${mode} server did not start within 60 s`)), 60_000);
    child.once("exit", (code) => reject(new Error(`${mode} server exited with ${code}`)));
    // Other lines (node --trace-gc prints to stdout) pass through to stderr.
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const port = /^\{"port":(\d+)\}$/.exec(line)?.[1];
      if (port === undefined) return void process.stderr.write(`${line}\n`);
      clearTimeout(timer);
      resolve(Number(port));
    });
  });
  return {
    child,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
        child.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

/** utime + stime of a process, in µs (clock ticks of 10 ms). */
export const cpuUs = (pid: number): number => cpuTicks(pid) * 10_000;

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A CA and a serving certificate for localhost/127.0.0.1, written as tls.crt and tls.key into `dir`. */
export function writeBenchCerts(dir: string): { caPem: string; cert: string; key: string } {
  const ca = createCertificateAuthority();
  const pair = createServingCertificate({ ca, commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const cert = join(dir, "tls.crt");
  const key = join(dir, "tls.key");
  writeFileSync(cert, pair.certPem);
  writeFileSync(key, pair.keyPem, { mode: 0o600 });
  return { caPem: ca.certPem, cert, key };
}
