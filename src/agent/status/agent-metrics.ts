// The agent's own Prometheus series (prom-client), read from its status on each scrape.
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { AgentStatus } from "./types.js";

export function agentRegistry(status: () => AgentStatus): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "hookpoint_agent_" });
  new Gauge({
    name: "hookpoint_agent_envoy_pid",
    help: "pid of the traced Envoy (0 while none is found)",
    registers: [registry],
    collect() {
      this.set(status().envoy?.pid ?? 0);
    },
  });
  new Gauge({
    name: "hookpoint_agent_preflight_ok",
    help: "1 when the preflight check passed",
    labelNames: ["check"],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().preflight) this.set({ check: c.name }, c.ok ? 1 : 0);
    },
  });
  // Read from the status on each scrape; monotonic ones are counters, set through reset + inc.
  const perScript = (name: string, help: string, pick: (s: AgentStatus["scripts"][number]) => number, type: "gauge" | "counter" = "gauge"): void => {
    const config = {
      name,
      help,
      labelNames: ["script"] as const,
      registers: [registry],
      collect(this: Gauge<"script"> | Counter<"script">) {
        this.reset();
        for (const s of status().scripts) {
          if (this instanceof Gauge) this.set({ script: s.name }, pick(s));
          else this.inc({ script: s.name }, pick(s));
        }
      },
    };
    if (type === "gauge") new Gauge(config);
    else new Counter(config);
  };
  perScript("hookpoint_agent_script_up", "1 while the script's probes are attached", (s) => (s.state === "running" ? 1 : 0));
  perScript("hookpoint_agent_script_restarts", "bpftrace restarts of the script since the agent started", (s) => s.restarts);
  perScript("hookpoint_agent_script_attach_seconds", "time from bpftrace start to all probes attached", (s) => (s.attachMs ?? 0) / 1000);
  perScript("hookpoint_agent_script_records", "map records written for the script", (s) => s.records);
  perScript("hookpoint_agent_script_lost_events", "events bpftrace reported lost", (s) => s.lostEvents);
  perScript("hookpoint_agent_script_records_dropped_total", "map records not written because the output directory was full or unwritable", (s) => s.recordsDropped, "counter");
  perScript("hookpoint_agent_script_write_errors_total", "failed writes of the script's NDJSON file", (s) => s.writeErrors, "counter");
  perScript("hookpoint_agent_script_helper_errors_total", "helper calls in the script's program that bpftrace reported failed", (s) => s.helperErrors, "counter");
  new Counter({
    name: "hookpoint_agent_script_lost_map_updates_total",
    help: "map updates bpftrace reported failed, by the script's map and key (empty when not a literal) and the family it feeds (metric; empty for the script's own state)",
    labelNames: ["script", "map", "key", "metric", "reason"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of status().scripts) for (const u of s.lostUpdates) this.inc({ script: s.name, map: u.map, key: u.key ?? "", metric: u.metric ?? "", reason: u.reason }, u.count);
    },
  });
  traceSeries(registry, status);
  return registry;
}

/** envoy-request-trace's counters (from /status: they add up over the agent's life). */
function traceSeries(registry: Registry, status: () => AgentStatus): void {
  const byLabel = (name: string, help: string, label: string, pick: (t: NonNullable<AgentStatus["trace"]>) => Record<string, number>): void => {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        const t = status().trace;
        if (t) for (const [k, v] of Object.entries(pick(t))) this.inc({ [label]: k }, v);
      },
    });
  };
  byLabel("hookpoint_agent_trace_events_total", "envoy-request-trace event lines read, by event tag", "event", (t) => t.events);
  byLabel("hookpoint_agent_trace_events_unattributed_total", "event lines that belonged to no traced request (late, or their request's start was lost), by event tag", "event", (t) => t.unattributed);
  byLabel("hookpoint_agent_trace_requests_total", "traced requests by outcome: recorded, or dropped (aborted, timeout, incomplete, invalid, overflow, rate_capped, unfinished, lost)", "outcome", (t) => t.requests);
  new Counter({
    name: "hookpoint_agent_trace_lines_unparsable_total",
    help: "printed lines of envoy-request-trace that were not a declared event",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(status().trace?.unparsable ?? 0);
    },
  });
  new Gauge({
    name: "hookpoint_agent_trace_pending_requests",
    help: "traced requests held while their events come in",
    registers: [registry],
    collect() {
      this.set(status().trace?.pending ?? 0);
    },
  });
}
