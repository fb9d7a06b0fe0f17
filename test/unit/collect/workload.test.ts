import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { agentPort, podWorkload, tracedSelector } from "../../../src/k8s/traced-pods.js";
import { recordFileKind, rotationOf } from "../../../src/records/names.js";
import { parseSince } from "../../../src/cli/collect-run.js";

const pod = (owner: { kind: string; name: string } | null, labels: Record<string, string> = {}): V1Pod => ({
  metadata: { namespace: "shop", name: "p", labels, ownerReferences: owner ? [{ apiVersion: "apps/v1", kind: owner.kind, name: owner.name, uid: "u", controller: true }] : [] },
});

describe("podWorkload", () => {
  it("names the ReplicaSet's owner when it could be read, else infers the Deployment from the pod-template-hash", () => {
    const p = pod({ kind: "ReplicaSet", name: "web-5d9f8c7b6d" }, { "pod-template-hash": "5d9f8c7b6d" });
    expect(podWorkload(p, () => ({ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d" }))).toEqual({ kind: "Deployment", name: "web" });
    expect(podWorkload(p, () => undefined)).toEqual({ kind: "Deployment", name: "web" });
    expect(podWorkload(p, () => null)).toEqual({ kind: "ReplicaSet", name: "web-5d9f8c7b6d" });
    expect(podWorkload(pod({ kind: "ReplicaSet", name: "standalone" }), () => undefined)).toEqual({ kind: "ReplicaSet", name: "standalone" });
    expect(podWorkload(pod({ kind: "StatefulSet", name: "db" }), () => undefined)).toEqual({ kind: "StatefulSet", name: "db" });
    expect(podWorkload(pod(null), () => undefined)).toBeNull();
  });

  it("finds the agent's port in the traced container's environment", () => {
    const withEnv = (value: string): V1Pod => ({ spec: { containers: [{ name: "app" }, { name: "istio-proxy", env: [{ name: "HOOKPOINT_METRICS_PORT", value }] }] } });
    expect([agentPort(withEnv("16000")), agentPort(withEnv("nope")), agentPort({})]).toEqual([16000, 15099, 15099]);
    // Given twice (a container injected before the webhook removed its later entries), the
    // agent listens on the last: the kubelet passes that one.
    const twice = (first: string, last: string): V1Pod => ({
      spec: { containers: [{ name: "istio-proxy", env: [{ name: "HOOKPOINT_METRICS_PORT", value: first }, { name: "HOOKPOINT_SCRIPTS", value: "envoy-socket-io" }, { name: "HOOKPOINT_METRICS_PORT", value: last }] }] },
    });
    expect([agentPort(twice("15099", "16001")), agentPort(twice("16001", "nope"))]).toEqual([16001, 15099]);
    expect([tracedSelector(undefined), tracedSelector(" app=web ")]).toEqual(["hookpoint.dev/injected=true", "hookpoint.dev/injected=true,app=web"]);
  });
});

describe("record file names", () => {
  it("serves only NDJSON files, their rotations and programs, and nothing that leaves the directory", () => {
    expect(["a.ndjson", "a.ndjson.12", "envoy-request-trace-0.ndjson", "programs/a.bt"].map(recordFileKind)).toEqual(["ndjson", "ndjson", "ndjson", "program"]);
    expect(["../a.ndjson", ".a.ndjson", "a.ndjson.x", "a.json", "programs/../a.bt", "programs/x/a.bt", "/a.ndjson", "a/b.ndjson", ""].map(recordFileKind)).toEqual(Array(9).fill(null));
    expect([rotationOf("a.ndjson"), rotationOf("a.ndjson.3"), rotationOf("programs/a.bt")]).toEqual([{ base: "a.ndjson", index: 0 }, { base: "a.ndjson", index: 3 }, null]);
  });
});

describe("--since", () => {
  it("takes a duration back from now or an ISO 8601 time, and names what is wrong", () => {
    const now = new Date("2026-03-01T12:00:00.000Z");
    expect(parseSince("90m", now).toISOString()).toBe("2026-03-01T10:30:00.000Z");
    expect(parseSince("1h30m", now).toISOString()).toBe("2026-03-01T10:30:00.000Z");
    expect(parseSince("2026-03-01T11:00:00+01:00", now).toISOString()).toBe("2026-03-01T10:00:00.000Z");
    expect(() => parseSince("90", now)).toThrow('--since: expected a duration such as 30s, 10m or 1h30m, got "90"');
    expect(() => parseSince("2026-13-45", now)).toThrow('--since: "2026-13-45" is not a valid ISO 8601 time');
  });

  it("reads a time as the moment it names: a date is midnight UTC, no calendar roll-over, no local time", () => {
    const now = new Date("2026-03-01T12:00:00.000Z");
    expect(parseSince("2026-02-28", now).toISOString()).toBe("2026-02-28T00:00:00.000Z");
    expect(parseSince("2026-03-01 10:00:00.250Z", now).toISOString()).toBe("2026-03-01T10:00:00.250Z");
    expect(parseSince("2026-03-01T11:30+01:00", now).toISOString()).toBe("2026-03-01T10:30:00.000Z");
    // Date.parse reads these as March 2 and 2027-01-01T00:00:00Z.
    expect(() => parseSince("2026-02-30T10:00:00Z", now)).toThrow('--since: "2026-02-30T10:00:00Z" is not a valid ISO 8601 time');
    expect(() => parseSince("2026-02-29", now)).toThrow('--since: "2026-02-29" is not a valid ISO 8601 time');
    expect(() => parseSince("2026-12-31T24:00:00Z", now)).toThrow('--since: "2026-12-31T24:00:00Z" is not a valid ISO 8601 time');
    // Date.parse reads these in the machine's time zone.
    expect(() => parseSince("2026-03-01T10:00:00", now)).toThrow('--since: "2026-03-01T10:00:00" has no UTC offset: add Z (UTC) or one such as +01:00');
    expect(() => parseSince("2026-03-01T10:00", now)).toThrow('--since: "2026-03-01T10:00" has no UTC offset: add Z (UTC) or one such as +01:00');
  });
});
