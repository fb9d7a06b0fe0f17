// HookpointPolicy validation. Structural checks mirror the CRD schema (for
// policies read from files, where no API server checked them); semantic checks
// are what the schema cannot express. Each problem names its field path.
import { parseQuantity, QuantityError } from "../quantity.js";
import { requestLimitProblem } from "./resources.js";
import { isObject } from "../is-object.js";
import { LEAST_PRIVILEGE_CAPABILITIES, compareKernel, leastPrivilegeProblem, parseKernelVersion, type KernelRange } from "../privilege.js";
import { BUILTIN_PROFILE } from "./effective.js";
import { imagePatternProblem } from "./images.js";
import { IMAGE_REFERENCE } from "../image-reference.js";
import { AGENT_ENV_PREFIX, OutputBudgetError, SETTINGS, agentSettingsProblem, settingOfVariable, valueKnownBeforeStart, type AgentSettings, type SettingsError } from "../agent/settings.js";
import { DEFAULT_SCRIPT_NAMES, MAX_TERMINATION_GRACE_SECONDS } from "../defaults.js";
import { AGENT_METRICS_PORT, AGENT_OUTPUT_DIR, SCRIPTS_ANNOTATION } from "../names.js";
import type { EnvVar, HookpointPolicy, Profile, ResourceRequirements } from "./types.js";

export interface PolicyProblem {
  path: string;
  message: string;
}

const SPEC_FIELDS = [
  "mode", "priority", "namespaceSelector", "podSelector", "excludedNamespaces", "allowPodOptIn",
  "targetContainers", "allowedImages", "defaultProfile", "profiles",
] as const;
/** Resource names without a domain that a container may have (besides hugepages-<size>). */
const CONTAINER_RESOURCES = ["cpu", "memory", "ephemeral-storage"];
const PROFILE_FIELDS = ["image", "scripts", "env", "resources", "privileged", "capabilities", "kernels", "agent"] as const;
const KERNEL_FIELDS = ["min", "max"] as const;
const ENV_FIELDS = ["name", "value", "valueFrom"] as const;
const RESOURCE_FIELDS = ["limits", "requests"] as const;
const KERNEL_VERSION = /^\d+\.\d+(\.\d+)?$/;
const SELECTOR_FIELDS = ["matchLabels", "matchExpressions"] as const;
const REQUIREMENT_FIELDS = ["key", "operator", "values"] as const;
const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];
const MODES = ["Disabled", "OptIn", "Enabled"];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SCRIPT_NAME = /^[a-z0-9][a-z0-9-]*$/;
const CAPABILITY = /^[A-Z][A-Z_]*$/;

type Obj = Record<string, unknown>;

