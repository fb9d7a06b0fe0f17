// `hookpoint webhook` as a real process: the example review answered, graceful
// SIGTERM (in-flight request finished, idle connections closed, exit 0 within
// 10 s), and clear start-up errors.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runCliAsync } from "../../support/cli.js";
import { newCa, SecretDir, servingCert } from "./support.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CLI = ["--import", "tsx", "src/cli/main.ts"];
const EXAMPLES = ["--policy", "examples/policy.yaml", "--namespaces", "examples/namespaces.yaml"];
const EXAMPLE_REVIEW = readFileSync(new URL("examples/admission-review.json", `file://${ROOT}`), "utf8");

const ca = newCa();
const pair = servingCert(ca);
const secret = new SecretDir({
  "tls.crt": pair.certPem,
  "tls.key": pair.keyPem,
  "other.key": servingCert(ca).keyPem,
  "bad-policy.yaml": "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata:\n  name: x\nspec:\n  mode: Sometimes\n",
});
afterAll(() => secret.remove());

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e = { ...process.env, ...extra };
  delete e.KUBERNETES_SERVICE_HOST;
  delete e.KUBERNETES_SERVICE_PORT;
  return e;
}

interface Started {
  child: ChildProcess;
  port: number;
  lines: Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(process.execPath, [...CLI, "webhook", ...args], { cwd: ROOT, env: env(extraEnv), stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`webhook did not start within 30 s; stderr: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      const m = /^Server listening at https:\/\/127\.0\.0\.1:(\d+)$/.exec(String(entry.msg));
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(({ code }) => reject(new Error(`webhook exited with ${code} before listening; stderr: ${stderr}`)));
  });
  return { child, port, lines, exited };
}

/** The process's exit, or a failure if it takes longer than `ms` (a bound, not a timing assertion). */
async function exitWithin(s: Started, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`did not exit within ${ms} ms`)), ms)));
  try {
    return await Promise.race([s.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `hookpoint webhook ARGS` to its end, outside any cluster. */
const runWebhook = (args: string[]) => runCliAsync(["webhook", ...args], { env: { KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined } });

const TLS_FLAGS = () => ["--host", "127.0.0.1", "--port", "0", "--cert", secret.path("tls.crt"), "--key", secret.path("tls.key")];

describe("hookpoint webhook (process)", () => {
  it("answers the bundled example review with a patch, then shuts down gracefully on SIGTERM", async () => {
    const s = await startCli([...TLS_FLAGS(), ...EXAMPLES]);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });

    // An idle keep-alive connection, after one complete request: the example a newcomer curls.
    // (Wrapped in an object: resolving with a bare promise would wait for it.)
    const idle = await new Promise<{ closed: Promise<void> }>((resolve, reject) => {
      const req = https.request({ host: "127.0.0.1", port: s.port, path: "/mutate", method: "POST", ca: ca.certPem, agent, headers: { "content-type": "application/json" } }, (res) => {
        const socket = res.socket;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          const answer = JSON.parse(text) as { response: { uid: string; allowed: boolean; patchType: string; auditAnnotations: Record<string, string> } };
          expect([res.statusCode, answer.response.uid, answer.response.allowed, answer.response.patchType, answer.response.auditAnnotations]).toEqual([
            200,
            "0f8f6a4e-3c1e-4c55-9a7e-6b2f1c9d1a01",
            true,
            "JSONPatch",
            { "decided-by": "namespace-label", reason: "namespace-enabled" },
          ]);
          resolve({ closed: new Promise<void>((r) => socket.once("close", () => r())) });
        });
      });
      req.on("error", reject);
      req.end(EXAMPLE_REVIEW);
    });

    // An in-flight review: headers and half the body sent before SIGTERM, the rest after.
    const half = Math.floor(EXAMPLE_REVIEW.length / 2);
    const inflightAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    let inflightBody = "";
    let finishInflight = () => {};
    const inflight = new Promise<number>((resolve, reject) => {
      const req = https.request(
        // A keep-alive client, the API server's kind: the connection must still close after the answer.
        { host: "127.0.0.1", port: s.port, path: "/mutate", method: "POST", ca: ca.certPem, agent: inflightAgent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(EXAMPLE_REVIEW) } },
        (res) => {
          res.setEncoding("utf8");
          res.on("data", (c: string) => (inflightBody += c));
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.write(EXAMPLE_REVIEW.slice(0, half));
      finishInflight = () => req.end(EXAMPLE_REVIEW.slice(half));
    });
    // Give the server time to read the request head, so the connection counts as busy.
    await new Promise((r) => setTimeout(r, 500));

    s.child.kill("SIGTERM");
    await new Promise<void>((resolve) => {
      const check = () => (s.lines.some((l) => String(l.msg).startsWith("shutting down")) ? resolve() : setTimeout(check, 20));
      check();
    });

    // No new connections once shutting down.
    const refused = await new Promise<string>((resolve) => {
      const sock = net.connect(s.port, "127.0.0.1", () => {
        sock.destroy();
        resolve("connected");
      });
      sock.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(refused).toBe("ECONNREFUSED");

    // The idle connection is closed by the server; the in-flight review is finished.
    await idle.closed;
    finishInflight();
    expect(await inflight).toBe(200);
    expect((JSON.parse(inflightBody) as { response: { uid: string; patchType: string } }).response).toMatchObject({ uid: "0f8f6a4e-3c1e-4c55-9a7e-6b2f1c9d1a01", patchType: "JSONPatch" });

    expect(await exitWithin(s, 10_000)).toEqual({ code: 0, signal: null });
    // The in-flight pod is injected after the shutdown began, and before it ended.
    expect(s.lines.map((l) => l.msg).slice(-3)).toEqual(["shutting down: no new connections, finishing in-flight requests", "pod injected", "shut down"]);
    agent.destroy();
    inflightAgent.destroy();
  });

  it("exits at once on SIGTERM when nothing is in flight", async () => {
    const s = await startCli([...TLS_FLAGS(), ...EXAMPLES]);
    s.child.kill("SIGTERM");
    expect(await exitWithin(s, 10_000)).toEqual({ code: 0, signal: null });
  });

  const startErrors: Array<[string, () => string[], number, string]> = [
    ["a missing certificate file", () => ["--host", "127.0.0.1", "--port", "0", "--cert", "no/such/tls.crt", "--key", "no/such/tls.key", ...EXAMPLES], 1, "hookpoint webhook: cannot read the serving certificate no/such/tls.crt: no such file\n"],
    ["a key that is not the certificate's", () => ["--host", "127.0.0.1", "--port", "0", "--cert", secret.path("tls.crt"), "--key", secret.path("other.key"), ...EXAMPLES], 1, `hookpoint webhook: ${secret.path("other.key")} is not the private key of ${secret.path("tls.crt")}\n`],
    ["a bad port", () => [...TLS_FLAGS(), "--port", "http", ...EXAMPLES], 2, 'hookpoint webhook: --port must be a port number between 0 and 65535, got "http"\n'],
    ["a bad log level", () => [...TLS_FLAGS(), "--log-level", "loud", ...EXAMPLES], 2, 'hookpoint webhook: --log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"\n'],
    ["no policy source", () => TLS_FLAGS(), 2, "hookpoint webhook: no policy source: pass --policy and/or --namespaces (local files), --kubeconfig, or run in a cluster\n"],
    ["an invalid policy file", () => [...TLS_FLAGS(), "--policy", secret.path("bad-policy.yaml")], 2, `hookpoint webhook: ${secret.path("bad-policy.yaml")}: document 1: spec.mode: must be one of Disabled, OptIn, Enabled, got "Sometimes"\n`],
  ];
  it.each(startErrors)("refuses to start with %s, saying why on stderr", async (_name, args, code, stderr) => {
    const r = await runWebhook(args());
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code, stderr, stdout: "" });
  });

  it("--default-pod-security (or HOOKPOINT_DEFAULT_POD_SECURITY) baseline: a namespace without an enforce label gets the pod unmutated, with a warning naming the setting", async () => {
    /** The example review's answer from a webhook started with `args` and `extraEnv`. */
    const answerOf = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
      const s = await startCli([...TLS_FLAGS(), ...EXAMPLES, ...args], extraEnv);
      try {
        return await new Promise<{ allowed: boolean; patch?: string; warnings?: string[]; auditAnnotations?: Record<string, string> }>((resolve, reject) => {
          const req = https.request({ host: "127.0.0.1", port: s.port, path: "/mutate", method: "POST", ca: ca.certPem, headers: { "content-type": "application/json" } }, (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (text += c));
            res.on("end", () => resolve((JSON.parse(text) as { response: { allowed: boolean; patch?: string; warnings?: string[]; auditAnnotations?: Record<string, string> } }).response));
          });
          req.on("error", reject);
          req.end(EXAMPLE_REVIEW);
        });
      } finally {
        s.child.kill("SIGTERM");
        await exitWithin(s, 10_000);
      }
    };
    const skipped = {
      allowed: true,
      warnings: ['hookpoint: not injected: namespace bookinfo enforces Pod Security "baseline" (the cluster\'s default, --default-pod-security), which would reject the privileged tracing container; use a namespace with pod-security.kubernetes.io/enforce=privileged'],
      auditAnnotations: { "decided-by": "pod-security", reason: "pod-security-enforced" },
    };
    const flag = await answerOf(["--default-pod-security", "baseline"]);
    expect({ allowed: flag.allowed, patch: flag.patch, warnings: flag.warnings, auditAnnotations: flag.auditAnnotations }).toEqual({ ...skipped, patch: undefined });
    const fromEnv = await answerOf([], { HOOKPOINT_DEFAULT_POD_SECURITY: "baseline" });
    expect({ allowed: fromEnv.allowed, patch: fromEnv.patch, warnings: fromEnv.warnings, auditAnnotations: fromEnv.auditAnnotations }).toEqual({ ...skipped, patch: undefined });
    // The shipped value, privileged, injects as before.
    const privileged = await answerOf(["--default-pod-security", "privileged"]);
    expect([privileged.allowed, typeof privileged.patch, privileged.auditAnnotations]).toEqual([true, "string", { "decided-by": "namespace-label", reason: "namespace-enabled" }]);
  });

  it("refuses to start on a port already in use", async () => {
    const s = await startCli([...TLS_FLAGS(), ...EXAMPLES]);
    const r = await runWebhook([...TLS_FLAGS().slice(0, 2), "--port", String(s.port), ...TLS_FLAGS().slice(4), ...EXAMPLES]);
    expect([r.code, r.stderr]).toEqual([1, `hookpoint webhook: cannot listen on 127.0.0.1:${s.port}: address already in use\n`]);
    s.child.kill("SIGTERM");
    await exitWithin(s, 10_000);
  });
});
