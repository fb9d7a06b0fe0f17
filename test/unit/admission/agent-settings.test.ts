// The agent stops, before it starts the proxy, on a setting it refuses. Policy validation
// judges a profile's env with the profile's scripts; what only the pod decides (a scripts
// annotation, the container's own HOOKPOINT_* env) is judged at admission, on the mutated
// container's env and command, with the agent's own parsing: such a pod is left untraced,
// with a warning, rather than given a proxy that never starts.
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { agentRefusal, reviewPod, settingsAsJudged } from "../../../src/admission/review.js";
import { decide } from "../../../src/admission/decision.js";
import { mutatePod } from "../../../src/admission/mutate.js";
import { planInjection } from "../../../src/admission/plan.js";
import type { Container, Pod } from "../../../src/admission/pod.js";
import { agentSettingsProblem } from "../../../src/agent/settings.js";
import { DEFAULT_SCRIPT_NAMES } from "../../../src/defaults.js";
import type { Settings } from "../../../src/policy/effective.js";
import { governingPolicy, namespaceLabels, type Snapshot } from "../../../src/policy/snapshot.js";
import type { HookpointPolicy } from "../../../src/policy/types.js";
import { semanticProblems } from "../../../src/policy/validate.js";
import { loadPod, policy, SCRIPTS, settings, snapshot } from "../../support/pods.js";

const NS = { bookinfo: { "hookpoint.dev/inject": "enabled" } };
const LEAN = policy("lean", { profiles: { default: { scripts: ["hookpoint-pairs"], env: [{ name: "HOOKPOINT_MAX_OUTPUT_BYTES", value: "40000" }] } } });

function withProxy(pod: Pod, change: (c: Container) => void): Pod {
  const copy = structuredClone(pod);
  change(copy.spec.containers.find((c) => c.name === "istio-proxy") as Container);
  return copy;
}

