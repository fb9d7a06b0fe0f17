// The HookpointPolicy CRD: its shape, that its schema mirrors src/policy/types.ts
// field for field, and that the policies we ship validate against it (ajv for
// the structural schema with Kubernetes' defaulting, @bufbuild/cel for its
// x-kubernetes-validations rules) while bad ones are refused with a clear reason.
import { describe, expect, it } from "vitest";
import type {
  EnvVar,
  HookpointPolicySpec,
  LabelSelector,
  LabelSelectorRequirement,
  PolicyCondition,
  PolicyMode,
  Profile,
  ResourceRequirements,
} from "../../../src/policy/types.js";
import { API_GROUP, API_VERSION, POLICY_KIND, POLICY_PLURAL } from "../../../src/policy/types.js";
import { celRuleFailures, crdSchema, crdValidator, loadCrd, readDocs, unknownFields, type JsonSchema, type K8sObject } from "./support.js";

// Compile-time lists of each interface's fields: adding or removing a field in
// types.ts without the CRD (or the reverse) breaks the type-check or the test.
const SPEC: Record<keyof HookpointPolicySpec, true> = {
  mode: true, priority: true, namespaceSelector: true, podSelector: true, excludedNamespaces: true, allowPodOptIn: true,
  targetContainers: true, allowedImages: true, defaultProfile: true, profiles: true,
};
const PROFILE: Record<keyof Profile, true> = { image: true, scripts: true, env: true, resources: true, privileged: true, capabilities: true, kernels: true, agent: true };
const SELECTOR: Record<keyof LabelSelector, true> = { matchLabels: true, matchExpressions: true };
const REQUIREMENT: Record<keyof LabelSelectorRequirement, true> = { key: true, operator: true, values: true };
const ENV: Record<keyof EnvVar, true> = { name: true, value: true, valueFrom: true };
const RESOURCES: Record<keyof ResourceRequirements, true> = { limits: true, requests: true };
const CONDITION: Record<keyof PolicyCondition, true> = {
  type: true, status: true, reason: true, message: true, observedGeneration: true, lastTransitionTime: true,
};
const MODES = ["Disabled", "OptIn", "Enabled"] as const satisfies readonly PolicyMode[];
const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const satisfies readonly LabelSelectorRequirement["operator"][];
// ...and no member of the unions is missing from those lists:
const modesComplete: Exclude<PolicyMode, (typeof MODES)[number]> extends never ? true : false = true;
const operatorsComplete: Exclude<LabelSelectorRequirement["operator"], (typeof OPERATORS)[number]> extends never ? true : false = true;

const schema = crdSchema();
const spec = schema.properties?.spec as JsonSchema;
const props = (s: JsonSchema | undefined) => Object.keys(s?.properties ?? {}).sort();
const keys = (o: object) => Object.keys(o).sort();

function policy(specValue: Record<string, unknown>, name = "p"): K8sObject {
  return { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: POLICY_KIND, metadata: { name }, spec: specValue };
}

/** What the API server would say about `obj`: schema errors, unknown fields, failed CEL rules. */
function problems(obj: K8sObject): string[] {
  const validate = crdValidator(schema, { useDefaults: false });
  const ok = validate(obj);
  const errs = ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
  return [...errs, ...unknownFields(schema, obj).map((f) => `${f}: unknown field`), ...celRuleFailures(schema, obj)];
}

function defaulted(obj: K8sObject): K8sObject {
  const copy = structuredClone(obj);
  const validate = crdValidator(schema, { useDefaults: true });
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy;
}

