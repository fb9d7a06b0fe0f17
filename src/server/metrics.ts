// The webhook's Prometheus metrics, on a registry passed in (never the global
// one, so tests and several apps in one process do not collide). Labels come
// from closed sets (outcome, DecidedBy, Reason), so cardinality stays bounded.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { AnswerLabels } from "./answer.js";

export interface ServerMetrics {
  readonly registry: Registry;
  /** One admission answered (or refused as invalid). */
  request(labels: AnswerLabels, dryRun: boolean, seconds: number): void;
  /** An internal error answered by failing open. */
  error(): void;
  tlsReload(result: "success" | "failure"): void;
  certificateExpiry(notAfter: Date): void;
  connectionLimit(max: number): void;
  connectionOpened(): void;
  connectionClosed(): void;
  /** A connection refused because the limit was reached. */
  connectionRefused(): void;
}

export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export function createServerMetrics(registry: Registry): ServerMetrics {
  const requests = new Counter({
    name: "hookpoint_admission_requests_total",
    help: "Admission requests answered, by outcome, deciding rule and reason",
    labelNames: ["outcome", "decided_by", "reason", "dry_run"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "hookpoint_admission_duration_seconds",
    help: "Time from receiving an admission request to its answer",
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: "hookpoint_admission_errors_total",
    help: "Admission requests that hit an internal error and were allowed unchanged (fail open)",
    registers: [registry],
  });
  const expiry = new Gauge({
    name: "hookpoint_tls_certificate_expiry_timestamp_seconds",
    help: "notAfter of the serving certificate in use, in seconds since the epoch",
    registers: [registry],
  });
  const reloads = new Counter({
    name: "hookpoint_tls_reloads_total",
    help: "Serving certificate (re)loads, by result; on failure the previous pair stays in use",
    labelNames: ["result"] as const,
    registers: [registry],
  });

  const open = new Gauge({
    name: "hookpoint_connections_open",
    help: "TCP connections to the webhook open now (keep-alive ones included)",
    registers: [registry],
  });
  const limit = new Gauge({
    name: "hookpoint_connections_limit",
    help: "Open connections accepted at most; more are refused (--max-connections)",
    registers: [registry],
  });
  const refused = new Counter({
    name: "hookpoint_connections_refused_total",
    help: "Connections refused because hookpoint_connections_limit were open",
    registers: [registry],
  });

  // Both results exist from the start, so a rate() over them works before the first failure.
  reloads.labels("success").inc(0);
  reloads.labels("failure").inc(0);
  errors.inc(0);

  // Children cached by label values: prom-client would otherwise hash the label object on every request.
  const children = new Map<string, { inc(): void }>();
  return {
    registry,
    request(labels, dryRun, seconds) {
      const key = `${labels.outcome}|${labels.decidedBy}|${labels.reason}|${dryRun}`;
      let child = children.get(key);
      if (!child) {
        child = requests.labels(labels.outcome, labels.decidedBy, labels.reason, String(dryRun));
        children.set(key, child);
      }
      child.inc();
      duration.observe(seconds);
    },
    error: () => errors.inc(),
    tlsReload: (result) => reloads.labels(result).inc(),
    certificateExpiry: (notAfter) => expiry.set(Math.floor(notAfter.getTime() / 1000)),
    connectionLimit: (max) => limit.set(max),
    connectionOpened: () => open.inc(),
    connectionClosed: () => open.dec(),
    connectionRefused: () => refused.inc(),
  };
}
