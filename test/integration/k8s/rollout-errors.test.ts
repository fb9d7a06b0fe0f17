// `hookpoint enable`/`disable` (rollout) against the fake API server: a refusal names
// the call and who lacks the permission, the user of the kubeconfig (the webhook's
// ServiceAccount plays no part in these commands).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rollout } from "../../../src/k8s/rollout.js";
import { FakeKubeApi } from "./fake-kube-api.js";

const api = new FakeKubeApi();

beforeAll(async () => {
  await api.start();
  api.forbidAll = true;
});

afterAll(async () => {
  await api.stop();
});

describe("rollout", () => {
  it("a 403 names the call and the kubeconfig's user, not the webhook's ServiceAccount", async () => {
    const said: string[] = [];
    await expect(
      rollout({ kubeConfig: api.kubeConfig(), namespace: "shop", workloads: [], mode: "enable", timeoutMs: 1000, pollMs: 100, dryRun: true, say: (l) => said.push(l) }),
    ).rejects.toThrow(
      // The namespace is read first (a missing one is named before anything else).
      new Error(`reading namespace shop from ${api.kubeConfig().getCurrentCluster()!.server} failed: HTTP 403: forbidden: User "tester" cannot get /api/v1/namespaces/shop (the kubeconfig's user lacks this permission)`),
    );
    expect(said).toEqual([]);
  });
});