describe("HookpointPolicy CRD", () => {
  it("is cluster-scoped hookpoint.dev/v1alpha1 with a status subresource and the Mode, Priority, Accepted, Routed, Age columns", () => {
    const crd = loadCrd();
    expect(crd.metadata.name).toBe(`${POLICY_PLURAL}.${API_GROUP}`);
    expect(crd.spec.group).toBe(API_GROUP);
    expect(crd.spec.scope).toBe("Cluster");
    expect(crd.spec.names).toEqual({
      kind: POLICY_KIND,
      listKind: "HookpointPolicyList",
      plural: POLICY_PLURAL,
      singular: "hookpointpolicy",
      shortNames: ["hpp"],
      categories: ["hookpoint"],
    });
    expect(crd.spec.versions).toHaveLength(1);
    const [v] = crd.spec.versions;
    expect([v.name, v.served, v.storage]).toEqual([API_VERSION, true, true]);
    expect(v.subresources).toEqual({ status: {} });
    expect(v.additionalPrinterColumns).toEqual([
      { name: "Mode", type: "string", jsonPath: ".spec.mode" },
      { name: "Priority", type: "integer", jsonPath: ".spec.priority" },
      { name: "Accepted", type: "string", jsonPath: '.status.conditions[?(@.type=="Accepted")].status' },
      { name: "Routed", type: "string", jsonPath: '.status.conditions[?(@.type=="Routed")].status' },
      { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
    ]);
  });

  it("mirrors src/policy/types.ts field for field", () => {
    expect(modesComplete && operatorsComplete).toBe(true);
    expect(props(spec)).toEqual(keys(SPEC));
    const profile = (spec.properties?.profiles as JsonSchema).additionalProperties as JsonSchema;
    expect(props(profile)).toEqual(keys(PROFILE));
    expect(props((profile.properties?.env as JsonSchema).items)).toEqual(keys(ENV));
    expect(props(profile.properties?.resources)).toEqual(keys(RESOURCES));
    for (const sel of ["namespaceSelector", "podSelector", "allowPodOptIn"]) {
      const s = spec.properties?.[sel] as JsonSchema;
      expect(props(s), sel).toEqual(keys(SELECTOR));
      const req = (s.properties?.matchExpressions as JsonSchema).items as JsonSchema;
      expect(props(req), sel).toEqual(keys(REQUIREMENT));
      expect(req.properties?.operator?.enum).toEqual([...OPERATORS]);
    }
    // The three selectors are one shape.
    expect(spec.properties?.podSelector?.properties).toEqual(spec.properties?.namespaceSelector?.properties);
    expect(spec.properties?.allowPodOptIn?.properties).toEqual(spec.properties?.namespaceSelector?.properties);
    expect(spec.properties?.mode?.enum).toEqual([...MODES]);
    const conditions = (schema.properties?.status as JsonSchema).properties?.conditions as JsonSchema;
    expect(props(conditions.items)).toEqual(keys(CONDITION));
    expect(conditions.items?.required).toEqual(["type", "status", "reason", "message", "lastTransitionTime"]);
  });

  it("defaults mode OptIn, priority 0, targetContainers [istio-proxy], and privileged/agent true in profiles", () => {
    expect(defaulted(policy({ profiles: { x: { image: "img" } } })).spec).toEqual({
      mode: "OptIn",
      priority: 0,
      targetContainers: ["istio-proxy"],
      profiles: { x: { image: "img", privileged: true, agent: true } },
    });
  });
});

describe("shipped policies", () => {
  it("deploy/base/default-policy.yaml is valid and changes nothing under defaulting", () => {
    const [p] = readDocs("deploy/base/default-policy.yaml") as K8sObject[];
    if (!p) throw new Error("no document");
    expect(problems(p)).toEqual([]);
    expect(defaulted(p)).toEqual(p);
    expect(p.metadata.name).toBe("default");
    expect(p.spec.mode).toBe("OptIn");
    expect(p.spec.profiles[p.spec.defaultProfile].image).toMatch(/^hookpoint\/proxy-istio:/);
  });

  it("deploy/examples/hookpointpolicy-payments.yaml is valid and names only bundled scripts", async () => {
    const [p] = readDocs("deploy/examples/hookpointpolicy-payments.yaml") as K8sObject[];
    if (!p) throw new Error("no document");
    expect(problems(p)).toEqual([]);
    const { readdirSync } = await import("node:fs");
    const bundled = readdirSync(new URL("../../../bpf/", import.meta.url)).filter((f) => f.endsWith(".bt")).map((f) => f.slice(0, -3));
    for (const prof of Object.values(p.spec.profiles as Record<string, Profile>)) {
      for (const s of prof.scripts ?? []) expect(bundled, `script ${s}`).toContain(s);
    }
  });
});

describe("invalid policies are refused with the reason", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["an unknown mode", { mode: "On" }, ["/spec/mode must be equal to one of the allowed values"]],
    ["a non-integer priority", { priority: 1.5 }, ["/spec/priority must be integer", '/spec/priority must match format "int32"']],
    ["a priority beyond int32", { priority: 2 ** 31 }, ['/spec/priority must match format "int32"']],
    ["an excluded namespace that is no DNS label", { excludedNamespaces: ["Team_A"] }, ['/spec/excludedNamespaces/0 must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"']],
    ["an empty targetContainers", { targetContainers: [] }, ["/spec/targetContainers must NOT have fewer than 1 items"]],
    ["an allowed image with a space", { allowedImages: ["repo/img :1"] }, ['/spec/allowedImages/0 must match pattern "^\\S+$"']],
    [
      "a script name with capitals",
      { profiles: { p: { scripts: ["Envoy-IO"] } } },
      ['/spec/profiles/p/scripts/0 must match pattern "^[a-z0-9][a-z0-9-]*$"'],
    ],
    [
      "a lower-case capability",
      { profiles: { p: { privileged: false, capabilities: ["bpf"] } } },
      ['/spec/profiles/p/capabilities/0 must match pattern "^[A-Z][A-Z0-9_]*$"'],
    ],
    ["a numeric CPU quantity (quote it)", { profiles: { p: { resources: { limits: { cpu: 1 } } } } }, ["/spec/profiles/p/resources/limits/cpu must be string"]],
    ["an env entry without a name", { profiles: { p: { env: [{ value: "x" }] } } }, ["/spec/profiles/p/env/0 must have required property 'name'"]],
    ["a misspelt field", { profile: {} }, [".spec.profile: unknown field"]],
    [
      "In without values",
      { namespaceSelector: { matchExpressions: [{ key: "team", operator: "In" }] } },
      [".spec.namespaceSelector.matchExpressions[0]: values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist"],
    ],
    [
      "Exists with values",
      { podSelector: { matchExpressions: [{ key: "team", operator: "Exists", values: ["a"] }] } },
      [".spec.podSelector.matchExpressions[0]: values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist"],
    ],
    ["a defaultProfile that names no profile", { defaultProfile: "fast", profiles: { slow: {} } }, ['.spec: defaultProfile must name a key of profiles (or "default", the built-in profile)']],
    ["a defaultProfile without profiles", { defaultProfile: "fast" }, ['.spec: defaultProfile must name a key of profiles (or "default", the built-in profile)']],
  ];
  it.each(cases)("%s", (_what, specValue, expected) => {
    expect(problems(policy(specValue))).toEqual(expected);
  });

  it('accepts defaultProfile "default" without profiles: the built-in profile, as the webhook does', () => {
    expect(problems(policy({ defaultProfile: "default" }))).toEqual([]);
  });

  it("accepts NotIn with values, DoesNotExist without, and a defaultProfile that names a profile", () => {
    expect(
      problems(
        policy({
          allowPodOptIn: { matchExpressions: [{ key: "a", operator: "NotIn", values: ["b"] }, { key: "c", operator: "DoesNotExist" }] },
          defaultProfile: "fast",
          profiles: { fast: { scripts: ["envoy-socket-io"] } },
        }),
      ),
    ).toEqual([]);
  });
});
