// RBAC is exactly the least set: the base grants listing and watching
// namespaces and policies (informers), updating policy status, reading the policies' CRD (by
// name: is it installed?), reading and patching its own webhook
// configuration (by name: caBundle and routing) and writing Events (warnings on
// pods' owners); the self-managed overlay adds its Secret, by name.
import { describe, expect, it } from "vitest";
import { find, render, type Target } from "./render.js";
import type { K8sObject } from "./support.js";

const BASE_RULES = [
  { apiGroups: [""], resources: ["namespaces"], verbs: ["list", "watch"] },
  { apiGroups: ["hookpoint.dev"], resources: ["hookpointpolicies"], verbs: ["list", "watch"] },
  { apiGroups: ["hookpoint.dev"], resources: ["hookpointpolicies/status"], verbs: ["update"] },
  { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], resourceNames: ["hookpointpolicies.hookpoint.dev"], verbs: ["get"] },
  { apiGroups: ["admissionregistration.k8s.io"], resources: ["mutatingwebhookconfigurations"], resourceNames: ["zz-hookpoint"], verbs: ["get", "patch"] },
  { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
];

const SUBJECTS = [{ kind: "ServiceAccount", name: "hookpoint-webhook", namespace: "hookpoint-system" }];

function sorted<T>(xs: T[]): T[] {
  return [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** Every (role, rule) granted to the webhook's ServiceAccount, through any binding. */
function grants(objs: K8sObject[]): { role: string; rule: unknown }[] {
  const out: { role: string; rule: unknown }[] = [];
  for (const b of objs.filter((o) => o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding")) {
    expect(b.subjects, `${b.kind} ${b.metadata.name}`).toEqual(SUBJECTS);
    const ns = b.kind === "RoleBinding" ? b.metadata.namespace : undefined;
    const role = find(objs, b.roleRef.kind as string, b.roleRef.name as string);
    if (b.roleRef.kind === "Role") expect(role.metadata.namespace).toBe(ns);
    for (const rule of role.rules as unknown[]) out.push({ role: `${b.roleRef.kind} ${ns ? `${ns}/` : ""}${b.roleRef.name}`, rule });
  }
  return out;
}

describe.each(["base", "cert-manager", "cluster-wide-cert-manager"] as const)("RBAC of %s", (target: Target) => {
  it("is exactly: namespaces and hookpointpolicies list/watch, hookpointpolicies/status update, get of the HookpointPolicy CRD, zz-hookpoint get/patch, events create/patch", (ctx) => {
    const objs = render(ctx, target);
    expect(sorted(grants(objs))).toEqual(sorted(BASE_RULES.map((rule) => ({ role: "ClusterRole hookpoint-webhook", rule }))));
    expect(objs.filter((o) => /Role/.test(o.kind)).map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([
      "ClusterRole hookpoint-webhook",
      "ClusterRoleBinding hookpoint-webhook",
    ]);
  });
});

describe.each(["self-managed", "cluster-wide"] as const)("RBAC of %s", (target: Target) => {
  it("adds only get/update of its one Secret, by name (never create)", (ctx) => {
    expect(sorted(grants(render(ctx, target)))).toEqual(sorted([
      ...BASE_RULES.map((rule) => ({ role: "ClusterRole hookpoint-webhook", rule })),
      {
        role: "Role hookpoint-system/hookpoint-webhook-certs",
        rule: { apiGroups: [""], resources: ["secrets"], resourceNames: ["hookpoint-webhook-tls"], verbs: ["get", "update"] },
      },
    ]));
  });
});
