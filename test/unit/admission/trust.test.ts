// What the pod's author can and cannot steer: the proxy's uid/gid come from the
// webhook's record, in the command it writes (flags beat the agent's env), not
// from env the pod sets; a proxy without Envoy is never made privileged; Pod
// Security, the namespace's label or the cluster's default, is respected; the
// tracing image's Istio version is checked; the agent's port stays out of
// Istio's inbound capture.
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { resolveAgentSettings } from "../../../src/agent/settings.js";
import type { Container, Pod } from "../../../src/admission/pod.js";
import { istioVersionOfProxyImage, istioVersionWarning } from "../../../src/admission/istio.js";
import { reviewPod } from "../../../src/admission/review.js";
import type { Settings } from "../../../src/policy/effective.js";
import { loadPod, policy, settings, snapshot } from "../../support/pods.js";

const ENABLED = { "hookpoint.dev/inject": "enabled" };

function proxyPod(proxy: Partial<Container> = {}, annotations: Record<string, string> = {}, podSc?: Pod["spec"]["securityContext"]): Pod {
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", annotations },
    spec: {
      containers: [
        { name: "app", image: "app:1" },
        { name: "istio-proxy", image: "docker.io/istio/proxyv2:1.24.2", args: ["proxy", "sidecar"], securityContext: { runAsUser: 1337, runAsGroup: 1337 }, ...proxy },
      ],
    },
  };
  if (podSc) pod.spec.securityContext = podSc;
  return pod;
}

function review(pod: Pod, nsLabels: Record<string, string> = ENABLED, s: Settings = settings, policies = [] as ReturnType<typeof policy>[]) {
  return reviewPod(pod, "web", snapshot({ web: nsLabels }, policies), s);
}

const proxyOf = (pod: Pod | undefined) => pod?.spec.containers.find((c) => c.name === "istio-proxy");
const statusOf = (pod: Pod | undefined) => JSON.parse(pod?.metadata?.annotations?.["hookpoint.dev/status"] ?? "{}") as Record<string, unknown>;

/** The agent's settings as `hookpoint agent` resolves them from this command line and the container's env. */
function agentSettings(c: Container) {
  const cmd = c.command ?? [];
  const flags: Record<string, string> = {};
  for (let i = 2; i < cmd.indexOf("--"); i += 2) flags[(cmd[i] as string) === "--proxy-uid" ? "proxyUid" : "proxyGid"] = cmd[i + 1] as string;
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
  return resolveAgentSettings(flags, env);
}

/** Applies the patch, as the API server would, and reviews again (reinvocation). */
function again(pod: Pod, r: ReturnType<typeof review>) {
  return review(jsonpatch.applyPatch(structuredClone(pod), r.patch, true, false).newDocument);
}

describe("the proxy's uid and gid", () => {
  it("are the container's runAsUser/runAsGroup, recorded in the status annotation and passed as flags; no HOOKPOINT_PROXY_* env is written", () => {
    const r = review(proxyPod());
    const c = proxyOf(r.mutated) as Container;
    expect(c.command).toEqual(["hookpoint", "agent", "--proxy-uid", "1337", "--proxy-gid", "1337", "--", "/usr/local/bin/pilot-agent"]);
    expect(statusOf(r.mutated)).toMatchObject({ proxyUid: 1337, proxyGid: 1337 });
    expect((c.env ?? []).map((e) => e.name)).toEqual(["HOOKPOINT_PROFILE", "HOOKPOINT_SCRIPTS", "HOOKPOINT_OUTPUT_DIR", "HOOKPOINT_METRICS_PORT"]);
    expect(c.securityContext).toMatchObject({ runAsUser: 0, runAsGroup: 1337 });
  });

  it("a pod that sets HOOKPOINT_PROXY_UID=0 itself still gets its proxy started as 1337: the flags win over env", () => {
    const r = review(proxyPod({ env: [{ name: "HOOKPOINT_PROXY_UID", value: "0" }, { name: "HOOKPOINT_PROXY_GID", value: "0" }] }));
    const c = proxyOf(r.mutated) as Container;
    expect(c.env?.slice(0, 2)).toEqual([{ name: "HOOKPOINT_PROXY_UID", value: "0" }, { name: "HOOKPOINT_PROXY_GID", value: "0" }]);
    const s = agentSettings(c);
    expect([s.proxyUid, s.proxyGid]).toEqual([1337, 1337]);
  });

  it("a status annotation or an agent command written by the pod's author does not change them", () => {
    const forged = proxyPod({ command: ["hookpoint", "agent", "--proxy-uid", "0", "--proxy-gid", "0", "--", "/usr/local/bin/pilot-agent"] }, {
      "hookpoint.dev/status": JSON.stringify({ proxyUid: 0, proxyGid: 0 }),
    });
    const r = review(forged);
    expect(proxyOf(r.mutated)?.command).toEqual(["hookpoint", "agent", "--proxy-uid", "1337", "--proxy-gid", "1337", "--", "/usr/local/bin/pilot-agent"]);
    expect(statusOf(r.mutated)).toMatchObject({ proxyUid: 1337, proxyGid: 1337 });
  });

  it("survive reinvocation, where the container already runs as root: taken from the status annotation", () => {
    const pod = loadPod("no-security-context");
    const first = review(pod);
    expect(statusOf(first.mutated)).toMatchObject({ proxyUid: 1337, proxyGid: 1337 });
    expect(again(pod, first).patch).toEqual([]);
  });

  it("follow the pod's securityContext, and TPROXY's uid 0", () => {
    expect(statusOf(review(proxyPod({ securityContext: {} }, {}, { runAsUser: 2000, runAsGroup: 3000 })).mutated)).toMatchObject({ proxyUid: 2000, proxyGid: 3000 });
    const tproxy = review(loadPod("tproxy"));
    expect(proxyOf(tproxy.mutated)?.command?.slice(0, 7)).toEqual(["hookpoint", "agent", "--proxy-uid", "0", "--proxy-gid", "1337", "--"]);
  });
});

