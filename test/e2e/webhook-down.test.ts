// failurePolicy Ignore (scenario f): with the webhook down, pods are still
// created, untraced; once it is back, injection resumes.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BASE_POLICY_IMAGE } from "./support/expected.js";
import { container, createPod, fixturePod, readPod, type Pod } from "./support/pods.js";
import { pollUntil } from "./support/poll.js";
import { useCluster } from "./support/e2e.js";
import { httpsGet, INJECT, STATUS, useHookpoint } from "./support/webhook.js";

const e2e = useCluster();
const hp = useHookpoint(e2e);

describe("f. webhook stopped, then back", () => {
  it("pods are created untraced while it is down, and traced again once it is back", async (ctx) => {
    const { admin, webhook, certs, settle } = hp.require(ctx);
    const ns = await e2e.namespace("f-down", { labels: { [INJECT]: "enabled" } });
    await settle();

    // SIGTERM, as Kubernetes stops the pod: a clean exit.
    expect(await webhook.stop()).toBe(0);
    await expect(httpsGet(`${webhook.url}/healthz`, readFileSync(certs.caFile, "utf8"))).rejects.toThrow(/ECONNREFUSED/);

    const down = await createPod(admin, ns, fixturePod("classic-sidecar", "while-down"));
    // The API server ignores the failed call (failurePolicy Ignore) without telling the client.
    expect(down.warnings).toEqual([]);
    const untraced = (await readPod(admin, ns, "while-down")) as Pod;
    expect(untraced.metadata?.annotations?.[STATUS]).toBeUndefined();
    expect(untraced.metadata?.labels?.["hookpoint.dev/injected"]).toBeUndefined();
    expect(container(untraced, "istio-proxy").image).toBe(container(fixturePod("classic-sidecar", "while-down"), "istio-proxy").image);
    expect(container(untraced, "istio-proxy").command).toBeUndefined();
    expect(untraced.spec.volumes?.filter((v) => v.name.startsWith("hookpoint-"))).toEqual([]);

    // Back on the same port (the configuration names it); start() returns once /readyz is 200.
    await webhook.start();
    // The API server may still hold a broken connection to the old process: bounded retries.
    await pollUntil(
      () => createPod(admin, ns, fixturePod("classic-sidecar", "probe"), { dryRun: true }),
      (r) => r.pod.metadata?.annotations?.[STATUS] !== undefined,
      { what: "injection after the webhook restarted" },
    );
    await createPod(admin, ns, fixturePod("classic-sidecar", "after-restart"));
    const traced = (await readPod(admin, ns, "after-restart")) as Pod;
    expect(container(traced, "istio-proxy").image).toBe(BASE_POLICY_IMAGE);
    expect(JSON.parse(traced.metadata?.annotations?.[STATUS] ?? "{}")).toMatchObject({ image: BASE_POLICY_IMAGE, decidedBy: "namespace-label" });
    expect(traced.metadata?.labels?.["hookpoint.dev/injected"]).toBe("true");
  });
});
