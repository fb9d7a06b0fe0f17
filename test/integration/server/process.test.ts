// `hookpoint webhook` as a real process: the example review answered, graceful
// SIGTERM (not ready, every request answered through the shutdown delay, then
// keep-alive connections closed with `Connection: close`, exit 0), Ctrl-C
// without the delay, and clear start-up errors.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import type { ClientRequest } from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createServingCertificate } from "../../../src/certs/generate.js";
import { runCliAsync, serverListening } from "../../support/cli.js";
import { get, newCa, SecretDir, servingCert, waitFor } from "./support.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CLI = ["--import", "tsx", "src/cli/main.ts"];
const EXAMPLES = ["--policy", "examples/policy.yaml", "--namespaces", "examples/namespaces.yaml"];
const EXAMPLE_REVIEW = readFileSync(new URL("examples/admission-review.json", `file://${ROOT}`), "utf8");

const BAD_POLICY = "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata:\n  name: x\nspec:\n  mode: Sometimes\n";
/** A kill switch: the example review is skipped while it is in force, and injected by its namespace label without it. */
const OFF_POLICY = "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: off}\nspec: {mode: Disabled}\n";
const SKIPPED = { "decided-by": "policy", reason: "policy-disabled" };
const INJECTED = { "decided-by": "namespace-label", reason: "namespace-enabled" };
const READ_ONCE = "policy file is standard input or not a regular file: read once at start, not watched for changes";

const ca = newCa();
const pair = servingCert(ca);
const expired = createServingCertificate({ ca, commonName: "localhost", dnsNames: ["localhost"], now: new Date(Date.now() - 3 * 86_400_000), days: 1 });
const secret = new SecretDir({
  "tls.crt": pair.certPem,
  "tls.key": pair.keyPem,
  "expired.crt": expired.certPem,
  "expired.key": expired.keyPem,
  "other.key": servingCert(ca).keyPem,
  "bad-policy.yaml": BAD_POLICY,
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

interface StartOptions {
  /** Written to the webhook's standard input, which is then closed. */
  input?: string;
  /** A bash script run with the webhook's command line as "$@" (for a process substitution such as `<(cat FILE)`). */
  bash?: string;
}

async function startCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}, opts: StartOptions = {}): Promise<Started> {
  const command = [process.execPath, ...CLI, "webhook", ...args];
  const options = { cwd: ROOT, env: env(extraEnv), stdio: [opts.input !== undefined ? "pipe" : "ignore", "pipe", "pipe"] as ["pipe" | "ignore", "pipe", "pipe"] };
  const child = opts.bash !== undefined ? spawn("bash", ["-c", opts.bash, "bash", ...command], options) : spawn(process.execPath, command.slice(1), options);
  children.push(child);
  child.stdin?.end(opts.input);
  const lines: Array<Record<string, unknown>> = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  const { port } = await serverListening(child, "webhook", { ms: 30_000, onLine: (entry) => lines.push(entry) });
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

interface Reply {
  status: number;
  body: string;
  /** The Connection header of the answer. */
  connection: string | undefined;
}

/** POST /mutate; `send` writes the body itself (default: all at once). */
function request(port: number, agent: https.Agent | false, body: string, send?: (req: ClientRequest) => void): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port, path: "/mutate", method: "POST", ca: ca.certPem, agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (send) send(req);
    else req.end(body);
  });
}

/** The audit annotations of the webhook's answer to the example review: how it decided. */
async function decision(port: number): Promise<Record<string, string>> {
  const answer = await request(port, false, EXAMPLE_REVIEW);
  return (JSON.parse(answer.body) as { response: { auditAnnotations: Record<string, string> } }).response.auditAnnotations;
}

/** "connected", or the error code of a plain TCP connect. */
function connectResult(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1", () => {
      sock.destroy();
      resolve("connected");
    });
    sock.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** `hookpoint webhook ARGS` to its end, outside any cluster, with `input` on its standard input. */
const runWebhook = (args: string[], input?: string) =>
  runCliAsync(["webhook", ...args], { env: { KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined }, ...(input !== undefined ? { input } : {}) });

const TLS_FLAGS = () => ["--host", "127.0.0.1", "--port", "0", "--cert", secret.path("tls.crt"), "--key", secret.path("tls.key")];