describe("Istio's proxyless gRPC agent (DISABLE_ENVOY=true)", () => {
  for (const value of ["true", "1", "True"]) {
    it(`DISABLE_ENVOY=${value}: skipped with a warning, never made privileged`, () => {
      const r = review(proxyPod({ env: [{ name: "DISABLE_ENVOY", value }] }));
      expect(r.decision).toMatchObject({ inject: false, decidedBy: "proxy-without-envoy", reason: "envoy-disabled" });
      expect(r.patch).toEqual([]);
      expect(r.warnings).toEqual([
        "hookpoint: not injected: container istio-proxy sets DISABLE_ENVOY=true (Istio's proxyless gRPC agent), so there is no Envoy to trace; it is left as it is, never made privileged",
      ]);
    });
  }
  it("DISABLE_ENVOY=false is an ordinary proxy", () => {
    expect(review(proxyPod({ env: [{ name: "DISABLE_ENVOY", value: "false" }] })).decision.inject).toBe(true);
  });
  it("given twice, the last entry decides: it is the one pilot-agent gets", () => {
    const twice = (first: string, last: string) => review(proxyPod({ env: [{ name: "DISABLE_ENVOY", value: first }, { name: "POD_NAME", value: "p" }, { name: "DISABLE_ENVOY", value: last }] }));
    expect(twice("false", "true").decision).toMatchObject({ inject: false, decidedBy: "proxy-without-envoy", reason: "envoy-disabled", message: "container istio-proxy runs no Envoy (DISABLE_ENVOY=true)" });
    expect(twice("true", "false").decision).toMatchObject({ inject: true, reason: "namespace-enabled" });
  });
  it("is not warned about in a namespace that did not opt in", () => {
    const r = review(proxyPod({ env: [{ name: "DISABLE_ENVOY", value: "true" }] }), {});
    expect(r.decision.reason).toBe("not-opted-in");
    expect(r.warnings).toEqual([]);
  });
});

describe("Pod Security Admission", () => {
  const baseline: Settings = { ...settings, defaultPodSecurity: "baseline" };
  it("a cluster default of baseline skips a namespace without an enforce label, with a warning naming the setting", () => {
    const r = review(proxyPod(), ENABLED, baseline);
    expect(r.decision).toMatchObject({ inject: false, decidedBy: "pod-security", reason: "pod-security-enforced" });
    expect(r.warnings).toEqual([
      `hookpoint: not injected: namespace web enforces Pod Security "baseline" (the cluster's default, --default-pod-security), which would reject the privileged tracing container; use a namespace with pod-security.kubernetes.io/enforce=privileged`,
    ]);
  });
  it("the namespace's label privileged wins over the cluster's default", () => {
    expect(review(proxyPod(), { ...ENABLED, "pod-security.kubernetes.io/enforce": "privileged" }, baseline).decision.inject).toBe(true);
  });
  it("an enforce label Kubernetes cannot read counts as restricted, as Pod Security Admission enforces it", () => {
    const r = review(proxyPod(), { ...ENABLED, "pod-security.kubernetes.io/enforce": "Privileged" });
    expect(r.decision.message).toBe(
      'namespace web enforces Pod Security "restricted" (label pod-security.kubernetes.io/enforce has the invalid value "Privileged", which Kubernetes enforces as restricted)',
    );
  });
});

