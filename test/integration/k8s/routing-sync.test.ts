// RoutingSync (--manage-routing) writing zz-hookpoint's entries against the fake API
// server, when the patch fails: a lost race (the resourceVersion test failed) is read
// again, an entry the API server refuses as invalid is reported at once with its
// message. The refusals are Status bodies recorded from the real kube-apiserver.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LiveRouting } from "../../../src/admission/routing.js";
import { RoutingSync } from "../../../src/k8s/routing-sync.js";
import { policy } from "../../support/pods.js";
import { FakeApiServer, recordedStatus, webhookConfig } from "../self-managed/fake-apiserver.js";

const MWC = "/mutatingwebhookconfigurations/zz-hookpoint";
const PERF = [policy("perf", { mode: "Enabled", namespaceSelector: { matchLabels: { team: "perf" } } })];

interface LogLine {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

let api: FakeApiServer;
beforeEach(async () => {
  api = new FakeApiServer();
  await api.start();
  api.putWebhookConfig(webhookConfig("zz-hookpoint"));
});
afterEach(async () => {
  await api.stop();
});

/** One pass of a managing RoutingSync for `policies`; its log lines and what it reported. */
async function pass(policies = PERF): Promise<{ logs: LogLine[]; live: LiveRouting[] }> {
  const logs: LogLine[] = [];
  const live: LiveRouting[] = [];
  const line = (level: string) => (obj: object, msg: string) => void logs.push({ level, msg, obj: obj as Record<string, unknown> });
  const sync = new RoutingSync({
    kubeConfig: api.kubeConfig(),
    webhookNamespace: "hookpoint-system",
    manage: true,
    log: { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") },
    checkIntervalMs: 3_600_000,
    onLive: (l) => live.push(l),
  });
  sync.update(policies);
  await sync.idle();
  await sync.stop();
  return { logs, live };
}

const entryNames = () => (api.webhookConfigs.get("zz-hookpoint") as unknown as { webhooks: { name: string }[] }).webhooks.map((w) => w.name);

describe("RoutingSync when the patch is refused", () => {
  it("an entry the API server refuses as invalid: 'webhook routing not written' with its message, after one patch", async () => {
    api.injections.push({ method: "PATCH", path: /zz-hookpoint$/, status: 422, reason: "Invalid", times: 5, body: recordedStatus("patch-invalid-webhook-configuration.json") });
    const r = await pass();
    expect(r.logs.filter((l) => l.level !== "debug")).toEqual([
      {
        level: "warn",
        msg: "webhook routing not written",
        obj: {
          webhookConfiguration: "zz-hookpoint",
          err: `HTTP 422: MutatingWebhookConfiguration.admissionregistration.k8s.io "zz-hookpoint" is invalid: webhooks[2].namespaceSelector.matchExpressions[0].values[0]: Invalid value: "perf team": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
        },
      },
    ]);
    expect(api.requests.map((q) => `${q.method} ${q.status}`)).toEqual(["GET 200", "PATCH 422"]);
    expect(entryNames()).toEqual(["namespace.inject.hookpoint.dev", "pod.inject.hookpoint.dev"]);
  });

  it("a lost race (the resourceVersion test failed): reads again and writes", async () => {
    api.injections.push({ method: "PATCH", path: /zz-hookpoint$/, status: 422, reason: "Invalid", times: 1, body: recordedStatus("patch-test-failed.json") });
    const r = await pass();
    expect(r.logs.filter((l) => l.level !== "debug").map((l) => `${l.level} ${l.msg}`)).toEqual(["info webhook routing written"]);
    expect(api.requests.map((q) => `${q.method} ${q.status}`)).toEqual(["GET 200", "PATCH 422", "GET 200", "PATCH 200"]);
    expect(entryNames()).toContain("perf.policy.inject.hookpoint.dev");
  });

  it("a race lost on every attempt: 'kept changing' after 5, nothing written", async () => {
    api.injections.push({ method: "PATCH", path: /zz-hookpoint$/, status: 422, reason: "Invalid", times: 5, body: recordedStatus("patch-test-failed.json") });
    const r = await pass();
    expect(r.logs.filter((l) => l.level !== "debug")).toEqual([{ level: "warn", msg: "webhook routing kept changing; trying again later", obj: { webhookConfiguration: "zz-hookpoint", attempts: 5 } }]);
    expect(api.count("PATCH", MWC, 422)).toBe(5);
  });
});