/** Structure: types, enums and unknown fields, as the CRD schema would reject them. */
export function structuralProblems(doc: unknown): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const p = (path: string, message: string) => out.push({ path, message });
  if (!isObject(doc)) return [{ path: "", message: "must be an object" }];
  if (doc.apiVersion !== "hookpoint.dev/v1alpha1") p("apiVersion", `must be hookpoint.dev/v1alpha1, got ${JSON.stringify(doc.apiVersion)}`);
  if (doc.kind !== "HookpointPolicy") p("kind", `must be HookpointPolicy, got ${JSON.stringify(doc.kind)}`);
  if (!isObject(doc.metadata) || typeof doc.metadata.name !== "string" || doc.metadata.name === "") p("metadata.name", "is required");
  if (doc.spec === undefined) return out;
  if (!isObject(doc.spec)) return [...out, { path: "spec", message: "must be an object" }];
  const spec = doc.spec;
  unknownFields(spec, SPEC_FIELDS, "spec", p);
  if (spec.mode !== undefined && !MODES.includes(spec.mode as string)) p("spec.mode", `must be one of ${MODES.join(", ")}, got ${JSON.stringify(spec.mode)}`);
  if (spec.priority !== undefined && !Number.isInteger(spec.priority)) p("spec.priority", "must be an integer");
  for (const f of ["namespaceSelector", "podSelector", "allowPodOptIn"] as const) if (spec[f] !== undefined) selector(spec[f], `spec.${f}`, p);
  stringList(spec.excludedNamespaces, "spec.excludedNamespaces", DNS_LABEL, "a namespace name (DNS-1123 label)", p);
  stringList(spec.targetContainers, "spec.targetContainers", DNS_LABEL, "a container name (DNS-1123 label)", p);
  stringList(spec.allowedImages, "spec.allowedImages", /^\S+$/, "an image pattern without white space", p);
  if (spec.defaultProfile !== undefined && typeof spec.defaultProfile !== "string") p("spec.defaultProfile", "must be a string");
  if (spec.profiles !== undefined) {
    if (!isObject(spec.profiles)) p("spec.profiles", "must be a map of profile name to profile");
    else
      for (const [name, prof] of Object.entries(spec.profiles)) {
        const at = `spec.profiles.${name}`;
        if (!isObject(prof)) {
          p(at, "must be an object");
          continue;
        }
        unknownFields(prof, PROFILE_FIELDS, at, p);
        if (prof.image !== undefined && (typeof prof.image !== "string" || prof.image === "")) p(`${at}.image`, "must be a non-empty string");
        // The CRD's pattern; the API server refuses a pod whose image has white space around it.
        else if (typeof prof.image === "string" && !/^\S+$/.test(prof.image)) p(`${at}.image`, `must be an image reference without white space, got ${JSON.stringify(prof.image)}`);
        // What --image accepts and `hookpoint check` requires: an image no runtime can pull (InvalidImageName) would be injected into every pod.
        else if (typeof prof.image === "string" && !IMAGE_REFERENCE.test(prof.image)) p(`${at}.image`, `must be an image reference such as registry.example.com/hookpoint/proxy-istio:TAG, got ${JSON.stringify(prof.image)}`);
        stringList(prof.scripts, `${at}.scripts`, SCRIPT_NAME, "a script name", p);
        stringList(prof.capabilities, `${at}.capabilities`, CAPABILITY, "a capability name in upper case, without CAP_", p);
        for (const f of ["privileged", "agent"] as const) if (prof[f] !== undefined && typeof prof[f] !== "boolean") p(`${at}.${f}`, "must be true or false");
        if (prof.env !== undefined) {
          if (!Array.isArray(prof.env)) p(`${at}.env`, "must be a list");
          else prof.env.forEach((e, i) => {
            const eat = `${at}.env[${i}]`;
            if (!isObject(e)) return p(eat, "must be an object with a name");
            unknownFields(e, ENV_FIELDS, eat, p);
            if (typeof e.name !== "string" || e.name === "") p(`${eat}.name`, "is required");
            // The pod's env value is a string: a YAML number here would make the API server refuse every injected pod.
            if (e.value !== undefined && typeof e.value !== "string") p(`${eat}.value`, `must be a string (quote it), got ${JSON.stringify(e.value)}`);
            if (e.valueFrom !== undefined && !isObject(e.valueFrom)) p(`${eat}.valueFrom`, "must be an object (a core/v1 EnvVarSource)");
          });
        }
        if (prof.resources !== undefined) {
          if (!isObject(prof.resources)) p(`${at}.resources`, "must be an object");
          else {
            unknownFields(prof.resources, RESOURCE_FIELDS, `${at}.resources`, p);
            for (const side of RESOURCE_FIELDS) {
              const list = prof.resources[side];
              if (list === undefined) continue;
              if (!isObject(list)) p(`${at}.resources.${side}`, "must be a map of resource name to quantity");
              // The CRD types quantities as strings; YAML reads `cpu: 1` as a number.
              else
                for (const [resource, q] of Object.entries(list)) {
                  // Kubernetes' validateContainerResourceName: the API server would refuse every pod injected with it.
                  if (!resource.includes("/") && !CONTAINER_RESOURCES.includes(resource) && !resource.startsWith("hugepages-")) {
                    p(`${at}.resources.${side}.${resource}`, "is not a resource a container can have: the API server refuses all but cpu, memory, ephemeral-storage, hugepages-<size> and extended resources with a domain, such as example.com/gpu");
                  } else if (typeof q !== "string") p(`${at}.resources.${side}.${resource}`, `must be a quantity string like "500m" or "1" (quote it), got ${JSON.stringify(q)}`);
                }
            }
          }
        }
        if (prof.kernels !== undefined) {
          if (!isObject(prof.kernels)) p(`${at}.kernels`, "must be an object with min and/or max");
          else {
            unknownFields(prof.kernels, KERNEL_FIELDS, `${at}.kernels`, p);
            for (const f of KERNEL_FIELDS) {
              const v = prof.kernels[f];
              if (v !== undefined && (typeof v !== "string" || !KERNEL_VERSION.test(v))) p(`${at}.kernels.${f}`, `must be a kernel version like "6.1" or "6.1.146", got ${JSON.stringify(v)}`);
            }
          }
        }
      }
  }
  return out;
}

