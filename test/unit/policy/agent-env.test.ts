// A profile's env reaches the agent in every pod the profile injects; the agent stops
// (exit code 2, before it starts the proxy) on a setting it refuses. Validation judges
// those settings with the agent's own parsing and refuses what the webhook itself sets;
// a name the agent does not read is left alone, as the agent leaves it.
import { describe, expect, it } from "vitest";
import { SETTINGS, agentSettingsProblem } from "../../../src/agent/settings.js";
import { reviewPod } from "../../../src/admission/review.js";
import type { Pod } from "../../../src/admission/pod.js";
import { judgePolicy } from "../../../src/k8s/acceptance.js";
import { parsePolicies } from "../../../src/policy/files.js";
import type { EnvVar, Profile } from "../../../src/policy/types.js";
import { semanticProblems } from "../../../src/policy/validate.js";
import { InputError } from "../../../src/input-error.js";
import { policy, SCRIPTS, settings, snapshot } from "../../support/pods.js";

const STOPS = "the agent would exit on it before it starts the proxy, in every pod the profile injects";
const DEFAULTS = "envoy-event-loop, envoy-request-flow, hookpoint-pairs";
const KNOWN = [...SCRIPTS, "envoy-request-trace"];
const problems = (env: EnvVar[], profile: Profile = {}) => semanticProblems(policy("p", { profiles: { deep: { ...profile, env } } }), KNOWN);

