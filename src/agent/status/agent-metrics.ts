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
  const perScript = (name: string, help: string, pick: (s: AgentStatus["scripts"][number]) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ["script"],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of status().scripts) this.set({ script: s.name }, pick(s));
      },
    });
  };
  perScript("hookpoint_agent_script_up", "1 while the script's probes are attached", (s) => (s.state === "running" ? 1 : 0));
  perScript("hookpoint_agent_script_restarts", "bpftrace restarts of the script since the agent started", (s) => s.restarts);
  perScript("hookpoint_agent_script_attach_seconds", "time from bpftrace start to all probes attached", (s) => (s.attachMs ?? 0) / 1000);
  perScript("hookpoint_agent_script_records", "map records written for the script", (s) => s.records);
  perScript("hookpoint_agent_script_lost_events", "events bpftrace reported lost", (s) => s.lostEvents);
  // Monotonic, read from the status: set through reset + inc so they are typed counters.
  const perScriptCounter = (name: string, help: string, pick: (s: AgentStatus["scripts"][number]) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ["script"],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of status().scripts) this.inc({ script: s.name }, pick(s));
      },
    });
  };
  perScriptCounter("hookpoint_agent_script_records_dropped_total", "map records not written because the output directory was full or unwritable", (s) => s.recordsDropped);
  perScriptCounter("hookpoint_agent_script_write_errors_total", "failed writes of the script's NDJSON file", (s) => s.writeErrors);
  return registry;
}