/** What the schema cannot express. These make a policy Accepted=False. */
export function semanticProblems(policy: HookpointPolicy, knownScripts?: readonly string[]): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const spec = policy.spec;
  const profiles = spec.profiles ?? {};
  if (spec.defaultProfile !== undefined && spec.defaultProfile !== BUILTIN_PROFILE && !(spec.defaultProfile in profiles)) {
    const names = Object.keys(profiles);
    out.push({ path: "spec.defaultProfile", message: `names profile "${spec.defaultProfile}", which is not defined (profiles: ${names.length ? names.join(", ") : "none"})` });
  }
  (spec.allowedImages ?? []).forEach((pattern, i) => {
    const problem = imagePatternProblem(pattern);
    if (problem) out.push({ path: `spec.allowedImages[${i}]`, message: `pattern "${pattern}" can never match: it ${problem}` });
  });
  // A script named twice is no problem: the CRD lets it through (scripts is no set), and it
  // runs once (the plan names each script once). Refusing it would drop a policy in force.
  if (knownScripts) {
    for (const [name, prof] of Object.entries(profiles)) {
      (prof.scripts ?? []).forEach((s, i) => {
        if (!knownScripts.includes(s)) out.push({ path: `spec.profiles.${name}.scripts[${i}]`, message: `unknown script "${s}"; available: ${[...knownScripts].sort().join(", ")}` });
      });
    }
  }
  for (const [name, prof] of Object.entries(profiles)) {
    // A least-privilege profile must be able to start the proxy and trace on every kernel it declares.
    if (prof.privileged !== false || prof.agent === false) continue;
    const range: KernelRange = {};
    const min = prof.kernels?.min ? parseKernelVersion(prof.kernels.min) : null;
    const max = prof.kernels?.max ? parseKernelVersion(prof.kernels.max) : null;
    if (min) range.min = min;
    if (max) range.max = max;
    if (min && max && compareKernel(min, max) > 0) {
      out.push({ path: `spec.profiles.${name}.kernels`, message: `min ${prof.kernels!.min} is above max ${prof.kernels!.max}` });
      continue;
    }
    const problem = leastPrivilegeProblem(prof.capabilities ?? LEAST_PRIVILEGE_CAPABILITIES, range);
    if (problem) out.push({ path: `spec.profiles.${name}.capabilities`, message: problem });
  }
  for (const [name, prof] of Object.entries(profiles)) out.push(...resourceProblems(`spec.profiles.${name}.resources`, prof.resources));
  // A Disabled policy (a kill switch) injects nothing, so no pod gets its profiles' env and no
  // agent reads it; refusing it for that env would make the switch govern nothing, and its pods be injected again.
  if (spec.mode !== "Disabled") {
    for (const [name, prof] of Object.entries(profiles)) for (const { e, i } of entriesPassed(prof.env)) out.push(...envProblems(`spec.profiles.${name}.env[${i}]`, e));
    for (const [name, prof] of Object.entries(profiles)) {
      for (const { e, i } of entriesPassed(prof.env)) {
        if (isObject(e.valueFrom) && isObject(e.valueFrom.fileKeyRef)) out.push({ path: `spec.profiles.${name}.env[${i}].valueFrom.fileKeyRef`, message: FILE_KEY_REF_REFUSED });
      }
    }
    for (const [name, prof] of Object.entries(profiles)) out.push(...agentEnvProblems(`spec.profiles.${name}`, prof));
  }
  for (const f of ["namespaceSelector", "podSelector", "allowPodOptIn"] as const) {
    (spec[f]?.matchExpressions ?? []).forEach((req, i) => {
      const needsValues = req.operator === "In" || req.operator === "NotIn";
      if (needsValues && (!req.values || req.values.length === 0)) out.push({ path: `spec.${f}.matchExpressions[${i}].values`, message: `must be non-empty for operator ${req.operator}` });
      if (!needsValues && req.values && req.values.length > 0) out.push({ path: `spec.${f}.matchExpressions[${i}].values`, message: `must be empty for operator ${req.operator}` });
    });
  }
  return out;
}