describe("the tracing image and the pod's Istio", () => {
  const withImage = (image: string) => policy("img", { profiles: { default: { image } } });
  it("warns when the tracing image is built for another Istio than the pod's proxyv2", () => {
    const r = review(proxyPod(), ENABLED, settings, [withImage("registry.example.com/hookpoint/proxy-istio:0.1.0-istio1.28.0")]);
    expect(r.decision.inject).toBe(true);
    expect(r.warnings).toEqual([
      "hookpoint: tracing image registry.example.com/hookpoint/proxy-istio:0.1.0-istio1.28.0 is built for Istio 1.28.0, but container istio-proxy ran Istio 1.24.2 (docker.io/istio/proxyv2:1.24.2); the proxy must match the control plane: build deploy/images/proxy-istio.Dockerfile with ISTIO_VERSION=1.24.2 and set it as the profile's image",
    ]);
  });
  it.each([
    ["the same Istio", "docker.io/istio/proxyv2:1.24.2", "registry.example.com/hookpoint/proxy-istio:0.1.0-istio1.24.2"],
    ["Istio's distroless tag", "gcr.io/istio-release/proxyv2:1.24.2-distroless", "registry.example.com/hookpoint/proxy-istio:0.1.0-istio1.24.2"],
    ["a proxy image that is not proxyv2 (user-declared `auto`)", "auto", "registry.example.com/hookpoint/proxy-istio:0.1.0-istio1.28.0"],
    ["a tracing image without an istio tag", "docker.io/istio/proxyv2:1.24.2", "registry.example.com/tracing:latest"],
    ["a digest instead of a tag", "docker.io/istio/proxyv2@sha256:0123456789abcdef", "registry.example.com/hookpoint/proxy-istio:0.1.0-istio1.28.0"],
  ])("no warning with %s", (_what, proxyImage, tracingImage) => {
    const r = review(proxyPod({ image: proxyImage }), ENABLED, settings, [withImage(tracingImage)]);
    expect(r.warnings).toEqual([]);
  });
});

describe("the Istio versions in image names", () => {
  it("are read past a registry port, an IPv6 registry in brackets and a digest", () => {
    const proxy = `[fd00::1]:5000/istio/proxyv2:1.27.1-distroless@sha256:${"a".repeat(64)}`;
    const tracing = `registry.example.com:5000/hookpoint/proxy-istio:0.1.0-istio1.28.0@sha512:${"c".repeat(128)}`;
    expect(istioVersionWarning("istio-proxy", proxy, tracing)).toBe(
      `hookpoint: tracing image ${tracing} is built for Istio 1.28.0, but container istio-proxy ran Istio 1.27.1 (${proxy}); the proxy must match the control plane: build deploy/images/proxy-istio.Dockerfile with ISTIO_VERSION=1.27.1 and set it as the profile's image`,
    );
  });
  it("a registry whose host is named proxyv2 does not make an image Istio's proxy", () => {
    expect(istioVersionOfProxyImage("proxyv2:5000/example/web:1.27.1")).toBeUndefined();
    expect(istioVersionOfProxyImage("proxyv2:5000/istio/proxyv2:1.27.1")).toBe("1.27.1");
  });
});

