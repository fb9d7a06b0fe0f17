// `hookpoint certs rotate-ca` on a machine whose clock is behind the cluster's. The
// webhook rotates a CA issued before the request's time, and dates its CA by its own
// clock (less 5 minutes): a request dated by a laptop more than that behind would
// name a time before the current CA and never be acted on. The command dates it just
// after the CA's start then, and says so in one line; the webhook, on the fake API
// server on 127.0.0.1, then rotates.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runRotateCa } from "../../../src/cli/rotate-ca-run.js";
import { startSelfManagedCerts, type SelfManagedCerts } from "../../../src/k8s/self-managed-certs.js";
import { FakeApiServer, webhookConfig } from "./fake-apiserver.js";

const NS = "hookpoint-system";
const MINUTE = 60_000;
/** The cluster's clock: the webhook issues its first CA then. */
const CLUSTER_NOW = new Date("2026-03-01T10:00:00.000Z");

let api: FakeApiServer;
let dir: string;
let certs: SelfManagedCerts | undefined;

beforeEach(async () => {
  api = new FakeApiServer();
  await api.start();
  api.putWebhookConfig(webhookConfig("zz-hookpoint"));
  api.secrets.set(`${NS}/hookpoint-webhook-tls`, { apiVersion: "v1", kind: "Secret", metadata: { name: "hookpoint-webhook-tls", namespace: NS, resourceVersion: "1" }, type: "Opaque" });
  dir = mkdtempSync(join(tmpdir(), "hookpoint-rotate-ca-clock-"));
});
afterEach(async () => {
  certs?.stop();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The webhook's certificate module on the cluster's clock, with the actions it logs. */
async function webhook(now: () => Date): Promise<{ certs: SelfManagedCerts; actions: string[] }> {
  const actions: string[] = [];
  const info = (obj: object, msg: string) => {
    if (msg === "issuing webhook certificate") actions.push(`${String((obj as { action: string }).action)}: ${String((obj as { reason: string }).reason)}`);
  };
  certs = await startSelfManagedCerts({ kubeConfig: api.kubeConfig(), namespace: NS, checkIntervalMs: 3_600_000, now, onCertificate: () => {}, log: { info, warn: () => {}, error: () => {} } });
  return { certs, actions };
}

/** rotate-ca as a user runs it, on this machine's clock `laptopNow`. */
async function rotateCa(laptopNow: Date): Promise<{ stdout: string; stderr: string }> {
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, api.kubeConfig().exportConfig());
  let stdout = "";
  let stderr = "";
  await runRotateCa({ kubeconfig, namespace: NS }, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) }, laptopNow);
  return { stdout, stderr };
}

const annotation = () => (api.secrets.get(`${NS}/hookpoint-webhook-tls`)?.metadata.annotations as Record<string, string> | undefined)?.["hookpoint.dev/rotate-ca-requested-at"];

describe("hookpoint certs rotate-ca and this machine's clock", () => {
  it("a clock 10 minutes behind the cluster's: the request is dated just after the current CA's start, with a warning, and the webhook rotates", async () => {
    let now = CLUSTER_NOW;
    const w = await webhook(() => now);
    expect(w.actions).toEqual(["create: the Secret has no ca.crt, ca.key, tls.crt, tls.key"]);

    const r = await rotateCa(new Date(CLUSTER_NOW.getTime() - 10 * MINUTE));
    expect(r.stderr).toBe(
      "warning: this machine's clock (2026-03-01T09:50:00.000Z) is not after the current CA's start (2026-03-01T09:55:00.000Z), which the webhook's clock set: the request is dated 2026-03-01T09:55:01Z so that the webhook acts on it; check this machine's clock\n",
    );
    expect(r.stdout.split("\n")[0]).toBe("requested a CA rotation on Secret hookpoint-system/hookpoint-webhook-tls: annotation hookpoint.dev/rotate-ca-requested-at=2026-03-01T09:55:01Z");
    expect(annotation()).toBe("2026-03-01T09:55:01Z");

    now = new Date(CLUSTER_NOW.getTime() + MINUTE);
    await w.certs.sync();
    expect(w.actions.slice(1)).toEqual(["rotate-ca: a CA rotation was requested at 2026-03-01T09:55:01.000Z (hookpoint certs rotate-ca)"]);
    expect(annotation()).toBeUndefined();
  });

  it("a clock in step: no warning, the request dated by it", async () => {
    await webhook(() => CLUSTER_NOW);
    const r = await rotateCa(new Date(CLUSTER_NOW.getTime() + 30_500));
    expect(r.stderr).toBe("");
    expect(annotation()).toBe("2026-03-01T10:00:30Z");
  });
});