/**
 * The entries of a profile's env that reach the pod, with their indexes: of a name given
 * twice, the webhook writes the last alone (admission/mutate.ts setEnv), so an earlier one
 * can make no pod invalid.
 */
function entriesPassed(env: EnvVar[] | undefined): { e: EnvVar; i: number }[] {
  const list = env ?? [];
  const last = new Map(list.map((e, i) => [e.name, i]));
  return list.flatMap((e, i) => (last.get(e.name) === i ? [{ e, i }] : []));
}

/** Printable ASCII without "=": the API server's most relaxed rule for an env var's name. */
const ENV_NAME = /^[\x20-\x3c\x3e-\x7e]+$/;
/** Where an env var may take its value from (core/v1 EnvVarSource). */
const ENV_SOURCES = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef"] as const;
/** The sources every cluster takes: fileKeyRef needs the EnvFiles feature gate. */
const ENV_SOURCES_WITHOUT_GATE = ENV_SOURCES.filter((k) => k !== "fileKeyRef");
/**
 * Why a profile may not use fileKeyRef. Seen with kube-apiserver v1.34.4 (gate off, its
 * default): it drops fileKeyRef from the pod, then refuses the valueFrom left without a source
 * (422, `must specify one of: ...`). The webhook cannot know whether the gate is on (on the API
 * servers and on the node's kubelet), so it cannot be offered safely.
 */
const FILE_KEY_REF_REFUSED = "needs the EnvFiles feature gate (alpha in Kubernetes 1.34, off by default), which the webhook cannot check: an API server without it drops fileKeyRef and refuses every pod the profile injects, as its valueFrom is left with no source";

/**
 * An env var the API server would refuse in the pod (its ValidateEnv): every injected
 * pod would be refused, however failurePolicy is set, since the webhook answered.
 */
function envProblems(at: string, e: EnvVar): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  if (!ENV_NAME.test(e.name)) out.push({ path: `${at}.name`, message: `${JSON.stringify(e.name)} is not an environment variable name: printable ASCII characters other than "=" only` });
  if (!isObject(e.valueFrom)) return out;
  const sources = ENV_SOURCES.filter((k) => isObject((e.valueFrom as Record<string, unknown>)[k]));
  if (sources.length === 0) out.push({ path: `${at}.valueFrom`, message: `must specify one of: ${ENV_SOURCES_WITHOUT_GATE.slice(0, -1).join(", ")} or ${ENV_SOURCES_WITHOUT_GATE.at(-1)}` });
  else if (e.value !== undefined && e.value !== "") out.push({ path: `${at}.valueFrom`, message: "may not be specified when value is not empty" });
  else if (sources.length > 1) out.push({ path: `${at}.valueFrom`, message: `may not have more than one field specified at a time (has ${sources.join(", ")})` });
  return out;
}

/**
 * Agent settings the webhook writes into every injected proxy (admission/mutate.ts), and
 * how. A profile's env is applied after them, so it would win: the status annotation,
 * `explain` and the agent would then disagree on the profile or the scripts, the records
 * would leave the one writable volume, the port would no longer be the one the webhook
 * leaves out of Istio's capture.
 */
