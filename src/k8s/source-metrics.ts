// Prometheus metrics of the cluster snapshot source, on a registry passed in.
// Labels come from closed sets (the two watched resources, true/false).
import { Counter, Gauge, type Registry } from "prom-client";

export type WatchedResource = "namespaces" | "hookpointpolicies";
const WATCHED_RESOURCES: readonly WatchedResource[] = ["namespaces", "hookpointpolicies"];

export interface SourceMetrics {
  connected(resource: WatchedResource, up: boolean): void;
  restarted(resource: WatchedResource): void;
  policies(accepted: number, rejected: number): void;
  /** Called at scrape time: seconds since the snapshot was last known to match the API server. */
  ageFrom(read: () => number): void;
}

export function createSourceMetrics(registry: Registry): SourceMetrics {
  const connected = new Gauge({
    name: "hookpoint_source_connected",
    help: "1 while the list+watch of a resource is established, 0 while it is failing (the last snapshot stays in force)",
    labelNames: ["resource"] as const,
    registers: [registry],
  });
  const restarts = new Counter({
    name: "hookpoint_source_restarts_total",
    help: "Restarts of a resource's list+watch after an error, a stalled watch or a watch closing in a loop",
    labelNames: ["resource"] as const,
    registers: [registry],
  });
  const policies = new Gauge({
    name: "hookpoint_policies",
    help: "HookpointPolicies seen, by whether their current version is accepted (an unaccepted one keeps its last accepted version in force, if any)",
    labelNames: ["accepted"] as const,
    registers: [registry],
  });
  let readAge: () => number = () => 0;
  new Gauge({
    name: "hookpoint_snapshot_age_seconds",
    help: "Seconds since the decision snapshot was last known to match the API server: 0 while every watch is established",
    registers: [registry],
    collect() {
      this.set(readAge());
    },
  });

  // Every series exists from the start, so alerts and rate() work before the first event.
  for (const r of WATCHED_RESOURCES) {
    connected.labels(r).set(0);
    restarts.labels(r).inc(0);
  }
  policies.labels("true").set(0);
  policies.labels("false").set(0);

  return {
    connected: (resource, up) => connected.labels(resource).set(up ? 1 : 0),
    restarted: (resource) => restarts.labels(resource).inc(),
    policies(accepted, rejected) {
      policies.labels("true").set(accepted);
      policies.labels("false").set(rejected);
    },
    ageFrom(read) {
      readAge = read;
    },
  };
}
