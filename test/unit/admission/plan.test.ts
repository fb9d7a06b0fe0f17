// Profiles, images and scripts chosen for an injected pod.
import { describe, expect, it } from "vitest";
import type { Container, Pod } from "../../../src/admission/pod.js";
import { reviewPod } from "../../../src/admission/review.js";
import { policy, settings, snapshot } from "../../support/pods.js";

const NS_ON = { "hookpoint.dev/inject": "enabled" };

function proxyAfter(annotations: Record<string, string>, spec = {}, proxy: Partial<Container> = {}) {
  const pod: Pod = {
    metadata: { name: "p", annotations },
    spec: { containers: [{ name: "app", image: "app:1" }, { name: "istio-proxy", image: "docker.io/istio/proxyv2:1.24.2", ...proxy }] },
  };
  const r = reviewPod(pod, "web", snapshot({ web: NS_ON }, [policy("tracing", spec)]), settings);
  const c = r.mutated?.spec.containers[1];
  return { r, c, env: Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value])) };
}

const profiles = {
  default: { image: "registry.example.com/proxyv2:1.24.2-hp", scripts: ["envoy-request-flow"] },
  deep: {
    image: "registry.example.com/proxyv2:1.24.2-hp-debug",
    scripts: ["envoy-socket-io", "envoy-event-loop"],
    env: [{ name: "HOOKPOINT_LOG_LEVEL", value: "debug" }],
    resources: { limits: { cpu: "2", memory: "2Gi" } },
  },
  lean: { privileged: false, capabilities: ["BPF", "PERFMON"] },
  least: { privileged: false },
  manual: { agent: false },
};

describe("profiles", () => {
  it("the policy's defaultProfile applies without annotation", () => {
    const { c, env } = proxyAfter({}, { defaultProfile: "deep", profiles });
    expect(c?.image).toBe("registry.example.com/proxyv2:1.24.2-hp-debug");
    expect(env.HOOKPOINT_SCRIPTS).toBe("envoy-socket-io,envoy-event-loop");
    expect(env.HOOKPOINT_LOG_LEVEL).toBe("debug");
    expect(env.HOOKPOINT_PROFILE).toBe("deep");
    expect(c?.resources).toEqual({ limits: { cpu: "2", memory: "2Gi" } });
  });
  it("the profile annotation picks another profile", () => {
    const { c, r } = proxyAfter({ "hookpoint.dev/profile": "deep" }, { profiles });
    expect(c?.image).toBe("registry.example.com/proxyv2:1.24.2-hp-debug");
    const { original, ...status } = JSON.parse(r.mutated?.metadata?.annotations?.["hookpoint.dev/status"] ?? "{}") as Record<string, unknown>;
    expect(status).toEqual({
      version: "0.1.0",
      container: "istio-proxy",
      location: "containers",
      image: "registry.example.com/proxyv2:1.24.2-hp-debug",
      profile: "deep",
      scripts: ["envoy-socket-io", "envoy-event-loop"],
      decidedBy: "namespace-label",
      proxyUid: 1337,
      proxyGid: 1337,
    });
    // What uninject needs (original.test.ts checks it gives the pod back).
    expect(original).toEqual({
      fields: { image: "docker.io/istio/proxyv2:1.24.2", command: null, securityContext: null, resources: null },
      env: { names: ["HOOKPOINT_PROFILE", "HOOKPOINT_SCRIPTS", "HOOKPOINT_OUTPUT_DIR", "HOOKPOINT_METRICS_PORT", "HOOKPOINT_LOG_LEVEL"], absent: true },
      volumeMounts: { names: ["hookpoint-lib-modules", "hookpoint-usr-src", "hookpoint-tracefs", "hookpoint-tmp"], absent: true },
      volumes: { names: ["hookpoint-lib-modules", "hookpoint-usr-src", "hookpoint-tracefs", "hookpoint-tmp"], absent: true },
      annotations: { "traffic.sidecar.istio.io/excludeInboundPorts": null },
      created: ["labels"],
    });
  });
  it("an unknown profile annotation falls back to the default with a warning", () => {
    const { c, r } = proxyAfter({ "hookpoint.dev/profile": "nope" }, { profiles });
    expect(c?.image).toBe("registry.example.com/proxyv2:1.24.2-hp");
    expect(r.warnings).toEqual(['hookpoint: profile "nope" (annotation hookpoint.dev/profile) is not defined by HookpointPolicy tracing; using "default" (defined: deep, default, lean, least, manual)']);
  });
  it("a least-privilege profile adds only its capabilities and stays unprivileged", () => {
    const { c } = proxyAfter({ "hookpoint.dev/profile": "lean" }, { profiles }, { securityContext: { privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true } });
    expect(c?.securityContext).toEqual({ privileged: false, allowPrivilegeEscalation: false, capabilities: { add: ["BPF", "PERFMON"], drop: ["ALL"] }, runAsUser: 0, runAsGroup: 1337, runAsNonRoot: false });
  });
  it("a least-privilege profile without capabilities adds exactly what the agent needs", () => {
    const { c } = proxyAfter({ "hookpoint.dev/profile": "least" }, { profiles }, { securityContext: { privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true } });
    expect(c?.securityContext?.capabilities).toEqual({ add: ["SETUID", "SETGID", "KILL", "SYS_PTRACE", "SYS_ADMIN"], drop: ["ALL"] });
    expect(c?.securityContext?.privileged).toBe(false);
  });
  it("a profile with agent: false leaves the entrypoint alone", () => {
    const { c } = proxyAfter({ "hookpoint.dev/profile": "manual" }, { profiles }, { command: ["/usr/local/bin/pilot-agent"] });
    expect(c?.command).toEqual(["/usr/local/bin/pilot-agent"]);
    expect(c?.securityContext?.privileged).toBe(true);
  });
  it("an explicit command is wrapped as is, args untouched", () => {
    const { c } = proxyAfter({}, {}, { command: ["/usr/local/bin/pilot-agent"], args: ["proxy", "sidecar"] });
    expect(c?.command).toEqual(["hookpoint", "agent", "--proxy-uid", "1337", "--proxy-gid", "1337", "--", "/usr/local/bin/pilot-agent"]);
    expect(c?.args).toEqual(["proxy", "sidecar"]);
  });
  it("capabilities listed in drop are taken out of it, others stay", () => {
    const { c } = proxyAfter({}, {}, { securityContext: { capabilities: { add: ["NET_ADMIN"], drop: ["ALL", "BPF", "SYS_ADMIN", "NET_RAW"] } } });
    expect(c?.securityContext?.capabilities).toEqual({ add: ["NET_ADMIN", "SYS_ADMIN", "BPF", "PERFMON", "SYS_RESOURCE"], drop: ["ALL", "NET_RAW"] });
  });
});

