// Helpers of the cluster-source tests: a logger that records, bounded polling,
// and the decision a standard pod gets from a snapshot.
import type { Pod } from "../../../src/admission/pod.js";
import { reviewPod } from "../../../src/admission/review.js";
import type { SourceLogger } from "../../../src/k8s/logger.js";
import type { Snapshot } from "../../../src/policy/snapshot.js";
import { loadPod, settings } from "../../support/pods.js";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields: Record<string, unknown>;
}

export class RecordingLogger implements SourceLogger {
  readonly lines: LogLine[] = [];
  debug(obj: object, msg: string): void {
    this.lines.push({ level: "debug", msg, fields: { ...obj } });
  }
  info(obj: object, msg: string): void {
    this.lines.push({ level: "info", msg, fields: { ...obj } });
  }
  warn(obj: object, msg: string): void {
    this.lines.push({ level: "warn", msg, fields: { ...obj } });
  }
  error(obj: object, msg: string): void {
    this.lines.push({ level: "error", msg, fields: { ...obj } });
  }
  find(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }
}

/** Poll until `check` returns a value other than undefined/false; fail after `timeoutMs` (a bound, not a measurement). */
export async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const basePod = loadPod("classic-sidecar");

/** The decision for the Istio pod of the fixtures, created in `namespace`, with extra labels/annotations. */
export function decision(snapshot: Snapshot, namespace: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}) {
  const pod: Pod = structuredClone(basePod);
  pod.metadata = { ...pod.metadata, labels: { ...pod.metadata?.labels, ...extra.labels }, annotations: { ...pod.metadata?.annotations, ...extra.annotations } };
  const r = reviewPod(pod, namespace, snapshot, settings);
  return { inject: r.decision.inject, decidedBy: r.decision.decidedBy, reason: r.decision.reason, policy: r.decision.policy, image: r.status?.image, scripts: r.status?.scripts };
}

/** The value of one series of a prom-client registry, or undefined if it does not exist. */
export async function metricValue(registry: import("prom-client").Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const all = await registry.getMetricsAsJSON();
  const metric = all.find((m) => m.name === name);
  const series = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  const hit = series.find((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val));
  return hit?.value;
}
