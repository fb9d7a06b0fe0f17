// `hookpoint agent [options] -- <command> [args...]`: the proxy container's entrypoint.
// Options and settings here; the agent itself (agent-run.ts) loads only when it runs.
import type { Command } from "commander";
import { hookpointEnv } from "../config.js";
import { SETTINGS, SettingsError, resolveAgentSettings, type AgentFlags, type AgentSettings } from "../agent/settings.js";
import { DEFAULT_SCRIPT_NAMES } from "../defaults.js";

const FLAG_HELP: Partial<Record<keyof AgentSettings, [string, string]>> = {
  scripts: ["<names>", "comma list of bundled scripts"],
  outputDir: ["<dir>", "directory for NDJSON records"],
  metricsPort: ["<port>", "port of /metrics and /status (0: any free port)"],
  metricsHost: ["<address>", "address of /metrics and /status"],
  proxyUid: ["<uid>", "uid the command runs as"],
  proxyGid: ["<gid>", "gid the command runs as"],
  profile: ["<name>", "profile name (shown in /status and logs)"],
  intervalSeconds: ["<seconds>", "how often scripts print their maps and the agent logs a summary"],
  envoyNames: ["<names>", "comma list of Envoy binary names (basename or full path) to trace"],
  bpftrace: ["<path>", "bpftrace executable"],
  scriptsDir: ["<dir>", "directory of bpftrace scripts instead of the bundled ones"],
  maxFileBytes: ["<bytes>", "size at which an NDJSON file is rotated"],
  keepFiles: ["<n>", "rotated NDJSON files kept per script"],
  maxOutputBytes: ["<bytes>", "all NDJSON files together stay under this (the file size shrinks to fit)"],
  stopGraceMs: ["<ms>", "time bpftrace gets to print its maps after SIGINT before SIGKILL, or what is left of the pod's grace period (up to 60 s) once it is terminating when that is longer (also the one-shot pid probe's, to exit)"],
  terminationGraceSeconds: ["<seconds>", "the pod's terminationGracePeriodSeconds (0 or 1 counts as 2, the least the kubelet gives): after SIGTERM, tracing stops in time for its final dump"],
  reaper: ["<mode>", "auto (tini when PID 1), tini or none"],
  logLevel: ["<level>", "fatal, error, warn, info, debug, trace or silent"],
  recordsEndpoint: ["<on|off>", "serve the records read-only on the metrics port (/records)"],
  recordsMaxBytes: ["<bytes>", "largest answer of one records download"],
  recordsConcurrency: ["<n>", "records requests served at once (429 beyond)"],
  traceSample: ["<n>", "envoy-request-trace: trace 1 request in n (1: all)"],
  traceRate: ["<n>", "envoy-request-trace: at most n traced requests per second"],
};

export function register(program: Command): void {
  const cmd = program
    .command("agent")
    .description("Start the proxy command, find its Envoy and trace it with the bundled bpftrace scripts")
    .usage("[options] -- <command> [args...]")
    .argument("<command...>", "the proxy's entrypoint and its arguments, after --");
  for (const [key, [arg, help]] of Object.entries(FLAG_HELP) as [keyof AgentSettings, [string, string]][]) {
    const s = SETTINGS[key];
    const def = key === "scripts" ? DEFAULT_SCRIPT_NAMES.join(",") : key === "scriptsDir" ? "the bundled bpf/" : key === "metricsHost" ? ":: (IPv6 and IPv4; 0.0.0.0 without IPv6)" : s.def || "none";
    cmd.option(`${s.flag} ${arg}`, `${help} [env ${s.env}; default ${def}]`);
  }
  cmd.action(async (argv: string[], opts: Record<string, string>) => {
    const flags: AgentFlags = {};
    for (const key of Object.keys(FLAG_HELP) as (keyof AgentSettings)[]) {
      const attr = SETTINGS[key].flag.replace(/^--/, "").replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
      if (opts[attr] !== undefined) flags[key] = opts[attr];
    }
    let settings: AgentSettings;
    try {
      settings = resolveAgentSettings(flags, hookpointEnv());
    } catch (err) {
      if (err instanceof SettingsError) {
        process.stderr.write(`hookpoint agent: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    const { runAgent } = await import("./agent-run.js");
    await runAgent(settings, argv);
  });
}
