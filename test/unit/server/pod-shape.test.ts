// The pod-shape check covers everything the review reads: every value of every
// pod fixture, replaced by every wrong JSON type (or removed), is either refused
// with a message naming a field or reviewed without an exception. Each
// malformed shape users met gets its exact 400.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Pod } from "../../../src/admission/pod.js";
import { answerPod, classify } from "../../../src/server/answer.js";
import { escapePointerSegment } from "../../../src/admission/patch.js";
import type { AdmissionRequest } from "../../../src/server/review-types.js";
import { fixtureUrl, loadPod, policy, settings, snapshot } from "../../support/pods.js";
import { atCreate, harness, NAMESPACES, podReview, staticSource } from "./harness.js";

const FIXTURES = readdirSync(fixtureUrl("pods")).map((f) => f.replace(/\.yaml$/, "")).sort();
const WRONG: unknown[] = [null, "x", 7, 1.5, true, {}, [], [null], [{}], { name: "x" }];
const REMOVED = Symbol("removed");

/** Every path to a value inside `v` (objects and arrays), as keys from the root. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  return out;
}

function withValue(pod: Pod, path: (string | number)[], value: unknown): Pod {
  const copy = structuredClone(pod) as unknown as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === REMOVED) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = value;
  return copy as unknown as Pod;
}

// Policies under which the review goes through every part of the core: the namespace
// label alone, and a policy whose profile merges resources and adds env.
const SNAPSHOTS = [
  snapshot(NAMESPACES),
  snapshot(NAMESPACES, [
    policy("deep", {
      mode: "Enabled",
      defaultProfile: "deep",
      profiles: { deep: { resources: { limits: { memory: "512Mi" }, requests: { cpu: "100m" } }, env: [{ name: "HOOKPOINT_X", value: "1" }] } },
    }),
  ]),
];

describe("pod shape", () => {
  it.each(FIXTURES)("%s: every value replaced by a wrong type is refused by field or reviewed without an exception", (name) => {
    const pod = atCreate(loadPod(name));
    let refused = 0;
    let reviewed = 0;
    const crashes: string[] = [];
    for (const path of paths(pod)) {
      // managedFields are the API server's and never read; their contents are free-form.
      if (path[0] === "metadata" && path[1] === "managedFields" && path.length > 2) continue;
      for (const value of [...WRONG, REMOVED]) {
        const object = withValue(pod, path, value);
        const request = (podReview(object) as { request: AdmissionRequest }).request;
        const c = classify(request);
        if (c.kind === "invalid") {
          expect(c.message).toMatch(/^body\/request\/object(\/\S+)? (must|is) /);
          refused++;
          continue;
        }
        if (c.kind !== "pod") throw new Error(`unexpected ${c.kind}`);
        for (const snap of SNAPSHOTS) {
          try {
            answerPod(request.uid, c.pod, c.namespace, snap, settings);
          } catch (err) {
            crashes.push(`/${path.map((p) => escapePointerSegment(String(p))).join("/")} = ${value === REMOVED ? "(removed)" : JSON.stringify(value)}: ${String(err)}`);
          }
        }
        reviewed++;
      }
    }
    expect(crashes).toEqual([]);
    expect(refused).toBeGreaterThan(0);
    expect(reviewed).toBeGreaterThan(0);
  });

  it("does not walk managedFields for depth (nothing reads them), and refuses depth anywhere else", () => {
    const deep = (n: number): unknown => (n === 0 ? {} : { [`f:${n}`]: deep(n - 1) });
    const pod = atCreate(loadPod("classic-sidecar"));
    const withDeepManagedFields = { ...pod, metadata: { ...pod.metadata, managedFields: [{ manager: "x", fieldsV1: deep(100) }] } };
    expect(classify((podReview(withDeepManagedFields) as { request: AdmissionRequest }).request).kind).toBe("pod");
    const withDeepLabelsParent = { ...pod, metadata: { ...pod.metadata, finalizersDetail: deep(100) } };
    expect(classify((podReview(withDeepLabelsParent) as { request: AdmissionRequest }).request)).toEqual({ kind: "invalid", message: "body/request/object is nested deeper than 64 levels" });
  });

  const h = harness({ source: staticSource(snapshot(NAMESPACES)) });
  const shapes: Array<[string, (pod: Pod & Record<string, unknown>) => void, string]> = [
    ["a volume that is null", (p) => ((p.spec.volumes as unknown[])[0] = null), "body/request/object/spec/volumes/0 must be an object (got null)"],
    ["capabilities.drop as a string", (p) => ((p.spec.containers[1]!.securityContext!.capabilities as Record<string, unknown>).drop = "ALL"), 'body/request/object/spec/containers/1/securityContext/capabilities/drop must be an array or null (got "ALL")'],
    ["a volumeMount without mountPath", (p) => delete (p.spec.containers[1]!.volumeMounts![0] as Partial<Record<string, unknown>>).mountPath, "body/request/object/spec/containers/1/volumeMounts/0/mountPath is required"],
    ["env as an object", (p) => ((p.spec.containers[1] as Record<string, unknown>).env = {}), "body/request/object/spec/containers/1/env must be an array or null (got an object)"],
    ["runAsUser as a string", (p) => ((p.spec.containers[1]!.securityContext as Record<string, unknown>).runAsUser = "1337"), 'body/request/object/spec/containers/1/securityContext/runAsUser must be an integer (got "1337")'],
    ["a fractional terminationGracePeriodSeconds", (p) => (p.spec.terminationGracePeriodSeconds = 2.5), "body/request/object/spec/terminationGracePeriodSeconds must be an integer (got number 2.5)"],
    ["an env entry without a name", (p) => delete (p.spec.containers[1]!.env![0] as Partial<Record<string, unknown>>).name, "body/request/object/spec/containers/1/env/0/name is required"],
    ["a limit that is an object", (p) => ((p.spec.containers[1] as Record<string, unknown>).resources = { limits: { cpu: { m: 2 } } }), "body/request/object/spec/containers/1/resources/limits/cpu must be a string or a number (got an object)"],
    ["an owner reference without a kind", (p) => (p.metadata!.ownerReferences = [{ name: "reviews-v1-7598cc9867", uid: "u" }]), "body/request/object/metadata/ownerReferences/0/kind is required"],
  ];
  it.each(shapes)("%s → 400 naming the field", async (_name, edit, message) => {
    const pod = atCreate(loadPod("classic-sidecar")) as Pod & Record<string, unknown>;
    edit(pod);
    const res = await h.app.inject({ method: "POST", url: "/mutate", headers: { "content-type": "application/json" }, payload: JSON.stringify(podReview(pod)) });
    expect([res.statusCode, (res.json() as { message: string }).message]).toEqual([400, message]);
  });
});
