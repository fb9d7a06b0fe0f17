// Helpers for the deploy/ tests: reading manifests, rendering overlays with the
// kustomize that scripts/setup/15-kustomize.sh builds, validating objects
// against the Kubernetes schemas (kubernetes-models) and HookpointPolicies
// against the CRD's own openAPIV3Schema (ajv) and CEL rules (@bufbuild/cel).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";
import { run } from "@bufbuild/cel";
import { Ajv, type ValidateFunction } from "ajv";
import { MutatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";

export const ROOT = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");
export const DEPLOY = join(ROOT, "deploy");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

/** Every *.yaml under deploy/, relative to the repository root, sorted. */
export function manifestFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".yaml") || name.endsWith(".yml")) out.push(relative(ROOT, p));
    }
  };
  walk(DEPLOY);
  return out;
}

/** Parses a multi-document YAML text; throws with the source name and the parser's position on a syntax error. */
export function parseDocs(text: string, source: string): unknown[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join("; ")}`);
      return doc.toJS() as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

export function readDocs(file: string): unknown[] {
  return parseDocs(readFileSync(join(ROOT, file), "utf8"), file);
}

export function kustomizeVersion(): string {
  const script = readFileSync(join(ROOT, "scripts/setup/15-kustomize.sh"), "utf8");
  const m = /^version=(v[0-9.]+)$/m.exec(script);
  if (!m?.[1]) throw new Error("scripts/setup/15-kustomize.sh names no version=vX.Y.Z");
  return m[1];
}

/** The kustomize binary built by the setup step, or undefined when it has not been built on this machine. */
export function kustomizeBinary(): string | undefined {
  const cache = process.env.HOOKPOINT_CACHE || join(homedir(), ".cache", "hookpoint");
  const bin = join(cache, "kustomize", kustomizeVersion(), "kustomize");
  return existsSync(bin) ? bin : undefined;
}

export const KUSTOMIZE_MISSING = "kustomize is not built on this machine: run scripts/setup/15-kustomize.sh (npm test does)";

/** `kustomize build DIR`: the rendered objects. */
export function kustomizeBuild(bin: string, dir: string): K8sObject[] {
  const out = execFileSync(bin, ["build", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  return parseDocs(out, `kustomize build ${relative(ROOT, dir) || dir}`) as K8sObject[];
}

const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  "v1/Namespace": Namespace,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/Deployment": Deployment,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "admissionregistration.k8s.io/v1/MutatingWebhookConfiguration": MutatingWebhookConfiguration,
  "apiextensions.k8s.io/v1/CustomResourceDefinition": CustomResourceDefinition,
};

/** Validates a built-in object against the Kubernetes OpenAPI schema; throws naming the object on failure. */
export function validateBuiltin(obj: K8sObject): void {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) throw new Error(`no Kubernetes schema for ${obj.apiVersion} ${obj.kind} (add it to MODELS)`);
  try {
    new Model(obj as never).validate();
  } catch (err) {
    throw new Error(`${obj.kind} ${obj.metadata.name}: ${(err as Error).message}`);
  }
}

export function isBuiltin(obj: K8sObject): boolean {
  return `${obj.apiVersion}/${obj.kind}` in MODELS;
}

// ---- CRD schema (structural OpenAPI v3 subset) ----

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  required?: string[];
  default?: unknown;
  "x-kubernetes-validations"?: { rule: string; message?: string }[];
  [k: string]: unknown;
}

export function loadCrd(): K8sObject {
  const [crd] = readDocs("deploy/crd/hookpointpolicies.hookpoint.dev.yaml") as K8sObject[];
  if (!crd) throw new Error("deploy/crd/hookpointpolicies.hookpoint.dev.yaml holds no document");
  return crd;
}

export function crdSchema(crd = loadCrd()): JsonSchema {
  const version = (crd.spec.versions as { name: string; schema: { openAPIV3Schema: JsonSchema } }[]).find((v) => v.name === "v1alpha1");
  if (!version) throw new Error("the CRD has no v1alpha1 version");
  return version.schema.openAPIV3Schema;
}

/** ajv for the structural schema subset: x-kubernetes-* are annotations here, Kubernetes' formats are checked. */
export function crdValidator(schema: JsonSchema, opts: { useDefaults: boolean }): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, useDefaults: opts.useDefaults, strict: true });
  for (const keyword of [
    "x-kubernetes-validations",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-int-or-string",
    "x-kubernetes-embedded-resource",
  ]) {
    ajv.addKeyword({ keyword, schemaType: ["array", "boolean", "string"] });
  }
  ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  return ajv.compile(schema);
}

/** JSON → CEL input: objects become maps (so has() and `in` test keys, as for Kubernetes objects). */
export function toCel(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toCel);
  if (v !== null && typeof v === "object") return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return v;
}

/** Evaluates a CEL expression; throws unless it yields a boolean (an evaluation error is not false). */
export function celBool(expression: string, bindings: Record<string, unknown>): boolean {
  const input = Object.fromEntries(Object.entries(bindings).map(([k, v]) => [k, toCel(v)]));
  const out = run(expression, input as never);
  if (typeof out !== "boolean") throw new Error(`CEL ${JSON.stringify(expression)} did not yield a boolean: ${String(out)}`);
  return out;
}

/** Every x-kubernetes-validations rule of `schema` evaluated on `data` (self = the node); the failed ones' messages with paths. */
export function celRuleFailures(schema: JsonSchema, data: unknown, path = ""): string[] {
  if (data === undefined) return [];
  const out: string[] = [];
  for (const rule of schema["x-kubernetes-validations"] ?? []) {
    if (!celBool(rule.rule, { self: data })) out.push(`${path || "."}: ${rule.message ?? rule.rule}`);
  }
  if (data !== null && typeof data === "object" && !Array.isArray(data)) {
    const obj = data as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
      if (sub) out.push(...celRuleFailures(sub, v, `${path}.${k}`));
    }
  }
  if (Array.isArray(data) && schema.items) {
    const items = schema.items;
    data.forEach((v, i) => out.push(...celRuleFailures(items, v, `${path}[${i}]`)));
  }
  return out;
}

// ---- label selectors, for the webhook configuration's namespace and object selectors ----

export interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label selector semantics (an absent selector matches everything, as in webhook configurations). */
export function selectorMatches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key] ?? "");
    const ok = { In: inValues, NotIn: !inValues, Exists: has, DoesNotExist: !has }[e.operator];
    if (ok === undefined) throw new Error(`unknown selector operator ${e.operator}`);
    if (!ok) return false;
  }
  return true;
}

/** Fields the schema does not declare (the API server rejects them under kubectl's default strict field validation). */
export function unknownFields(schema: JsonSchema, data: unknown, path = ""): string[] {
  if (data === null || typeof data !== "object" || schema["x-kubernetes-preserve-unknown-fields"] === true) return [];
  if (Array.isArray(data)) return schema.items ? data.flatMap((v, i) => unknownFields(schema.items as JsonSchema, v, `${path}[${i}]`)) : [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
    if (!sub) out.push(`${path}.${k}`);
    else if (path === "" && k === "metadata") continue; // ObjectMeta is validated by the API server itself
    else out.push(...unknownFields(sub, v, `${path}.${k}`));
  }
  return out;
}
