// The hookpoint webhook as the API server meets it: `hookpoint webhook` as a
// child process on 127.0.0.1, with certificates from `hookpoint certs`, the
// credentials of ServiceAccount hookpoint-system/hookpoint-webhook bound by only
// the RBAC in deploy/base, and deploy/'s MutatingWebhookConfiguration
// re-pointed at it. One per test file: `const hp = useHookpoint(e2e)`.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, type TestContext } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { REPO_ROOT } from "../../../scripts/cluster/layout.js";
import { freePort } from "../../../scripts/cluster/processes.js";
import { runCli } from "../../support/cli.js";
import { serviceAccountKubeConfig, type ClusterInfo } from "./cluster.js";
import {
  installBase,
  KustomizeMissingError,
  localWebhookConfiguration,
  registerWebhookConfiguration,
  WEBHOOK_NAMESPACE,
  WEBHOOK_SERVICE_ACCOUNT,
  type K8sObject,
} from "./deploy.js";
import { connectCluster, type E2E } from "./e2e.js";
import { remove } from "./kube-http.js";
import { sumOf } from "./metrics.js";
import { createPod, probePod } from "./pods.js";
import { pollUntil } from "./poll.js";

/** A port free right now on 127.0.0.1 (the webhook keeps it across restarts: the configuration names it). */
export { freePort };

export const INJECT = "hookpoint.dev/inject";
export const STATUS = "hookpoint.dev/status";
export const REQUESTS_METRIC = "hookpoint_admission_requests_total";

export interface Certs {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** base64 of ca.crt, as `hookpoint certs` prints it for the caBundle. */
  caBundle: string;
}

/** `hookpoint certs`: a CA and a serving certificate valid for 127.0.0.1. */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-e2e-certs-"));
  const r = runCli(["certs", "--out", dir, "--service", WEBHOOK_SERVICE_ACCOUNT, "--namespace", WEBHOOK_NAMESPACE]);
  if (r.code !== 0) throw new Error(`hookpoint certs failed (exit ${r.code}): ${r.stderr}`);
  return { dir, caFile: join(dir, "ca.crt"), certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key"), caBundle: r.stdout.trim() };
}


/** GET over HTTPS trusting only `ca`; `servername` is the name the certificate must hold (default: the URL's host). */
export function httpsGet(url: string, ca: string, servername?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = httpsRequest(url, { ca, timeout: 5_000, ...(servername ? { servername } : {}) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on("timeout", () => r.destroy(new Error(`GET ${url}: no answer within 5 s`)));
    r.on("error", reject);
    r.end();
  });
}

export interface WebhookProcessOptions {
  port: number;
  /** Arguments after `hookpoint webhook`. */
  args: readonly string[];
  /** The CA that signed the serving certificate, when it is known (a self-managed one appears only after start). */
  ca: () => Promise<string | undefined>;
  /** The address it listens on (its --host; default 127.0.0.1). */
  host?: string;
  /** The name its certificate is checked for (default: the address), e.g. the Service's <name>.<namespace>.svc. */
  servername?: string;
  /** How the process is started (default: node's spawn, here; e.g. PodNetwork.spawn, inside a network namespace). */
  spawn?: (command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }) => ChildProcess;
}

export interface WebhookArgsOptions {
  /** --host (default 127.0.0.1). */
  host?: string;
  /** --shutdown-delay in seconds, or "default" for hookpoint's own (default 0: nothing to wait for here). */
  shutdownDelaySeconds?: number | "default";
}

/** The arguments the tests run `hookpoint webhook` with: certificate files, a kubeconfig, loopback only unless `host` says otherwise. */
export function webhookArgs(port: number, certs: Certs, kubeconfigPath: string, opts: WebhookArgsOptions = {}): string[] {
  const delay = opts.shutdownDelaySeconds ?? 0;
  return [
    "--port", String(port), "--host", opts.host ?? "127.0.0.1", "--cert", certs.certFile, "--key", certs.keyFile,
    "--kubeconfig", kubeconfigPath, "--namespace", WEBHOOK_NAMESPACE, "--log-level", "info",
    // By default no endpoint to be removed from here: stop() need not wait.
    ...(delay === "default" ? [] : ["--shutdown-delay", String(delay)]),
  ];
}