describe("a profile's agent settings", () => {
  it("a value the agent refuses is named by its entry, with the agent's own words", () => {
    expect(
      problems([
        { name: "HOOKPOINT_LOG_LEVEL", value: "verbose" },
        { name: "HOOKPOINT_INTERVAL_SECONDS", value: "5 s" },
        { name: "HOOKPOINT_TRACE_SAMPLE", value: "0" },
        { name: "HOOKPOINT_REAPER", value: "dumb-init" },
        { name: "HOOKPOINT_RECORDS_ENDPOINT", value: "yes" },
        { name: "HOOKPOINT_ENVOY_NAMES", value: " , " },
      ]),
    ).toEqual([
      { path: "spec.profiles.deep.env[0].value", message: `HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose": ${STOPS}` },
      { path: "spec.profiles.deep.env[1].value", message: `HOOKPOINT_INTERVAL_SECONDS: expected an integer from 1 to 3600, got "5 s": ${STOPS}` },
      { path: "spec.profiles.deep.env[2].value", message: `HOOKPOINT_TRACE_SAMPLE: expected an integer from 1 to 1000000000, got "0": ${STOPS}` },
      { path: "spec.profiles.deep.env[3].value", message: `HOOKPOINT_REAPER: expected auto, tini or none, got "dumb-init": ${STOPS}` },
      { path: "spec.profiles.deep.env[4].value", message: `HOOKPOINT_RECORDS_ENDPOINT: expected on or off, got "yes": ${STOPS}` },
      { path: "spec.profiles.deep.env[5].value", message: `HOOKPOINT_ENVOY_NAMES: expected at least one Envoy binary name: ${STOPS}` },
    ]);
  });

  it("values the agent takes, an empty value (the agent's default), a valueFrom (read at pod start) and other variables pass", () => {
    expect(
      problems([
        { name: "HOOKPOINT_LOG_LEVEL", value: "debug" },
        { name: "HOOKPOINT_INTERVAL_SECONDS", value: " 5 " },
        { name: "HOOKPOINT_MAX_OUTPUT_BYTES", value: "" },
        { name: "HOOKPOINT_TRACE_RATE", valueFrom: { configMapKeyRef: { name: "tracing", key: "rate" } } },
        { name: "LOG_LEVEL", value: "verbose" },
      ]),
    ).toEqual([]);
  });

  it("a value that takes another variable's value, $(NAME), is expanded by the kubelet when the pod starts: not judged, as a valueFrom", () => {
    expect(
      problems([
        { name: "INTERVAL", value: "5" },
        { name: "HOOKPOINT_INTERVAL_SECONDS", value: "$(INTERVAL)" },
        { name: "HOOKPOINT_LOG_LEVEL", value: "verbose" },
      ]),
    ).toEqual([{ path: "spec.profiles.deep.env[2].value", message: `HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose": ${STOPS}` }]);
  });

  it("the output budget must hold every file of the scripts the webhook gives the agent: the profile's, else the defaults", () => {
    expect(problems([{ name: "HOOKPOINT_MAX_OUTPUT_BYTES", value: "40000" }])).toEqual([
      {
        path: "spec.profiles.deep.env[0].value",
        message: `HOOKPOINT_MAX_OUTPUT_BYTES: 40000 is too small: 3 output files with 3 rotated ones each need at least 49152 (12 files of 4096 bytes), with the default scripts ${DEFAULTS}: ${STOPS}`,
      },
    ]);
    // One script, one file: 4 × 4096 fits.
    expect(problems([{ name: "HOOKPOINT_MAX_OUTPUT_BYTES", value: "40000" }], { scripts: ["hookpoint-pairs"] })).toEqual([]);
    // envoy-request-trace writes its request records to a file more; a script named twice runs once.
    expect(problems([{ name: "HOOKPOINT_MAX_OUTPUT_BYTES", value: "40000" }], { scripts: ["envoy-request-trace", "hookpoint-pairs", "hookpoint-pairs"] })).toEqual([
      {
        path: "spec.profiles.deep.env[0].value",
        message: `HOOKPOINT_MAX_OUTPUT_BYTES: 40000 is too small: 3 output files with 3 rotated ones each need at least 49152 (12 files of 4096 bytes), with the profile's scripts envoy-request-trace, hookpoint-pairs: ${STOPS}`,
      },
    ]);
  });

  it("settings that fit alone but not together are named at the budget's entry; the last entry of a name is the one the agent gets", () => {
    const env = [
      { name: "HOOKPOINT_MAX_OUTPUT_BYTES", value: "100000" },
      { name: "HOOKPOINT_KEEP_FILES", value: "10" },
      { name: "HOOKPOINT_MAX_OUTPUT_BYTES", value: "65536" },
    ];
    expect(problems(env)).toEqual([
      {
        path: "spec.profiles.deep.env[2].value",
        message: `HOOKPOINT_MAX_OUTPUT_BYTES: 65536 is too small: 3 output files with 10 rotated ones each need at least 135168 (33 files of 4096 bytes), with the default scripts ${DEFAULTS}: ${STOPS}`,
      },
    ]);
    expect(problems([...env, { name: "HOOKPOINT_KEEP_FILES", value: "" }])).toEqual([]);
  });

  it("of a name given twice the agent gets the last entry (the kubelet's rule): an earlier one is not judged, alone or in the policy's status", () => {
    const verbose = { name: "HOOKPOINT_LOG_LEVEL", value: "verbose" };
    const debug = { name: "HOOKPOINT_LOG_LEVEL", value: "debug" };
    const refused = { path: "spec.profiles.deep.env[1].value", message: `HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose": ${STOPS}` };
    expect(problems([verbose, debug])).toEqual([]);
    expect(problems([debug, verbose])).toEqual([refused]);
    // A later valueFrom (read at pod start) or empty value (the agent's default) hides it too.
    expect(problems([verbose, { name: "HOOKPOINT_LOG_LEVEL", valueFrom: { configMapKeyRef: { name: "tracing", key: "level" } } }])).toEqual([]);
    expect(problems([verbose, { name: "HOOKPOINT_LOG_LEVEL", value: "" }])).toEqual([]);
    // An earlier budget too small for the scripts is not the one the agent shares out.
    expect(problems([{ name: "HOOKPOINT_MAX_OUTPUT_BYTES", value: "40000" }, { name: "HOOKPOINT_MAX_OUTPUT_BYTES", value: "60000" }])).toEqual([]);
    const judged = (env: EnvVar[]) => judgePolicy({ ...policy("perf", { profiles: { deep: { env } } }), metadata: { name: "perf", generation: 4 } }, SCRIPTS);
    expect(judged([verbose, debug]).condition).toEqual({ type: "Accepted", status: "True", reason: "Valid", message: "The policy is valid and in force.", observedGeneration: 4 });
    expect(judged([debug, verbose]).condition).toEqual({ type: "Accepted", status: "False", reason: "Invalid", message: `${refused.path}: ${refused.message}`, observedGeneration: 4 });
  });

  it("a budget too small with the default rotation but held with the profile's own HOOKPOINT_KEEP_FILES passes, in either order: the agent starts with it", () => {
    const tight = { name: "HOOKPOINT_MAX_OUTPUT_BYTES", value: "40000" };
    const noRotation = { name: "HOOKPOINT_KEEP_FILES", value: "0" };
    expect(problems([tight, noRotation])).toEqual([]);
    expect(problems([noRotation, tight])).toEqual([]);
    expect(agentSettingsProblem({}, { HOOKPOINT_SCRIPTS: DEFAULTS.replaceAll(" ", ""), HOOKPOINT_MAX_OUTPUT_BYTES: "40000", HOOKPOINT_KEEP_FILES: "0" })).toBeUndefined();
    // Three rotated files each are too many for it again: named at the budget's entry.
    expect(problems([{ name: "HOOKPOINT_KEEP_FILES", value: "3" }, tight])).toEqual([
      {
        path: "spec.profiles.deep.env[1].value",
        message: `HOOKPOINT_MAX_OUTPUT_BYTES: 40000 is too small: 3 output files with 3 rotated ones each need at least 49152 (12 files of 4096 bytes), with the default scripts ${DEFAULTS}: ${STOPS}`,
      },
    ]);
  });

  it("every setting the webhook writes into the proxy's env is refused, saying how the webhook sets it; those it passes as flags are not", () => {
    // What mutatePod writes: its HOOKPOINT_* env and the flags of the agent's command.
    const pod: Pod = { metadata: { name: "p" }, spec: { terminationGracePeriodSeconds: 45, containers: [{ name: "istio-proxy", image: "docker.io/istio/proxyv2:1.24.2" }] } };
    const c = reviewPod(pod, "web", snapshot({ web: { "hookpoint.dev/inject": "enabled" } }), settings).mutated?.spec.containers[0];
    const flags = (c?.command ?? []).filter((a) => a.startsWith("--proxy-"));
    const written = [...(c?.env ?? []).map((e) => e.name), ...flags.map((f) => Object.values(SETTINGS).find((s) => s.flag === f)?.env)];
    expect(written).toEqual([
      "HOOKPOINT_PROFILE",
      "HOOKPOINT_SCRIPTS",
      "HOOKPOINT_OUTPUT_DIR",
      "HOOKPOINT_METRICS_PORT",
      "HOOKPOINT_TERMINATION_GRACE_SECONDS",
      "HOOKPOINT_PROXY_UID",
      "HOOKPOINT_PROXY_GID",
    ]);
    expect(problems(written.map((name) => ({ name: name as string, value: "1" })))).toEqual([
      { path: "spec.profiles.deep.env[0].name", message: "HOOKPOINT_PROFILE is set by the webhook, to the profile's name, which the status annotation records: name the profile instead" },
      {
        path: "spec.profiles.deep.env[1].name",
        message: "HOOKPOINT_SCRIPTS is set by the webhook, to the profile's scripts (or the pod's hookpoint.dev/scripts annotation), which the status annotation records: set the profile's scripts instead",
      },
      {
        path: "spec.profiles.deep.env[2].name",
        message: "HOOKPOINT_OUTPUT_DIR is set by the webhook, to /tmp/hookpoint, in the hookpoint-tmp volume: the container's one writable place, whose size the agent's output budget is cut to",
      },
      { path: "spec.profiles.deep.env[3].name", message: "HOOKPOINT_METRICS_PORT is set by the webhook, to 15099, the port it leaves out of Istio's inbound capture" },
      { path: "spec.profiles.deep.env[4].name", message: "HOOKPOINT_TERMINATION_GRACE_SECONDS is set by the webhook, to the pod's own terminationGracePeriodSeconds (86400 at most): set that instead" },
    ]);
    // Whatever the value, and from a valueFrom too: the name alone overrides the webhook's.
    expect(problems([{ name: "HOOKPOINT_SCRIPTS", valueFrom: { configMapKeyRef: { name: "c", key: "k" } } }])).toHaveLength(1);
  });

  it("HOOKPOINT_PROXY_UID/GID pass whatever their value: the webhook's --proxy-uid/--proxy-gid win, so the agent never reads them and the pods start (a policy the previous release accepted with them stays in force)", () => {
    const env = [
      { name: "HOOKPOINT_PROXY_UID", value: "0" },
      { name: "HOOKPOINT_PROXY_GID", value: "not a gid" },
    ];
    expect(problems(env)).toEqual([]);
    const judged = judgePolicy({ ...policy("root", { profiles: { default: { env } } }), metadata: { name: "root", generation: 3 } }, SCRIPTS);
    expect(judged.inForce).toBe("this");
    const pod: Pod = { metadata: { name: "p" }, spec: { containers: [{ name: "istio-proxy", image: "docker.io/istio/proxyv2:1.24.2" }] } };
    const r = reviewPod(pod, "web", snapshot({ web: { "hookpoint.dev/inject": "enabled" } }, [judged.policy!]), settings);
    expect(r.decision).toMatchObject({ inject: true, policy: "root" });
    const c = r.mutated?.spec.containers[0];
    expect(c?.command?.slice(0, 7)).toEqual(["hookpoint", "agent", "--proxy-uid", "1337", "--proxy-gid", "1337", "--"]);
    expect(agentSettingsProblem({ proxyUid: "1337", proxyGid: "1337" }, Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value])))).toBeUndefined();
  });

  it("a HOOKPOINT_* name the agent does not read passes: the agent ignores it (a newer agent's setting, or a typo that broke nothing)", () => {
    expect(
      problems([
        { name: "HOOKPOINT_INTERVAL", value: "5" },
        { name: "HOOKPOINT_log_level", value: "verbose" },
        { name: "HOOKPOINT_COLOUR", value: "blue" },
      ]),
    ).toEqual([]);
  });

  it("a profile without the agent (agent: false) has no agent to read them", () => {
    expect(problems([{ name: "HOOKPOINT_LOG_LEVEL", value: "verbose" }, { name: "HOOKPOINT_SCRIPTS", value: "x" }, { name: "HOOKPOINT_X", value: "1" }], { agent: false })).toEqual([]);
  });

  it("a Disabled policy (a kill switch) injects nothing: its profiles' agent env is not judged, and is again once it is switched to another mode", () => {
    const env = [
      { name: "HOOKPOINT_LOG_LEVEL", value: "verbose" },
      { name: "HOOKPOINT_SCRIPTS", value: "envoy-event-loop" },
    ];
    const spec = (mode: "Disabled" | "OptIn" | "Enabled") => ({ mode, podSelector: { matchLabels: { app: "reviews" } }, profiles: { default: { env } } });
    const off = judgePolicy({ ...policy("kill", spec("Disabled")), metadata: { name: "kill", generation: 1 } }, SCRIPTS);
    expect(off.inForce).toBe("this");
    expect(off.condition).toEqual({ type: "Accepted", status: "True", reason: "Valid", message: "The policy is valid and in force.", observedGeneration: 1 });
    // In force, it keeps the pods it governs uninjected.
    const reviews: Pod = { metadata: { name: "r", labels: { app: "reviews" } }, spec: { containers: [{ name: "istio-proxy", image: "docker.io/istio/proxyv2:1.24.2" }] } };
    expect(reviewPod(reviews, "web", snapshot({ web: { "hookpoint.dev/inject": "enabled" } }, [off.policy!]), settings).decision).toMatchObject({ inject: false, reason: "policy-disabled", policy: "kill" });
    const refused = [
      { path: "spec.profiles.default.env[0].value", message: `HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose": ${STOPS}` },
      {
        path: "spec.profiles.default.env[1].name",
        message: "HOOKPOINT_SCRIPTS is set by the webhook, to the profile's scripts (or the pod's hookpoint.dev/scripts annotation), which the status annotation records: set the profile's scripts instead",
      },
    ];
    expect(semanticProblems(policy("kill", spec("OptIn")), KNOWN)).toEqual(refused);
    expect(semanticProblems(policy("kill", spec("Enabled")), KNOWN)).toEqual(refused);
    // Switched on with that env: refused, and the Disabled version stays in force.
    const on = judgePolicy({ ...policy("kill", spec("OptIn")), metadata: { name: "kill", generation: 2 } }, SCRIPTS, off.policy);
    expect(on.inForce).toBe("previous");
    expect(on.policy?.spec.mode).toBe("Disabled");
    expect(on.condition).toEqual({ type: "Accepted", status: "False", reason: "Invalid", message: refused.map((r) => `${r.path}: ${r.message}`).join("; "), observedGeneration: 2 });
  });

  it("reaches the policy's Accepted condition and a policy file's error, with the field path", () => {
    const spec = { profiles: { deep: { env: [{ name: "HOOKPOINT_LOG_LEVEL", value: "verbose" }] } } };
    const verdict = judgePolicy({ ...policy("perf", spec), metadata: { name: "perf", generation: 3 } }, SCRIPTS);
    expect(verdict.inForce).toBe("none");
    expect(verdict.condition).toEqual({
      type: "Accepted",
      status: "False",
      reason: "Invalid",
      message: `spec.profiles.deep.env[0].value: HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose": ${STOPS}`,
      observedGeneration: 3,
    });
    const text = "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: perf}\nspec:\n  profiles:\n    deep: {env: [{name: HOOKPOINT_INTERVAL_SECONDS, value: 5 s}]}\n";
    expect(() => parsePolicies(text, "policy.yaml", SCRIPTS)).toThrow(
      new InputError("policy.yaml", `HOOKPOINT_INTERVAL_SECONDS: expected an integer from 1 to 3600, got "5 s": ${STOPS}`, 0, "spec.profiles.deep.env[0].value"),
    );
  });
});