const SET_BY_WEBHOOK: Partial<Record<keyof AgentSettings, string>> = {
  profile: "to the profile's name, which the status annotation records: name the profile instead",
  scripts: `to the profile's scripts (or the pod's ${SCRIPTS_ANNOTATION} annotation), which the status annotation records: set the profile's scripts instead`,
  outputDir: `to ${AGENT_OUTPUT_DIR}, in the hookpoint-tmp volume: the container's one writable place, whose size the agent's output budget is cut to`,
  metricsPort: `to ${AGENT_METRICS_PORT}, the port it leaves out of Istio's inbound capture`,
  terminationGraceSeconds: `to the pod's own terminationGracePeriodSeconds (${MAX_TERMINATION_GRACE_SECONDS} at most): set that instead`,
};

/**
 * Settings the webhook passes as flags in the agent's command, which win over any env: the
 * agent never reads these variables, so, like a name it does not know, they change nothing
 * and pass (refusing them turned a policy that injected working pods Accepted=False on upgrade).
 */
const FLAGS_OF_WEBHOOK: ReadonlySet<keyof AgentSettings> = new Set(["proxyUid", "proxyGid"]);

const AGENT_STOPS = "the agent would exit on it before it starts the proxy, in every pod the profile injects";

/**
 * A profile's HOOKPOINT_* env as the agent will read it, judged by the agent's own parser:
 * a value it refuses stops it before it starts the proxy. Of a name given twice, only the last
 * entry reaches the agent (the kubelet's rule; mutate.ts writes that one alone), so only it is
 * judged. Each value alone first (named at its entry), then all of them together with the
 * scripts the webhook gives it (the output budget, which depends on several entries, must hold
 * every file of those scripts). A valueFrom, or a value holding $(NAME), is read or expanded
 * when the pod starts: nothing to judge here. A pod's scripts annotation can pick other
 * scripts: admission judges the container's final env again (admission/review.ts).
 */
function agentEnvProblems(at: string, prof: Profile): PolicyProblem[] {
  if (prof.agent === false) return [];
  const out: PolicyProblem[] = [];
  const scripts = [...new Set(prof.scripts ?? DEFAULT_SCRIPT_NAMES)];
  // As plan.ts and mutate.ts write it (the webhook's default scripts are DEFAULT_SCRIPT_NAMES,
  // cli/settings.ts); the agent reads "" (a profile with scripts: []) as its defaults.
  const base: Record<string, string> = { [SETTINGS.scripts.env]: scripts.join(",") };
  const env = { ...base };
  /** The entries whose values the agent gets: of a name given twice, the last. */
  const passed = new Set(entriesPassed(prof.env).map(({ i }) => i));
  /** Variable → the entry whose value `env` holds. */
  const judged = new Map<string, number>();
  const which = `${prof.scripts ? "the profile's scripts" : "the default scripts"} ${scripts.join(", ")}`;
  const refused = (path: string, problem: SettingsError) =>
    out.push({ path, message: `${problem.message}${problem instanceof OutputBudgetError ? `, with ${which}` : ""}: ${AGENT_STOPS}` });
  let each = true;
  (prof.env ?? []).forEach((e, i) => {
    if (!e.name.startsWith(AGENT_ENV_PREFIX) || !ENV_NAME.test(e.name)) return;
    const key = settingOfVariable(e.name);
    // A name the agent does not read is ignored by it: harmless, and perhaps a newer agent's.
    if (key === undefined || FLAGS_OF_WEBHOOK.has(key)) return;
    const set = SET_BY_WEBHOOK[key];
    if (set !== undefined) {
      out.push({ path: `${at}.env[${i}].name`, message: `${e.name} is set by the webhook, ${set}` });
      return;
    }
    if (!passed.has(i)) return;
    const value = valueKnownBeforeStart(e);
    if (value === undefined || value === "") return;
    const problem = agentSettingsProblem({}, { ...base, [e.name]: value });
    // The output budget depends on the other entries (a HOOKPOINT_KEEP_FILES of 0 lets a
    // small one hold every file): judged once, with all of them, below.
    if (problem && !(problem instanceof OutputBudgetError)) {
      each = false;
      refused(`${at}.env[${i}].value`, problem);
      return;
    }
    env[e.name] = value;
    judged.set(e.name, i);
  });
  if (!each) return out;
  const problem = agentSettingsProblem({}, env);
  if (problem) {
    const i = judged.get(problem.source);
    refused(i === undefined ? `${at}.env` : `${at}.env[${i}].value`, problem);
  }
  return out;
}