describe("profile scripts", () => {
  it("a script the profile names twice is run once, in the order first named", () => {
    const { env, r } = proxyAfter({}, { defaultProfile: "twice", profiles: { twice: { scripts: ["envoy-socket-io", "hookpoint-pairs", "envoy-socket-io"] } } });
    expect(env.HOOKPOINT_SCRIPTS).toBe("envoy-socket-io,hookpoint-pairs");
    expect(JSON.parse(r.mutated?.metadata?.annotations?.["hookpoint.dev/status"] ?? "{}").scripts).toEqual(["envoy-socket-io", "hookpoint-pairs"]);
  });
});

describe("scripts annotation", () => {
  it("selects known scripts in the given order, without duplicates", () => {
    const { env, r } = proxyAfter({ "hookpoint.dev/scripts": " envoy-socket-io, hookpoint-pairs,envoy-socket-io " });
    expect(env.HOOKPOINT_SCRIPTS).toBe("envoy-socket-io,hookpoint-pairs");
    expect(r.warnings).toEqual([]);
  });
  it("warns about unknown names and names the available ones", () => {
    const { env, r } = proxyAfter({ "hookpoint.dev/scripts": "envoy-socket-io,tcp-retrans" });
    expect(env.HOOKPOINT_SCRIPTS).toBe("envoy-socket-io");
    expect(r.warnings).toEqual(['hookpoint: unknown script "tcp-retrans" in annotation hookpoint.dev/scripts ignored; available: envoy-event-loop, envoy-filter-chain, envoy-request-flow, envoy-socket-io, hookpoint-pairs']);
  });
  it("with no known name left, keeps the profile's scripts", () => {
    const { env, r } = proxyAfter({ "hookpoint.dev/scripts": "nope" });
    expect(env.HOOKPOINT_SCRIPTS).toBe("envoy-request-flow,envoy-event-loop");
    expect(r.warnings).toHaveLength(2);
  });
});

describe("profile resources", () => {
  it("merge over the container's per resource, and a re-run on the stored form is a no-op", () => {
    const { c, r } = proxyAfter({ "hookpoint.dev/profile": "deep" }, { profiles }, { resources: { requests: { cpu: "10m", memory: "40Mi" }, limits: { cpu: "2", memory: "1Gi" } } });
    expect(c?.resources).toEqual({ requests: { cpu: "10m", memory: "40Mi" }, limits: { cpu: "2", memory: "2Gi" } });
    // As the API server stores it (requests defaulted from limits where absent).
    const stored = structuredClone(r.mutated!);
    const again = reviewPod(stored, "web", snapshot({ web: NS_ON }, [policy("tracing", { profiles })]), settings);
    expect(again.patch).toEqual([]);
  });
});
