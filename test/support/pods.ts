// Test helpers: fixture loading and a standard set of settings.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { Pod } from "../../src/admission/pod.js";
import type { Settings } from "../../src/policy/effective.js";
import { buildSnapshot, type Snapshot } from "../../src/policy/snapshot.js";
import type { HookpointPolicy, NamespaceInfo } from "../../src/policy/types.js";

export const fixtureUrl = (rel: string) => new URL(`../fixtures/${rel}`, import.meta.url);

export function loadYaml<T = Record<string, unknown>>(rel: string): T {
  return parse(readFileSync(fixtureUrl(rel), "utf8")) as T;
}

export const loadPod = (name: string): Pod => loadYaml<Pod>(`pods/${name}.yaml`);

export const SCRIPTS = ["envoy-event-loop", "envoy-filter-chain", "envoy-request-flow", "envoy-socket-io", "hookpoint-pairs"] as const;

export const settings: Settings = {
  defaultImage: "docker.io/hookpoint/proxyv2:1.24.2-hookpoint.0.1.0",
  defaultScripts: ["envoy-request-flow", "envoy-event-loop"],
  knownScripts: SCRIPTS,
  webhookNamespace: "hookpoint-system",
  version: "0.1.0",
};

export function snapshot(namespaces: Record<string, Record<string, string>>, policies: HookpointPolicy[] = []): Snapshot {
  const ns: NamespaceInfo[] = Object.entries(namespaces).map(([name, labels]) => ({ name, labels }));
  return buildSnapshot(ns, policies, settings);
}

export function policy(name: string, spec: HookpointPolicy["spec"]): HookpointPolicy {
  return { apiVersion: "hookpoint.dev/v1alpha1", kind: "HookpointPolicy", metadata: { name }, spec };
}