export class WebhookProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private output = "";
  readonly port: number;
  readonly url: string;

  constructor(private readonly opts: WebhookProcessOptions) {
    this.port = opts.port;
    this.url = `https://${opts.host ?? "127.0.0.1"}:${opts.port}`;
  }

  private get(path: string, ca: string): Promise<{ status: number; body: string }> {
    return httpsGet(`${this.url}${path}`, ca, this.opts.servername);
  }

  /** Starts the process and waits until /readyz answers 200 (certificate loaded, informers synced). */
  async start(): Promise<void> {
    if (this.child) throw new Error("the webhook is already running");
    const args = ["--import", "tsx", "src/cli/main.ts", "webhook", ...this.opts.args];
    const env = { ...process.env, NO_COLOR: "1" };
    const child = this.opts.spawn
      ? this.opts.spawn(process.execPath, args, { cwd: REPO_ROOT, env })
      : spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env });
    this.child = child;
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (this.output += c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (this.output += c));
    this.exited = new Promise((r) => child.once("exit", (code) => r(code)));
    // A test run that is interrupted must not leave the webhook listening.
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    void this.exited.then(() => process.off("exit", killOnExit));
    let exitCode: number | null | undefined;
    void this.exited.then((c) => (exitCode = c));
    try {
      await pollUntil(
        async () => {
          if (exitCode !== undefined) throw new Error(`hookpoint webhook exited with code ${exitCode} during start-up`);
          const ca = await this.opts.ca();
          return ca === undefined ? 0 : this.get("/readyz", ca).then((r) => r.status, () => 0);
        },
        (status) => status === 200,
        { what: `hookpoint webhook ${this.url}/readyz`, timeoutMs: 60_000, intervalMs: 100 },
      );
    } catch (e) {
      await this.stop();
      throw new Error(`${(e as Error).message}\n--- webhook output ---\n${this.tail()}`);
    }
  }

  /** SIGTERM, as Kubernetes stops a pod; SIGKILL if it has not exited after 15 s. */
  async stop(): Promise<number | null> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return null;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async metrics(): Promise<string> {
    const ca = await this.opts.ca();
    if (ca === undefined) throw new Error("the webhook's CA is not known yet");
    const r = await this.get("/metrics", ca);
    if (r.status !== 200) throw new Error(`GET ${this.url}/metrics: HTTP ${r.status}`);
    return r.body;
  }

  /** hookpoint_admission_requests_total summed over the samples whose labels contain `match`. */
  async requests(match: Record<string, string> = {}): Promise<number> {
    return sumOf(await this.metrics(), REQUESTS_METRIC, match);
  }

  /** Parsed log lines (pino JSON). */
  logLines(): { level: number; msg: string; [k: string]: unknown }[] {
    return this.output
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
  }

  tail(lines = 40): string {
    return this.output.split("\n").slice(-lines).join("\n");
  }
}

export interface Hookpoint {
  cluster: ClusterInfo;
  admin: KubeConfig;
  webhook: WebhookProcess;
  /** The webhook's CA and serving certificate (from `hookpoint certs`). */
  certs: Certs;
  /** The MutatingWebhookConfiguration as registered (clientConfig.url → the local process). */
  configuration: K8sObject;
  /** The ServiceAccount identity the webhook runs as. */
  serviceAccount: { kubeConfig: KubeConfig; username: string };
  /**
   * Waits until the API server calls the webhook with its current configuration
   * and the webhook knows every namespace created before this call (a fresh
   * namespace labelled enabled, created last, is injected: one watch delivers
   * namespaces in order). Returns how long that took.
   */
  settle(): Promise<number>;
}

export interface HookpointHarness {
  /** The running webhook, or ctx.skip(reason) where there is no cluster or no kustomize. */
  require(ctx: TestContext): Hookpoint;
}

/**
 * Starts the webhook before the file's tests (after useCluster's set-up) and
 * stops it, and removes its configuration, after them.
 */
export function useHookpoint(e2e: E2E): HookpointHarness {
  let hp: Hookpoint | undefined;
  let unavailable = "the hookpoint webhook was not set up (beforeAll did not run)";
  // What afterAll undoes, set as soon as it exists (set-up may fail half-way).
  let admin: KubeConfig | undefined;
  let webhook: WebhookProcess | undefined;
  let certsDir: string | undefined;
  let configuration: K8sObject | undefined;

  beforeAll(async () => {
    const got = await connectCluster();
    if (typeof got === "string") {
      unavailable = got;
      return;
    }
    const cluster: ClusterInfo = got.cluster;
    admin = got.admin;
    const kc = admin;
    try {
      await installBase(kc);
    } catch (e) {
      if (!(e instanceof KustomizeMissingError)) throw e;
      unavailable = e.message;
      return;
    }
    const certs = makeCerts();
    certsDir = certs.dir;
    const sa = await serviceAccountKubeConfig(WEBHOOK_NAMESPACE, WEBHOOK_SERVICE_ACCOUNT);
    const port = await freePort();
    const ca = readFileSync(certs.caFile, "utf8");
    const wh = new WebhookProcess({ port, args: webhookArgs(port, certs, sa.kubeconfigPath), ca: async () => ca });
    webhook = wh;
    await wh.start();
    configuration = localWebhookConfiguration(`${wh.url}/mutate`, certs.caBundle);
    await registerWebhookConfiguration(kc, configuration);
    const settle = async () => {
      const ns = await e2e.namespace("settle", { labels: { [INJECT]: "enabled" } });
      const polled = await pollUntil(
        () => createPod(kc, ns, probePod("probe"), { dryRun: true }),
        (r) => r.pod.metadata?.annotations?.[STATUS] !== undefined,
        { what: `the API server calling ${wh.url} and the webhook knowing namespace ${ns}`, timeoutMs: 30_000 },
      );
      return polled.elapsedMs;
    };
    await settle();
    hp = { cluster, admin: kc, webhook: wh, certs, configuration, serviceAccount: { kubeConfig: sa.kubeConfig, username: sa.username }, settle };
  });

  afterEach((ctx) => {
    // What the webhook said is the first thing to read when a scenario fails.
    if (webhook && ctx.task.result?.state === "fail") console.error(`--- hookpoint webhook output (last lines) ---\n${webhook.tail()}`);
  });

  afterAll(async () => {
    await webhook?.stop();
    if (certsDir) rmSync(certsDir, { recursive: true, force: true });
    if (admin && configuration) await remove(admin, configuration);
  });

  return {
    require(ctx) {
      e2e.require(ctx);
      if (!hp) return ctx.skip(unavailable);
      return hp;
    },
  };
}