/** A profile's quantities must be ones the API server accepts, and its own requests must fit its limits. */
function resourceProblems(at: string, resources: ResourceRequirements | undefined): PolicyProblem[] {
  if (!resources) return [];
  const out: PolicyProblem[] = [];
  let readable = true;
  for (const side of ["limits", "requests"] as const) {
    for (const [resource, value] of Object.entries(resources[side] ?? {})) {
      try {
        if (parseQuantity(value).mantissa < 0n) out.push({ path: `${at}.${side}.${resource}`, message: `${JSON.stringify(value)} is negative` });
      } catch (e) {
        if (!(e instanceof QuantityError)) throw e;
        readable = false;
        out.push({ path: `${at}.${side}.${resource}`, message: `${JSON.stringify(value)} is not a quantity: ${e.message}` });
      }
    }
  }
  if (!readable || out.length > 0) return out;
  for (const [resource, request] of Object.entries(resources.requests ?? {})) {
    const limit = resources.limits?.[resource];
    // A request without a limit is checked against the container's limit at admission.
    if (limit === undefined) continue;
    const problem = requestLimitProblem(resource, request, limit);
    if (problem) out.push({ path: `${at}.requests.${resource}`, message: problem });
  }
  return out;
}

export function formatProblems(problems: readonly PolicyProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join("; ");
}

function unknownFields(obj: Obj, known: readonly string[], at: string, p: (path: string, message: string) => void): void {
  for (const k of Object.keys(obj)) if (!known.includes(k)) p(`${at}.${k}`, `unknown field (known: ${known.join(", ")})`);
}

function stringList(v: unknown, at: string, re: RegExp, what: string, p: (path: string, message: string) => void): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) return p(at, "must be a list");
  v.forEach((s, i) => {
    if (typeof s !== "string" || !re.test(s)) p(`${at}[${i}]`, `must be ${what}, got ${JSON.stringify(s)}`);
  });
}

function selector(v: unknown, at: string, p: (path: string, message: string) => void): void {
  if (!isObject(v)) return p(at, "must be a label selector object");
  unknownFields(v, SELECTOR_FIELDS, at, p);
  if (v.matchLabels !== undefined) {
    if (!isObject(v.matchLabels)) p(`${at}.matchLabels`, "must be a map of strings");
    else for (const [k, val] of Object.entries(v.matchLabels)) if (typeof val !== "string") p(`${at}.matchLabels.${k}`, "must be a string");
  }
  if (v.matchExpressions !== undefined) {
    if (!Array.isArray(v.matchExpressions)) return p(`${at}.matchExpressions`, "must be a list");
    v.matchExpressions.forEach((req, i) => {
      const rat = `${at}.matchExpressions[${i}]`;
      if (!isObject(req)) return p(rat, "must be an object");
      unknownFields(req, REQUIREMENT_FIELDS, rat, p);
      if (typeof req.key !== "string" || req.key === "") p(`${rat}.key`, "is required");
      if (!OPERATORS.includes(req.operator as string)) p(`${rat}.operator`, `must be one of ${OPERATORS.join(", ")}, got ${JSON.stringify(req.operator)}`);
      if (req.values !== undefined && (!Array.isArray(req.values) || req.values.some((x) => typeof x !== "string"))) p(`${rat}.values`, "must be a list of strings");
    });
  }
}
