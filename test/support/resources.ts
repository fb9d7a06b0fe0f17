// The resources matrix (issue: valid pods only), shared by the unit test and the
// e2e test that creates every output through a real API server.
import type { Pod } from "../../src/admission/pod.js";
import { storedResourceQuantity } from "./quantities.js";
import type { HookpointPolicy, ResourceRequirements } from "../../src/policy/types.js";
import { policy } from "./pods.js";

type Sides = { limits?: Record<string, string>; requests?: Record<string, string> };

/** What the proxy container sets, as written in a manifest. */
export const CONTAINER_RESOURCES = {
  "requests only": { requests: { cpu: "0.1", memory: "128Mi" } },
  "limits only": { limits: { cpu: "2000m", memory: "1Gi" } },
  both: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "1Gi" } },
  none: undefined,
} satisfies Record<string, Sides | undefined>;

/** What the profile sets, in spellings the API server would rewrite. */
export const PROFILE_RESOURCES = {
  "requests only": { requests: { cpu: "0.5", memory: "1.5Gi" } },
  "limits only": { limits: { cpu: "1000m", memory: "100Mi" } },
  both: { requests: { cpu: "0.25", memory: "256Mi" }, limits: { cpu: "1.5", memory: "0.5Gi" } },
} satisfies Record<string, ResourceRequirements>;

export type Expected = { resources: Sides; stored: Sides } | { skip: string };

const skip = (resource: string, request: string, limit: string, fromProfile: "requests" | "limits"): Expected => ({
  skip: `container istio-proxy: requests.${resource} ${request} exceeds limits.${resource} ${limit} after merging the profile's ${fromProfile}.${resource} with the container's ${fromProfile === "limits" ? "requests" : "limits"}.${resource}; set both in the profile`,
});
const both: Expected = {
  resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1500m", memory: "512Mi" } },
  stored: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1500m", memory: "512Mi" } },
};

/** [container case, profile case, outcome]: the webhook sees the container as stored (requests defaulted from limits). */
export const RESOURCE_MATRIX: readonly (readonly [keyof typeof CONTAINER_RESOURCES, keyof typeof PROFILE_RESOURCES, Expected])[] = [
  ["requests only", "requests only", { resources: { requests: { cpu: "500m", memory: "1536Mi" } }, stored: { requests: { cpu: "500m", memory: "1536Mi" } } }],
  ["requests only", "limits only", skip("memory", "128Mi", "100Mi", "limits")],
  ["requests only", "both", both],
  ["limits only", "requests only", skip("memory", "1536Mi", "1Gi", "requests")],
  ["limits only", "limits only", skip("cpu", "2", "1", "limits")],
  ["limits only", "both", both],
  ["both", "requests only", skip("memory", "1536Mi", "1Gi", "requests")],
  ["both", "limits only", skip("memory", "128Mi", "100Mi", "limits")],
  ["both", "both", both],
  ["none", "requests only", { resources: { requests: { cpu: "500m", memory: "1536Mi" } }, stored: { requests: { cpu: "500m", memory: "1536Mi" } } }],
  ["none", "limits only", { resources: { limits: { cpu: "1", memory: "100Mi" } }, stored: { limits: { cpu: "1", memory: "100Mi" }, requests: { cpu: "1", memory: "100Mi" } } }],
  ["none", "both", both],
];

/** An Istio-shaped pod whose proxy container sets `resources`. */
export function resourcesPod(resources: Sides | undefined, name = "resources"): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      containers: [
        { name: "app", image: "registry.example.com/app:1" },
        {
          name: "istio-proxy",
          image: "docker.io/istio/proxyv2:1.24.2",
          args: ["proxy", "sidecar"],
          securityContext: { runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ["ALL"] } },
          ...(resources ? { resources: structuredClone(resources) } : {}),
        },
      ],
    },
  };
}

/** The policy whose default profile sets `resources`. */
export function resourcesPolicy(resources: ResourceRequirements): HookpointPolicy {
  return policy("resources", { profiles: { default: { resources } } });
}

/** What the API server does to a pod's resources when it stores it: an empty object where none, quantities in its spelling, requests defaulted from limits. */
export function asStored(pod: Pod): Pod {
  const out = structuredClone(pod);
  for (const c of [...out.spec.containers, ...(out.spec.initContainers ?? [])]) {
    // A container without resources is stored with an empty object.
    c.resources ??= {};
    const r = c.resources as Sides;
    for (const side of [r.limits, r.requests]) if (side) for (const k of Object.keys(side)) side[k] = storedResourceQuantity(String(side[k]));
    if (r.limits) r.requests = { ...r.limits, ...(r.requests ?? {}) };
  }
  return out;
}
