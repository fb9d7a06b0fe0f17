// Whether a HookpointPolicy read from the cluster may govern pods, and the
// `Accepted` condition the webhook reports in its status. Pure: no I/O.
//
// An invalid version never governs: the last accepted version of the same
// policy stays in force, or none if no valid version is known. The condition
// depends only on the object itself (never on what this replica remembers), so
// two replicas always compute the same status and never overwrite each other.
import type { HookpointPolicy, HookpointPolicySpec, PolicyCondition } from "../policy/types.js";
import { API_GROUP, API_VERSION, POLICY_KIND } from "../policy/types.js";
import { formatProblems, semanticProblems, structuralProblems, type PolicyProblem } from "../policy/validate.js";

export const ACCEPTED_CONDITION = "Accepted";
export const REASON_VALID = "Valid";
export const REASON_INVALID = "Invalid";
export const VALID_MESSAGE = "The policy is valid and in force.";

/**
 * The status hookpoint writes. `acceptedGeneration`/`acceptedSpec` record the
 * last valid spec so that a restarted replica keeps the same version in force
 * as its peers; an API server whose CRD schema lacks them prunes them, which
 * only loses that memory across restarts.
 */
export interface PolicyStatus {
  conditions?: PolicyCondition[];
  acceptedGeneration?: number;
  acceptedSpec?: HookpointPolicySpec;
  [other: string]: unknown;
}

export type ClusterPolicy = Omit<HookpointPolicy, "status"> & { status?: PolicyStatus };

/** A condition without its timestamp: what decides whether status must be written. */
export interface ConditionCore {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration?: number;
}

export type InForce = "this" | "previous" | "none";

export interface PolicyVerdict {
  name: string;
  generation: number | undefined;
  /** Empty when this version is valid. */
  problems: PolicyProblem[];
  /** Which version governs pods: this one, the last accepted one, or none. */
  inForce: InForce;
  /** The version that governs, when there is one. */
  policy: HookpointPolicy | undefined;
  condition: ConditionCore;
}

/** An object from the API server, with apiVersion/kind filled in (watch events of lists may lack them) and a spec. */
export function normalizePolicy(obj: unknown): ClusterPolicy {
  const o = (typeof obj === "object" && obj !== null ? obj : {}) as Partial<ClusterPolicy>;
  return {
    ...o,
    apiVersion: o.apiVersion ?? `${API_GROUP}/${API_VERSION}`,
    kind: o.kind ?? POLICY_KIND,
    metadata: o.metadata ?? { name: "" },
    spec: o.spec ?? {},
  } as ClusterPolicy;
}

/** Every problem of a policy: structure first (a belt behind the CRD schema), then semantics. */
function policyProblems(policy: ClusterPolicy, knownScripts: readonly string[]): PolicyProblem[] {
  const structural = structuralProblems(policy);
  if (structural.length > 0) return structural;
  return semanticProblems(policy as HookpointPolicy, knownScripts);
}

/**
 * Judge one version of a policy. `lastAccepted` is the version this process
 * accepted before; without one, a valid spec recorded in the status is used.
 */
export function judgePolicy(obj: unknown, knownScripts: readonly string[], lastAccepted?: HookpointPolicy): PolicyVerdict {
  const policy = normalizePolicy(obj);
  const name = policy.metadata.name;
  const generation = policy.metadata.generation;
  const problems = policyProblems(policy, knownScripts);
  if (problems.length === 0) {
    const { status: _status, ...rest } = policy;
    const accepted = rest as HookpointPolicy;
    return { name, generation, problems, inForce: "this", policy: accepted, condition: validCondition(generation) };
  }
  const previous = lastAccepted ?? recordedAcceptedVersion(policy, knownScripts);
  return {
    name,
    generation,
    problems,
    inForce: previous ? "previous" : "none",
    policy: previous,
    condition: invalidCondition(problems, generation),
  };
}

/** The last accepted spec recorded in status, if it is still valid for this hookpoint. */
function recordedAcceptedVersion(policy: ClusterPolicy, knownScripts: readonly string[]): HookpointPolicy | undefined {
  const spec = policy.status?.acceptedSpec;
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) return undefined;
  const { status: _status, ...rest } = policy;
  const generation = policy.status?.acceptedGeneration;
  const candidate: ClusterPolicy = {
    ...rest,
    metadata: { ...policy.metadata, ...(typeof generation === "number" ? { generation } : {}) },
    spec,
  };
  return policyProblems(candidate, knownScripts).length === 0 ? (candidate as HookpointPolicy) : undefined;
}

function validCondition(generation: number | undefined): ConditionCore {
  const c: ConditionCore = { type: ACCEPTED_CONDITION, status: "True", reason: REASON_VALID, message: VALID_MESSAGE };
  if (generation !== undefined) c.observedGeneration = generation;
  return c;
}

/** Longer messages are cut at a problem boundary (the CRD allows 32 KiB; kubectl output stays readable). */
const MAX_MESSAGE = 4_096;

function invalidCondition(problems: readonly PolicyProblem[], generation: number | undefined): ConditionCore {
  let shown = problems.length;
  let message = formatProblems(problems);
  while (message.length > MAX_MESSAGE && shown > 1) {
    shown -= 1;
    message = `${formatProblems(problems.slice(0, shown))}; and ${problems.length - shown} more`;
  }
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE - 1)}…`;
  const c: ConditionCore = { type: ACCEPTED_CONDITION, status: "False", reason: REASON_INVALID, message };
  if (generation !== undefined) c.observedGeneration = generation;
  return c;
}

/** Kubernetes condition timestamps are RFC 3339 with whole seconds. */
function conditionTime(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, "Z");
}

/**
 * The status to write for a verdict (its Accepted condition and any `extra`
 * ones, such as Routed), or undefined when the object's status already says the
 * same (status, reason, message, observedGeneration) for each of them.
 * lastTransitionTime changes only when a condition's status flips; other
 * conditions and fields of the status are kept.
 */
export function statusUpdate(obj: ClusterPolicy, verdict: PolicyVerdict, now: Date, extra: readonly ConditionCore[] = []): PolicyStatus | undefined {
  const current = obj.status ?? {};
  let conditions = Array.isArray(current.conditions) ? current.conditions : [];
  let changed = false;
  for (const want of [verdict.condition, ...extra]) {
    const existing = conditions.find((c) => c?.type === want.type);
    if (
      existing &&
      existing.status === want.status &&
      existing.reason === want.reason &&
      existing.message === want.message &&
      existing.observedGeneration === want.observedGeneration
    ) {
      continue;
    }
    changed = true;
    const condition: PolicyCondition = {
      ...want,
      lastTransitionTime: existing && existing.status === want.status && existing.lastTransitionTime ? existing.lastTransitionTime : conditionTime(now),
    };
    conditions = existing ? conditions.map((c) => (c === existing ? condition : c)) : [...conditions, condition];
  }
  if (!changed) return undefined;
  const next: PolicyStatus = { ...current, conditions };
  if (verdict.inForce === "this") {
    const { generation } = obj.metadata;
    if (generation !== undefined) next.acceptedGeneration = generation;
    else delete next.acceptedGeneration;
    next.acceptedSpec = obj.spec;
  }
  return next;
}
