// Shared by the server tests: an app on a fixed snapshot, a log that can be
// read back, and AdmissionReview bodies built around the pod fixtures.
import { Writable } from "node:stream";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { Pod } from "../../../src/admission/pod.js";
import type { Snapshot } from "../../../src/policy/snapshot.js";
import type { SnapshotSource } from "../../../src/policy/source.js";
import { buildApp, type WebhookApp } from "../../../src/server/app.js";
import type { Lifecycle } from "../../../src/server/lifecycle.js";
import type { WarningSink } from "../../../src/server/review-log.js";
import { createServerMetrics, type ServerMetrics } from "../../../src/server/metrics.js";
import { TlsState, type ServingPair } from "../../../src/server/tls-state.js";
import { settings, snapshot } from "../../support/pods.js";

/** Namespaces of the standard test snapshot. */
export const NAMESPACES: Record<string, Record<string, string>> = {
  bookinfo: { "hookpoint.dev/inject": "enabled" },
  plain: {},
  vetoed: { "hookpoint.dev/inject": "disabled" },
};

export function staticSource(snap: Snapshot, opts: { synced?: boolean; fail?: boolean } = {}): SnapshotSource {
  return {
    current() {
      if (opts.fail) throw new Error("snapshot unavailable (test)");
      return snap;
    },
    synced: () => opts.synced ?? true,
    start: async () => {},
    stop: async () => {},
    describe: () => "static test snapshot",
  };
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino destination that parses each JSON line into `logs`. */
export function jsonLogSink(): { logs: LogLine[]; sink: Writable } {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  return { logs, sink };
}

export interface Harness {
  app: WebhookApp;
  metrics: ServerMetrics;
  tls: TlsState;
  logs: LogLine[];
}

export function harness(
  opts: { source?: SnapshotSource; pair?: ServingPair; bodyLimit?: number; failOnLog?: string; lifecycle?: Lifecycle; events?: WarningSink } = {},
): Harness {
  const { logs, sink } = jsonLogSink();
  const failOnLog = opts.failOnLog;
  // failOnLog: a log call with that message throws, to test failures outside the review itself.
  const hooks = failOnLog
    ? {
        logMethod(this: unknown, args: Parameters<pino.LogFn>, method: pino.LogFn) {
          if (args.includes(failOnLog)) throw new Error(`logging "${failOnLog}" failed (test)`);
          return method.apply(this, args);
        },
      }
    : {};
  const logger = pino({ level: "info", hooks }, sink);
  const metrics = createServerMetrics(new Registry());
  const tls = new TlsState(opts.pair);
  const app = buildApp({
    source: opts.source ?? staticSource(snapshot(NAMESPACES)),
    settings,
    logger,
    metrics,
    tls,
    ...(opts.bodyLimit ? { bodyLimit: opts.bodyLimit } : {}),
    ...(opts.lifecycle ? { lifecycle: opts.lifecycle } : {}),
    ...(opts.events ? { events: opts.events } : {}),
  });
  return { app, metrics, tls, logs };
}

export interface ReviewOptions {
  uid?: string;
  namespace?: string;
  apiVersion?: string;
  operation?: string;
  dryRun?: boolean;
  kind?: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
}

/** An AdmissionReview the way the API server sends a Pod CREATE (no metadata.namespace on the object). */
export function podReview(pod: Pod | unknown, o: ReviewOptions = {}): Record<string, unknown> {
  const obj = pod as Pod;
  const request: Record<string, unknown> = {
    uid: o.uid ?? "705ab4f5-6393-11e8-b7cc-42010a800002",
    kind: o.kind ?? { group: "", version: "v1", kind: "Pod" },
    resource: o.resource ?? { group: "", version: "v1", resource: "pods" },
    requestKind: { group: "", version: "v1", kind: "Pod" },
    requestResource: { group: "", version: "v1", resource: "pods" },
    name: obj?.metadata?.name ?? "",
    namespace: o.namespace ?? "bookinfo",
    operation: o.operation ?? "CREATE",
    userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller", uid: "3b0ae4c6", groups: ["system:serviceaccounts", "system:authenticated"] },
    object: pod,
    oldObject: null,
    dryRun: o.dryRun ?? false,
    options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
  };
  if (o.subResource) request.subResource = o.subResource;
  return { apiVersion: o.apiVersion ?? "admission.k8s.io/v1", kind: "AdmissionReview", request };
}

/** The pod as the API server has it at CREATE: no namespace in the object yet. */
export function atCreate(pod: Pod): Pod {
  const { namespace: _ns, ...metadata } = pod.metadata ?? {};
  return { ...pod, metadata };
}

export const decodePatch = (b64: string): unknown => JSON.parse(Buffer.from(b64, "base64").toString("utf8"));