describe("the agent's port under Istio's inbound capture", () => {
  const exclude = "traffic.sidecar.istio.io/excludeInboundPorts";
  it("is added to the annotation (merged with what is there) and to istio-init's -d list, once", () => {
    const pod = loadPod("classic-sidecar");
    pod.metadata!.annotations![exclude] = "8080";
    const r = review(pod);
    expect(r.mutated?.metadata?.annotations?.[exclude]).toBe("8080,15099");
    const init = r.mutated?.spec.initContainers?.find((c) => c.name === "istio-init");
    // Before the status port, where Istio's template puts the annotation's ports.
    expect(init?.args?.slice(15, 17)).toEqual(["-d", "15090,15021,15099,15020"]);
    expect(again(pod, r).patch).toEqual([]);
  });
  it.each([
    [["istio-iptables", "-d=15090,15021"], ["istio-iptables", "-d=15090,15021,15099"]],
    [["istio-iptables", "--istio-local-exclude-ports", "15090"], ["istio-iptables", "--istio-local-exclude-ports", "15090,15099"]],
    [["istio-iptables", "-p", "15001", "-m", "TPROXY"], ["istio-iptables", "-p", "15001", "-m", "TPROXY", "-d", "15099"]],
    [["istio-iptables", "-d", "15099,15090"], ["istio-iptables", "-d", "15099,15090"]],
  ])("istio-init args %j become %j", (args, expected) => {
    const pod = proxyPod();
    pod.spec.initContainers = [{ name: "istio-init", image: "docker.io/istio/proxyv2:1.24.2", args }];
    expect(review(pod).mutated?.spec.initContainers?.[0]?.args).toEqual(expected);
  });
  // Istio's template renders the annotation (istio-cni) and istio-init's -d as
  // "15090,15021," + excludeInboundPort(statusPort, annotation): the annotation's
  // ports, then the status port unless listed. Istio re-renders both from the
  // annotation when it injects the stored pod again, so hookpoint's lists must be
  // exactly that rendering of the annotation hookpoint writes.
  const excludeInboundPort = (port: string, ports: string) => {
    const list = ports.split(",").map((p) => p.trim()).filter((p) => p !== "");
    return port === "0" || list.includes(port) ? ports : [...list, port].join(",");
  };
  it.each([
    ["no annotation", undefined, undefined],
    ["ports of the pod's own", "8080,9090", undefined],
    ["the status port listed last (istio-cni's injection writes it so)", "15020", undefined],
    ["the status port listed first", "15020,8080", undefined],
    ["another status port", undefined, "15021"],
    ["no status port", "8080", "0"],
  ])("%s: the annotation and -d are what Istio renders from the new annotation", (_what, ports, statusPort) => {
    const status = statusPort ?? "15020";
    const annotations: Record<string, string> = { ...(ports === undefined ? {} : { [exclude]: ports }), ...(statusPort === undefined ? {} : { "status.sidecar.istio.io/port": statusPort }) };
    const pod = proxyPod({}, annotations);
    const rendered = (ann: string | undefined) => `15090,15021,${excludeInboundPort(status, ann ?? "")}`.replace(/,$/, "");
    pod.spec.initContainers = [{ name: "istio-init", image: "docker.io/istio/proxyv2:1.24.2", args: ["istio-iptables", "-d", rendered(ports)] }];
    const r = review(pod);
    const written = r.mutated?.metadata?.annotations?.[exclude];
    expect(written?.split(",")).toContain("15099");
    expect(r.mutated?.spec.initContainers?.[0]?.args).toEqual(["istio-iptables", "-d", rendered(written)]);
    expect(again(pod, r).patch).toEqual([]);
  });
  it("istio-init written with command (older Istio templates) is rewritten there", () => {
    const pod = proxyPod();
    pod.spec.initContainers = [{ name: "istio-init", image: "docker.io/istio/proxyv2:1.24.2", command: ["istio-iptables", "-d", "15090"] }];
    expect(review(pod).mutated?.spec.initContainers?.[0]).toEqual({ name: "istio-init", image: "docker.io/istio/proxyv2:1.24.2", command: ["istio-iptables", "-d", "15090,15099"] });
  });
  it("istio-cni's validation container is left alone: the CNI plugin reads the annotation", () => {
    const r = review(loadPod("cni-mode"));
    expect(r.mutated?.metadata?.annotations?.[exclude]).toBe("15099,15020");
    expect(r.patch.filter((op) => op.path.startsWith("/spec/initContainers"))).toEqual([]);
  });
  it("is not touched by a profile without the agent, nor on a pod outside Istio", () => {
    const noAgent = review(loadPod("classic-sidecar"), ENABLED, settings, [policy("manual", { profiles: { default: { agent: false } } })]);
    expect(noAgent.patch.filter((op) => op.path.includes("excludeInboundPorts") || op.path.startsWith("/spec/initContainers"))).toEqual([]);
    const cilium = proxyPod({ name: "cilium-envoy", command: ["/usr/bin/cilium-envoy-starter"] });
    const r = review(cilium, ENABLED, settings, [policy("cilium", { targetContainers: ["cilium-envoy"] })]);
    expect(r.decision.inject).toBe(true);
    expect(r.mutated?.metadata?.annotations?.[exclude]).toBeUndefined();
  });
});