describe("the agent's settings at admission", () => {
  const pod = loadPod("classic-sidecar");

  it("a budget the policy's scripts fit is injected (and the policy was accepted with it)", () => {
    expect(semanticProblems(LEAN, SCRIPTS)).toEqual([]);
    const r = reviewPod(pod, "bookinfo", snapshot(NS, [LEAN]), settings);
    expect(r.decision).toMatchObject({ inject: true, reason: "namespace-enabled" });
    expect(r.status?.scripts).toEqual(["hookpoint-pairs"]);
  });

  it("a scripts annotation whose files that budget cannot hold: not injected, the warning in the agent's words", () => {
    const annotated = structuredClone(pod);
    annotated.metadata!.annotations!["hookpoint.dev/scripts"] = "envoy-event-loop,envoy-request-flow,envoy-socket-io";
    const r = reviewPod(annotated, "bookinfo", snapshot(NS, [LEAN]), settings);
    const message =
      "the agent would exit before it starts the proxy: HOOKPOINT_MAX_OUTPUT_BYTES: 40000 is too small: 3 output files with 3 rotated ones each need at least 49152 (12 files of 4096 bytes), with scripts envoy-event-loop, envoy-request-flow, envoy-socket-io";
    expect(r.decision).toMatchObject({ inject: false, decidedBy: "agent-settings", reason: "invalid-agent-settings", message, policy: "lean" });
    expect(r.patch).toEqual([]);
    expect(r.warnings).toEqual([`hookpoint: not injected: ${message}`]);
  });

  it("the proxy container's own HOOKPOINT_* env, which the webhook leaves in place, is judged too; a valueFrom is not", () => {
    const verbose = withProxy(pod, (c) => c.env?.push({ name: "HOOKPOINT_LOG_LEVEL", value: "verbose" }));
    const r = reviewPod(verbose, "bookinfo", snapshot(NS), settings);
    expect(r.decision).toMatchObject({
      inject: false,
      decidedBy: "agent-settings",
      reason: "invalid-agent-settings",
      message: 'the agent would exit before it starts the proxy: HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose"',
    });
    // The last entry of a name is the one the agent gets.
    const fixed = withProxy(verbose, (c) => c.env?.push({ name: "HOOKPOINT_LOG_LEVEL", value: "debug" }));
    expect(reviewPod(fixed, "bookinfo", snapshot(NS), settings).decision.inject).toBe(true);
    const fromConfigMap = withProxy(verbose, (c) => c.env?.push({ name: "HOOKPOINT_LOG_LEVEL", valueFrom: { configMapKeyRef: { name: "tracing", key: "level" } } }));
    expect(reviewPod(fromConfigMap, "bookinfo", snapshot(NS), settings).decision.inject).toBe(true);
    // $(NAME) is expanded by the kubelet when the pod starts: not judged either.
    const expanded = withProxy(verbose, (c) => c.env?.push({ name: "HOOKPOINT_LOG_LEVEL", value: "$(LEVEL)" }));
    expect(reviewPod(expanded, "bookinfo", snapshot(NS), settings).decision.inject).toBe(true);
  });

  it("the container's own env and the profile's combine as in the patched container: the profile's value wins, and of a name the profile gives twice the last entry is judged", () => {
    const level = (value: string) => ({ name: "HOOKPOINT_LOG_LEVEL", value });
    const stops = "the agent would exit before it starts the proxy: HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got ";
    const review = (own: ReturnType<typeof level>[], env: ReturnType<typeof level>[], force = false) => {
      const q = policy("levels", { ...(force ? { mode: "Disabled" as const } : {}), profiles: { default: { env } } });
      const r = reviewPod(withProxy(pod, (c) => c.env?.push(...own)), "bookinfo", snapshot(NS, [q]), settings, { force });
      const proxy = r.mutated?.spec.containers.find((c) => c.name === "istio-proxy");
      return { decision: r.decision, levels: proxy?.env?.filter((e) => e.name === "HOOKPOINT_LOG_LEVEL") };
    };
    // The profile's entries take the place of every entry of that name, one after the other:
    // the container keeps one entry, the profile's last, which validation judged alone.
    expect(semanticProblems(policy("levels", { profiles: { default: { env: [level("verbose"), level("debug")] } } }), SCRIPTS)).toEqual([]);
    expect(review([level("verbose")], [level("verbose"), level("debug")])).toEqual({
      decision: expect.objectContaining({ inject: true, reason: "namespace-enabled" }),
      levels: [level("debug")],
    });
    // Under a policy validation did not judge (Disabled, forced): the same rule at admission.
    expect(review([level("debug")], [level("verbose"), level("debug")], true).decision).toMatchObject({ inject: true, reason: "forced" });
    expect(review([level("debug")], [level("debug"), level("verbose")], true).decision).toMatchObject({
      inject: false,
      decidedBy: "agent-settings",
      reason: "invalid-agent-settings",
      message: `${stops}"verbose"`,
    });
    // The container's own entries of that name, the later ones too, give way to the profile's:
    // the agent gets the value the profile set, not one the container gave after it.
    expect(review([level("verbose"), level("loud")], [level("debug")])).toEqual({
      decision: expect.objectContaining({ inject: true, reason: "namespace-enabled" }),
      levels: [level("debug")],
    });
    expect(review([level("loud"), level("verbose"), level("info")], [level("debug")])).toEqual({
      decision: expect.objectContaining({ inject: true, reason: "namespace-enabled" }),
      levels: [level("debug")],
    });
  });

  it("a profile without the agent leaves the entrypoint, and so the settings, alone", () => {
    const verbose = withProxy(pod, (c) => c.env?.push({ name: "HOOKPOINT_LOG_LEVEL", value: "verbose" }));
    const noAgent = policy("plain", { profiles: { default: { agent: false } } });
    expect(reviewPod(verbose, "bookinfo", snapshot(NS, [noAgent]), settings).decision.inject).toBe(true);
  });

  it("a terminationGracePeriodSeconds longer than the agent takes (Kubernetes sets no limit) is written as the agent's largest, a day, and the pod is traced", () => {
    const slow = structuredClone(pod);
    slow.spec.terminationGracePeriodSeconds = 172_800;
    const r = reviewPod(slow, "bookinfo", snapshot(NS), settings);
    expect(r.decision).toMatchObject({ inject: true, reason: "namespace-enabled" });
    const proxy = r.mutated?.spec.containers.find((c) => c.name === "istio-proxy");
    expect(proxy?.env?.find((e) => e.name === "HOOKPOINT_TERMINATION_GRACE_SECONDS")).toEqual({ name: "HOOKPOINT_TERMINATION_GRACE_SECONDS", value: "86400" });
    // Reinvocation on the stored pod changes nothing.
    const stored = jsonpatch.applyPatch(structuredClone(slow), r.patch, true, false).newDocument;
    expect(reviewPod(stored, "bookinfo", snapshot(NS), settings).patch).toEqual([]);
  });

  it("a negative terminationGracePeriodSeconds (the API server stores it as 1, before admission since Kubernetes 1.27) is written as 1, and the pod is traced", () => {
    const negative = structuredClone(pod);
    negative.spec.terminationGracePeriodSeconds = -5;
    const r = reviewPod(negative, "bookinfo", snapshot(NS), settings);
    expect(r.decision).toMatchObject({ inject: true, reason: "namespace-enabled" });
    expect(r.warnings).toEqual([]);
    const proxy = r.mutated?.spec.containers.find((c) => c.name === "istio-proxy");
    expect(proxy?.env?.find((e) => e.name === "HOOKPOINT_TERMINATION_GRACE_SECONDS")).toEqual({ name: "HOOKPOINT_TERMINATION_GRACE_SECONDS", value: "1" });
    // The pod as a 1.27+ API server hands it over gets the same patch.
    const asServed = structuredClone(pod);
    asServed.spec.terminationGracePeriodSeconds = 1;
    expect(reviewPod(asServed, "bookinfo", snapshot(NS), settings).patch).toEqual(r.patch);
  });

  // Admission runs the agent's parser only when the pod can change what policy validation judged.
  describe("the parser is skipped only where it can find nothing", () => {
    const budget = (value: string) => [{ name: "HOOKPOINT_MAX_OUTPUT_BYTES", value }];
    const policies: Record<string, HookpointPolicy> = {
      lean: LEAN,
      defaults: policy("defaults", { profiles: { default: { env: budget("60000") } } }),
      "no agent env": policy("bare", { profiles: { default: { env: [{ name: "TZ", value: "UTC" }] } } }),
      "disabled, bad env": policy("off", { mode: "Disabled", profiles: { default: { env: [{ name: "HOOKPOINT_LOG_LEVEL", value: "verbose" }] } } }),
      "agent: false": policy("plain", { profiles: { default: { agent: false, env: [{ name: "HOOKPOINT_LOG_LEVEL", value: "verbose" }] } } }),
    };
    const wrapped = (p: Pod) =>
      withProxy(p, (c) => {
        c.command = ["hookpoint", "agent", "--", "/usr/local/bin/pilot-agent"];
        c.securityContext = { ...c.securityContext, runAsUser: 0 };
      });
    const pods: Record<string, Pod> = {
      plain: pod,
      "scripts annotation": annotate(pod, "hookpoint.dev/scripts", "envoy-event-loop,envoy-request-flow,envoy-socket-io"),
      "own valid env": withProxy(pod, (c) => c.env?.push({ name: "HOOKPOINT_LOG_LEVEL", value: "debug" })),
      "own bad env": withProxy(pod, (c) => c.env?.push({ name: "HOOKPOINT_LOG_LEVEL", value: "verbose" })),
      "grace of two days": withSpec(pod, (s) => (s.terminationGracePeriodSeconds = 172_800)),
      "no grace": withSpec(pod, (s) => delete s.terminationGracePeriodSeconds),
      "negative grace": withSpec(pod, (s) => (s.terminationGracePeriodSeconds = -1)),
      "fractional grace": withSpec(pod, (s) => (s.terminationGracePeriodSeconds = 2.5)),
      "uid past 2^31-1": withProxy(pod, (c) => (c.securityContext = { ...c.securityContext, runAsUser: 2 ** 31 })),
      "negative gid": withProxy(pod, (c) => (c.securityContext = { ...c.securityContext, runAsGroup: -1 })),
      "wrapped by hand": wrapped(pod),
      "recorded uid past 2^31-1": annotate(wrapped(pod), "hookpoint.dev/status", JSON.stringify({ proxyUid: 2 ** 31 })),
    };
    const production: Settings = { ...settings, defaultScripts: DEFAULT_SCRIPT_NAMES };
    // Default scripts other than those validation assumes: four files need more budget than "defaults" gives.
    const wider: Settings = { ...settings, defaultScripts: [...DEFAULT_SCRIPT_NAMES, "envoy-socket-io"] };

    /** reviewPod's steps up to the mutation, then both answers: whether the parser is skipped, and what it would say. */
    function judge(p: Pod, snap: Snapshot, s: Settings) {
      const nsLabels = namespaceLabels(snap, "bookinfo");
      const governing = governingPolicy(snap, nsLabels, p.metadata?.labels ?? {});
      const d = decide({ pod: p, namespace: "bookinfo", nsLabels, policy: governing, force: true });
      const planned = planInjection(p, d.target!, governing, s);
      if (!planned.ok) throw new Error(planned.denied);
      const m = mutatePod(p, planned.plan, d.decidedBy, s);
      return { skipped: settingsAsJudged(p, d.target!, governing, planned.plan, s, m.status), refusal: agentRefusal(m.pod, d.target!, m.status)?.message };
    }

    it("every pod under every policy (forced, so that a Disabled one injects too): a skip never hides a refusal", () => {
      const skipped: string[] = [];
      const refused: string[] = [];
      for (const [pn, p] of Object.entries(pods))
        for (const [qn, q] of Object.entries(policies))
          for (const [sn, s] of Object.entries({ tests: settings, production, wider })) {
            const r = judge(p, snapshot(NS, [q]), s);
            const which = `${pn} / ${qn} / ${sn}`;
            if (r.skipped) expect({ which, refusal: r.refusal }).toEqual({ which, refusal: undefined });
            if (r.skipped) skipped.push(which);
            if (r.refusal) refused.push(which);
          }
      // Skipped: the pods whose settings are what validation judged (a grace period the webhook
      // writes validly, a command wrapped before), under a policy it judged, whose scripts it assumed.
      const asJudged = ["plain", "grace of two days", "no grace", "negative grace", "wrapped by hand"];
      expect(skipped).toEqual(asJudged.flatMap((p) => ["lean / tests", "lean / production", "lean / wider", "defaults / production", "no agent env / tests", "no agent env / production", "no agent env / wider"].map((c) => `${p} / ${c}`)));
      // The parser still runs, and refuses, everywhere else that it matters (96 of the 180).
      expect(refused.length).toBe(96);
    });

    it("the agent's own defaults hold every bundled script at once, so a profile setting none holds any default scripts", () => {
      expect(agentSettingsProblem({}, { HOOKPOINT_SCRIPTS: [...SCRIPTS, "envoy-request-trace"].join(",") })).toBeUndefined();
    });

    it("what the skip must not miss is refused, in the agent's words", () => {
      const refusal = (p: Pod, q: HookpointPolicy = LEAN, force = false) => reviewPod(p, "bookinfo", snapshot(NS, [q]), settings, { force }).decision;
      const stops = "the agent would exit before it starts the proxy: ";
      // A fraction never gets this far (the shape check refuses it, as the API server's decoding does), but if it did:
      expect(refusal(pods["fractional grace"]!)).toMatchObject({ inject: false, reason: "invalid-agent-settings", message: `${stops}HOOKPOINT_TERMINATION_GRACE_SECONDS: expected an integer from 0 to 86400, got "2.5"` });
      expect(refusal(pods["uid past 2^31-1"]!)).toMatchObject({ inject: false, reason: "invalid-agent-settings", message: `${stops}--proxy-uid: expected an integer from 0 to 2147483647, got "2147483648"` });
      expect(refusal(pods["negative gid"]!)).toMatchObject({ inject: false, reason: "invalid-agent-settings", message: `${stops}--proxy-gid: expected an integer from 0 to 2147483647, got "-1"` });
      expect(refusal(pods["recorded uid past 2^31-1"]!)).toMatchObject({ inject: false, reason: "invalid-agent-settings", message: `${stops}--proxy-uid: expected an integer from 0 to 2147483647, got "2147483648"` });
      // A Disabled policy's env is not judged (it injects nothing), but --force injects under it.
      expect(refusal(pod, policies["disabled, bad env"], true)).toMatchObject({
        inject: false,
        reason: "invalid-agent-settings",
        message: `${stops}HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose"`,
      });
      // agent: false leaves a command wrapped by hand, which starts the agent with the profile's env.
      expect(refusal(pods["wrapped by hand"]!, policies["agent: false"])).toMatchObject({
        inject: false,
        reason: "invalid-agent-settings",
        message: `${stops}HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose"`,
      });
    });
  });
});

function annotate(pod: Pod, name: string, value: string): Pod {
  const copy = structuredClone(pod);
  copy.metadata = { ...copy.metadata, annotations: { ...copy.metadata?.annotations, [name]: value } };
  return copy;
}

function withSpec(pod: Pod, change: (spec: Pod["spec"]) => void): Pod {
  const copy = structuredClone(pod);
  change(copy.spec);
  return copy;
}