describe("hookpoint webhook (process)", () => {
  it("answers the bundled example review with a patch", async () => {
    const s = await startCli([...TLS_FLAGS(), ...EXAMPLES]);
    const answer = await request(s.port, false, EXAMPLE_REVIEW);
    const review = JSON.parse(answer.body) as { response: { uid: string; allowed: boolean; patchType: string; auditAnnotations: Record<string, string> } };
    expect([answer.status, review.response.uid, review.response.allowed, review.response.patchType, review.response.auditAnnotations]).toEqual([
      200,
      "0f8f6a4e-3c1e-4c55-9a7e-6b2f1c9d1a01",
      true,
      "JSONPatch",
      { "decided-by": "namespace-label", reason: "namespace-enabled" },
    ]);
    s.child.kill("SIGINT");
    expect(await exitWithin(s, 10_000)).toEqual({ code: 0, signal: null });
  });

  it("on SIGTERM: not ready, answers every request on 32 keep-alive connections through the delay, then closes them with Connection: close and exits 0", async () => {
    const s = await startCli([...TLS_FLAGS(), ...EXAMPLES, "--shutdown-delay", "5"]);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 32 });
    // Load as the API server sends it: 32 keep-alive connections, each sending again as soon as answered,
    // until its endpoint is gone (`sending` false). Bounded in count and time.
    let sending = true;
    let total = 0;
    const failures: string[] = [];
    const started = Date.now();
    const worker = async () => {
      while (sending && total < 50_000 && Date.now() - started < 30_000) {
        total++;
        try {
          const r = await request(s.port, agent, EXAMPLE_REVIEW);
          if (r.status !== 200 || !r.body.includes('"patchType":"JSONPatch"')) failures.push(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const load = Promise.all(Array.from({ length: 32 }, worker));
    await waitFor("requests on all 32 connections", () => total > 500);
    const openSockets = Object.values(agent.sockets).flat().length + Object.values(agent.freeSockets).flat().length;

    s.child.kill("SIGTERM");
    await waitFor("the shutdown to begin", () => s.lines.some((l) => String(l.msg).startsWith("shutting down")));
    const atSignal = total;
    const signalled = Date.now();
    // Not ready at once (new connections are still accepted during the delay).
    const ready = await get(s.port, ca.certPem, "/readyz");
    expect([ready.status, (JSON.parse(ready.body) as { problems: string[] }).problems]).toEqual([503, ["shutting down"]]);
    // Requests go on for a second of the 5 s delay, then stop: the endpoint is removed.
    await new Promise((r) => setTimeout(r, Math.max(0, signalled + 1000 - Date.now())));
    // One request in flight across the end of the delay: head and half the body now, the rest once closing began.
    const inflightAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    await request(s.port, inflightAgent, EXAMPLE_REVIEW);
    const half = Math.floor(EXAMPLE_REVIEW.length / 2);
    let finish = () => {};
    const inflight = request(s.port, inflightAgent, EXAMPLE_REVIEW, (req) => {
      req.write(EXAMPLE_REVIEW.slice(0, half));
      finish = () => req.end(EXAMPLE_REVIEW.slice(half));
    });
    sending = false;
    await load;
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(atSignal);
    expect(openSockets).toBe(32);

    await waitFor("the delay to end", () => s.lines.some((l) => String(l.msg).startsWith("closing")), 15_000);
    finish();
    const last = await inflight;
    expect([last.status, last.connection]).toEqual([200, "close"]);
    // No new connections once closing.
    expect(await connectResult(s.port)).toBe("ECONNREFUSED");

    expect(await exitWithin(s, 15_000)).toEqual({ code: 0, signal: null });
    expect(s.lines.map((l) => l.msg).filter((m) => /^(shutting down|closing|shut down)/.test(String(m)))).toEqual([
      "shutting down: not ready, still answering for the shutdown delay",
      "closing: no new connections, finishing in-flight requests",
      "shut down",
    ]);
    expect(s.lines.find((l) => String(l.msg).startsWith("shutting down"))).toMatchObject({ signal: "SIGTERM", delayMs: 5000 });
    agent.destroy();
    inflightAgent.destroy();
  });

  it("on SIGTERM: a connection that never sent a request (a client's spare, as the API server pools them) is closed once closing begins, and the process exits 0", async () => {
    const s = await startCli([...TLS_FLAGS(), ...EXAMPLES, "--shutdown-delay", "1"]);
    const spare = tls.connect({ host: "127.0.0.1", port: s.port, ca: ca.certPem, servername: "localhost", ALPNProtocols: ["http/1.1"] });
    await new Promise<void>((resolve, reject) => spare.once("secureConnect", resolve).once("error", reject));
    const closed = new Promise<void>((resolve) => spare.once("close", () => resolve()));
    s.child.kill("SIGTERM");
    await closed;
    expect(s.lines.some((l) => String(l.msg).startsWith("closing"))).toBe(true);
    expect(await exitWithin(s, 15_000)).toEqual({ code: 0, signal: null });
    expect(s.lines.map((l) => l.msg).filter((m) => /^(shutting down|closing|shut down|shutdown)/.test(String(m)))).toEqual([
      "shutting down: not ready, still answering for the shutdown delay",
      "closing: no new connections, finishing in-flight requests",
      "shut down",
    ]);
  });

  it("on Ctrl-C (SIGINT) does not wait for the shutdown delay", async () => {
    const s = await startCli([...TLS_FLAGS(), ...EXAMPLES, "--shutdown-delay", "20"]);
    s.child.kill("SIGINT");
    expect(await exitWithin(s, 10_000)).toEqual({ code: 0, signal: null });
    expect(s.lines.find((l) => String(l.msg).startsWith("shutting down"))).toMatchObject({ signal: "SIGINT", delayMs: 0 });
  });

  const startErrors: Array<[string, () => string[], number, string]> = [
    ["a missing certificate file", () => ["--host", "127.0.0.1", "--port", "0", "--cert", "no/such/tls.crt", "--key", "no/such/tls.key", ...EXAMPLES], 1, "hookpoint webhook: cannot read the serving certificate no/such/tls.crt: no such file\n"],
    ["a key that is not the certificate's", () => ["--host", "127.0.0.1", "--port", "0", "--cert", secret.path("tls.crt"), "--key", secret.path("other.key"), ...EXAMPLES], 1, `hookpoint webhook: ${secret.path("other.key")} is not the private key of ${secret.path("tls.crt")}\n`],
    ["an expired certificate", () => ["--host", "127.0.0.1", "--port", "0", "--cert", secret.path("expired.crt"), "--key", secret.path("expired.key"), ...EXAMPLES], 1, `hookpoint webhook: ${secret.path("expired.crt")} expired at ${new Date(new X509Certificate(expired.certPem).validTo).toISOString()}\n`],
    ["a bad port", () => [...TLS_FLAGS(), "--port", "http", ...EXAMPLES], 2, 'hookpoint webhook: --port must be a port number between 0 and 65535, got "http"\n'],
    ["a bad log level", () => [...TLS_FLAGS(), "--log-level", "loud", ...EXAMPLES], 2, 'hookpoint webhook: --log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"\n'],
    ["no policy source", () => TLS_FLAGS(), 2, "hookpoint webhook: no policy source: pass --policy and/or --namespaces (local files), --kubeconfig, or run in a cluster\n"],
    ["an invalid policy file", () => [...TLS_FLAGS(), "--policy", secret.path("bad-policy.yaml")], 2, `hookpoint webhook: ${secret.path("bad-policy.yaml")}: document 1: spec.mode: must be one of Disabled, OptIn, Enabled, got "Sometimes"\n`],
  ];
  it.each(startErrors)("refuses to start with %s, saying why on stderr", async (_name, args, code, stderr) => {
    const r = await runWebhook(args());
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code, stderr, stdout: "" });
  });

  const stdinErrors: Array<[string, string, string]> = [
    ["an empty --policy -", "", "hookpoint webhook: stdin: is empty (standard input, pipes and devices are read once, at start)\n"],
    ["an invalid --policy -", BAD_POLICY, 'hookpoint webhook: stdin: document 1: spec.mode: must be one of Disabled, OptIn, Enabled, got "Sometimes"\n'],
  ];
  it.each(stdinErrors)("refuses to start with %s, naming standard input stdin", async (_name, input, stderr) => {
    const r = await runWebhook([...TLS_FLAGS(), "--policy", "-"], input);
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code: 2, stderr, stdout: "" });
  });

  it("reads --policy - from standard input once, at start, and keeps deciding on it: never polled, never reloaded", async () => {
    const s = await startCli([...TLS_FLAGS(), "--policy", "-", "--namespaces", "examples/namespaces.yaml"], {}, { input: OFF_POLICY });
    expect(s.lines.filter((l) => l.msg === READ_ONCE).map((l) => l.file)).toEqual(["stdin"]);
    const ready = await get(s.port, ca.certPem, "/readyz");
    expect([ready.status, JSON.parse(ready.body)]).toEqual([200, { ready: true, source: "files stdin, examples/namespaces.yaml", problems: [] }]);
    expect(await decision(s.port)).toEqual(SKIPPED);
    // Past two polls of a regular file (every second).
    await new Promise((r) => setTimeout(r, 2500));
    expect(await decision(s.port)).toEqual(SKIPPED);
    s.child.kill("SIGINT");
    expect(await exitWithin(s, 10_000)).toEqual({ code: 0, signal: null });
    expect(s.lines.filter((l) => /policy files|read once/.test(String(l.msg))).map((l) => l.msg)).toEqual([READ_ONCE]);
  });

  it("reads --policy <(cmd) (a pipe) once, at start: the first poll does not reload it as empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-policy-"));
    try {
      writeFileSync(join(dir, "off.yaml"), OFF_POLICY);
      const s = await startCli([...TLS_FLAGS(), "--namespaces", "examples/namespaces.yaml"], { OFF_POLICY_FILE: join(dir, "off.yaml") }, { bash: 'exec "$@" --policy <(cat "$OFF_POLICY_FILE")' });
      const pipe = s.lines.find((l) => l.msg === READ_ONCE)?.file;
      expect(pipe).toMatch(/^\/dev\/fd\/\d+$/);
      expect(await decision(s.port)).toEqual(SKIPPED);
      await new Promise((r) => setTimeout(r, 2500));
      expect(await decision(s.port)).toEqual(SKIPPED);
      const ready = await get(s.port, ca.certPem, "/readyz");
      expect(JSON.parse(ready.body)).toEqual({ ready: true, source: `files ${pipe}, examples/namespaces.yaml`, problems: [] });
      s.child.kill("SIGINT");
      expect(await exitWithin(s, 10_000)).toEqual({ code: 0, signal: null });
      expect(s.lines.filter((l) => /policy files|read once/.test(String(l.msg))).map((l) => l.msg)).toEqual([READ_ONCE]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("re-reads a regular --policy file when it changes, and decides on the new policies", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-policy-"));
    const policy = join(dir, "policy.yaml");
    try {
      writeFileSync(policy, OFF_POLICY);
      const s = await startCli([...TLS_FLAGS(), "--policy", policy, "--namespaces", "examples/namespaces.yaml"]);
      expect(await decision(s.port)).toEqual(SKIPPED);
      writeFileSync(policy, readFileSync(new URL("examples/policy.yaml", `file://${ROOT}`)));
      const reloaded = await waitFor("the policy file to be reloaded", () => s.lines.find((l) => l.msg === "policy files reloaded"));
      expect(reloaded.files).toEqual([policy, "examples/namespaces.yaml"]);
      expect(await decision(s.port)).toEqual(INJECTED);
      s.child.kill("SIGINT");
      expect(await exitWithin(s, 10_000)).toEqual({ code: 0, signal: null });
      expect(s.lines.some((l) => l.msg === READ_ONCE)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a --policy FIFO once at start-up, and never polls it: fed one time is enough to start and serve", async () => {
    // A FIFO gives its content to one reader only: a second read (a check read before
    // listening, or a poll) would wait for a writer that never comes.
    const fifo = secret.path("policy.fifo");
    execFileSync("mkfifo", [fifo]);
    let opened = 0;
    // Resolves when the webhook opens the FIFO to read it.
    const fed = open(fifo, "w").then(async (fh) => {
      opened++;
      await fh.writeFile(readFileSync(new URL("examples/policy.yaml", `file://${ROOT}`)));
      await fh.close();
    });
    try {
      const s = await startCli([...TLS_FLAGS(), "--policy", fifo, "--namespaces", "examples/namespaces.yaml"]);
      await fed;
      const answer = await request(s.port, false, EXAMPLE_REVIEW);
      const review = JSON.parse(answer.body) as { response: { allowed: boolean; patchType: string; auditAnnotations: Record<string, string> } };
      expect([opened, answer.status, review.response.allowed, review.response.patchType, review.response.auditAnnotations]).toEqual([
        1,
        200,
        true,
        "JSONPatch",
        { "decided-by": "namespace-label", reason: "namespace-enabled" },
      ]);
      expect(s.lines.filter((l) => l.msg === READ_ONCE).map((l) => l.file)).toEqual([fifo]);
      // Past a poll: it would open the FIFO again, wait for a writer for good and keep the process from exiting.
      await new Promise((r) => setTimeout(r, 1500));
      s.child.kill("SIGINT");
      expect(await exitWithin(s, 10_000)).toEqual({ code: 0, signal: null });
    } finally {
      // Never opened (the webhook failed first): a reader of our own ends the pending open.
      if (opened === 0) closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
      await fed;
    }
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
    s.child.kill("SIGINT");
    await exitWithin(s, 10_000);
  });
});
