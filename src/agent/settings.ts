// The agent's settings: command-line flags over HOOKPOINT_* environment (set by the
// webhook) over defaults. Pure; a bad value is an error naming the flag or variable.
import { AGENT_METRICS_PORT, AGENT_OUTPUT_DIR, PROXY_GID, PROXY_UID } from "../names.js";
import {
  DEFAULT_INTERVAL_SECONDS,
  DEFAULT_KEEP_FILES,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_SCRIPT_NAMES,
  DEFAULT_TRACE_RATE,
  DEFAULT_TRACE_SAMPLE,
  MAX_OUTPUT_BYTES,
  MAX_PROXY_ID,
  MAX_TERMINATION_GRACE_SECONDS,
  MAX_TRACE_SETTING,
  MIN_FILE_BYTES,
  REQUEST_TRACE_SCRIPT,
} from "../defaults.js";

export interface AgentSettings {
  /** Script names to run; null = the bundled defaults. */
  scripts: string[] | null;
  outputDir: string;
  /** "" = every address, IPv6 and IPv4 ("::"; 0.0.0.0 where the kernel has no IPv6), decided at the CLI edge. */
  metricsHost: string;
  /** 0 = any free port (tests). */
  metricsPort: number;
  proxyUid: number;
  proxyGid: number;
  profile: string | null;
  intervalSeconds: number;
  envoyNames: string[];
  bpftrace: string;
  scriptsDir: string | null;
  maxFileBytes: number;
  keepFiles: number;
  /** All NDJSON files together stay under this: the per-file cap shrinks to fit the scripts. */
  maxOutputBytes: number;
  stopGraceMs: number;
  terminationGraceSeconds: number;
  reaper: "auto" | "tini" | "none";
  logLevel: string;
  /** Serve the records read-only on the metrics port (`/records`). */
  recordsEndpoint: boolean;
  recordsMaxBytes: number;
  recordsConcurrency: number;
  /** envoy-request-trace: trace 1 request in N (1 = all). */
  traceSample: number;
  /** envoy-request-trace: at most N traced requests per second. */
  traceRate: number;
}

/** Flag values as commander gives them (strings), keyed like the AgentSettings fields. */
export type AgentFlags = Partial<Record<keyof AgentSettings, string>>;
/** HOOKPOINT_* variables, by name. */
type Env = Readonly<Record<string, string | undefined>>;

export class SettingsError extends Error {
  override name = "SettingsError";
  /** What the message names first: the flag, the variable or "default of <flag>" whose value is refused. */
  readonly source: string;
  constructor(source: string, detail: string) {
    super(`${source}: ${detail}`);
    this.source = source;
  }
}

/** The output budget cannot hold every file of the scripts: it depends on which scripts run. */
export class OutputBudgetError extends SettingsError {
  override name = "OutputBudgetError";
}

interface Field {
  env: string;
  flag: string;
  def: string;
}

/** Every setting: its flag, its variable and its default (the README lists the same). */
export const SETTINGS: Record<keyof AgentSettings, Field> = {
  scripts: { env: "HOOKPOINT_SCRIPTS", flag: "--scripts", def: "" },
  outputDir: { env: "HOOKPOINT_OUTPUT_DIR", flag: "--output", def: AGENT_OUTPUT_DIR },
  metricsHost: { env: "HOOKPOINT_METRICS_HOST", flag: "--metrics-host", def: "" },
  metricsPort: { env: "HOOKPOINT_METRICS_PORT", flag: "--metrics-port", def: String(AGENT_METRICS_PORT) },
  proxyUid: { env: "HOOKPOINT_PROXY_UID", flag: "--proxy-uid", def: String(PROXY_UID) },
  proxyGid: { env: "HOOKPOINT_PROXY_GID", flag: "--proxy-gid", def: String(PROXY_GID) },
  profile: { env: "HOOKPOINT_PROFILE", flag: "--profile", def: "" },
  intervalSeconds: { env: "HOOKPOINT_INTERVAL_SECONDS", flag: "--interval", def: String(DEFAULT_INTERVAL_SECONDS) },
  envoyNames: { env: "HOOKPOINT_ENVOY_NAMES", flag: "--envoy-names", def: "envoy,cilium-envoy" },
  bpftrace: { env: "HOOKPOINT_BPFTRACE", flag: "--bpftrace", def: "bpftrace" },
  scriptsDir: { env: "HOOKPOINT_SCRIPTS_DIR", flag: "--scripts-dir", def: "" },
  maxFileBytes: { env: "HOOKPOINT_MAX_FILE_BYTES", flag: "--max-file-bytes", def: String(DEFAULT_MAX_FILE_BYTES) },
  keepFiles: { env: "HOOKPOINT_KEEP_FILES", flag: "--keep-files", def: String(DEFAULT_KEEP_FILES) },
  maxOutputBytes: { env: "HOOKPOINT_MAX_OUTPUT_BYTES", flag: "--max-output-bytes", def: String(MAX_OUTPUT_BYTES) },
  stopGraceMs: { env: "HOOKPOINT_STOP_GRACE_MS", flag: "--stop-grace-ms", def: "5000" },
  terminationGraceSeconds: { env: "HOOKPOINT_TERMINATION_GRACE_SECONDS", flag: "--termination-grace-seconds", def: "30" },
  reaper: { env: "HOOKPOINT_REAPER", flag: "--reaper", def: "auto" },
  logLevel: { env: "HOOKPOINT_LOG_LEVEL", flag: "--log-level", def: "info" },
  recordsEndpoint: { env: "HOOKPOINT_RECORDS_ENDPOINT", flag: "--records-endpoint", def: "on" },
  recordsMaxBytes: { env: "HOOKPOINT_RECORDS_MAX_BYTES", flag: "--records-max-bytes", def: String(8 * 1024 * 1024) },
  recordsConcurrency: { env: "HOOKPOINT_RECORDS_CONCURRENCY", flag: "--records-concurrency", def: "2" },
  traceSample: { env: "HOOKPOINT_TRACE_SAMPLE", flag: "--trace-sample", def: String(DEFAULT_TRACE_SAMPLE) },
  traceRate: { env: "HOOKPOINT_TRACE_RATE", flag: "--trace-rate", def: String(DEFAULT_TRACE_RATE) },
};

/** The prefix of every variable the agent reads (src/config.ts passes it those only). */
export const AGENT_ENV_PREFIX = "HOOKPOINT_";

/** The setting a variable sets, or undefined for a name the agent does not read. */
export function settingOfVariable(name: string): keyof AgentSettings | undefined {
  return (Object.keys(SETTINGS) as (keyof AgentSettings)[]).find((k) => SETTINGS[k].env === name);
}

/**
 * What the agent would stop on, before it starts the proxy, given these flags and this
 * environment; undefined when it would start. Its own parsing, so that policy validation and
 * admission judge the env they hand it exactly as it will.
 */
export function agentSettingsProblem(flags: AgentFlags, env: Env): SettingsError | undefined {
  try {
    resolveAgentSettings(flags, env);
    return undefined;
  } catch (err) {
    if (err instanceof SettingsError) return err;
    throw err;
  }
}

/**
 * The value an env entry gives the agent, as far as it is known before the pod starts:
 * undefined for a valueFrom, or a value holding $(NAME), which the kubelet expands then.
 */
export function valueKnownBeforeStart(e: { value?: unknown }): string | undefined {
  return typeof e.value === "string" && !e.value.includes("$(") ? e.value : undefined;
}

/** The NDJSON files the agent writes besides their rotated ones: one per script, one more for envoy-request-trace's request records. */
export function outputFiles(scripts: readonly string[]): number {
  return scripts.length + (scripts.includes(REQUEST_TRACE_SCRIPT) ? 1 : 0);
}

/** The size each NDJSON file is rotated at: --max-file-bytes, or less, so that all files with their rotated ones stay under --max-output-bytes. */
export function fileBytesOf(s: Pick<AgentSettings, "scripts" | "maxFileBytes" | "keepFiles" | "maxOutputBytes">): number {
  return Math.min(s.maxFileBytes, Math.floor(s.maxOutputBytes / (outputFiles(s.scripts ?? DEFAULT_SCRIPT_NAMES) * (s.keepFiles + 1))));
}

// Module-level, not closures of resolveAgentSettings: admission runs it for every pod it injects.
const DEFAULT_OF = Object.fromEntries(Object.entries(SETTINGS).map(([k, f]) => [k, `default of ${f.flag}`])) as Record<keyof AgentSettings, string>;

function pick(flags: AgentFlags, env: Env, k: keyof AgentSettings): { value: string; from: string } {
  const f = SETTINGS[k];
  const flag = flags[k];
  if (flag !== undefined) return { value: flag, from: f.flag };
  const e = env[f.env];
  if (e !== undefined && e !== "") return { value: e, from: f.env };
  return { value: f.def, from: DEFAULT_OF[k] };
}

function int(flags: AgentFlags, env: Env, k: keyof AgentSettings, min: number, max: number): number {
  const { value, from } = pick(flags, env, k);
  const n = Number(value.trim());
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new SettingsError(from, `expected an integer from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

function list(flags: AgentFlags, env: Env, k: keyof AgentSettings): string[] {
  return pick(flags, env, k)
    .value.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

export function resolveAgentSettings(flags: AgentFlags, env: Env): AgentSettings {
  // A name given twice runs once: two runners of one script would share its file, its
  // interval totals and its status entry, and the first would never be stopped.
  const scripts = [...new Set(list(flags, env, "scripts"))];
  for (const s of scripts) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(s)) throw new SettingsError(pick(flags, env, "scripts").from, `"${s}" is not a script name (lowercase letters, digits and dashes)`);
  }
  const reaper = pick(flags, env, "reaper");
  if (!["auto", "tini", "none"].includes(reaper.value)) {
    throw new SettingsError(reaper.from, `expected auto, tini or none, got "${reaper.value}"`);
  }
  const level = pick(flags, env, "logLevel");
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(level.value)) {
    throw new SettingsError(level.from, `expected fatal, error, warn, info, debug, trace or silent, got "${level.value}"`);
  }
  const records = pick(flags, env, "recordsEndpoint");
  if (!["on", "off"].includes(records.value)) throw new SettingsError(records.from, `expected on or off, got "${records.value}"`);
  const outputDir = pick(flags, env, "outputDir").value;
  if (!outputDir.startsWith("/")) throw new SettingsError(pick(flags, env, "outputDir").from, `expected an absolute path, got "${outputDir}"`);
  const names = list(flags, env, "envoyNames");
  if (names.length === 0) throw new SettingsError(pick(flags, env, "envoyNames").from, "expected at least one Envoy binary name");
  const settings: AgentSettings = {
    scripts: scripts.length ? scripts : null,
    outputDir,
    metricsHost: pick(flags, env, "metricsHost").value,
    metricsPort: int(flags, env, "metricsPort", 0, 65535),
    proxyUid: int(flags, env, "proxyUid", 0, MAX_PROXY_ID),
    proxyGid: int(flags, env, "proxyGid", 0, MAX_PROXY_ID),
    profile: pick(flags, env, "profile").value || null,
    intervalSeconds: int(flags, env, "intervalSeconds", 1, 3600),
    envoyNames: names,
    bpftrace: pick(flags, env, "bpftrace").value,
    scriptsDir: pick(flags, env, "scriptsDir").value || null,
    maxFileBytes: int(flags, env, "maxFileBytes", MIN_FILE_BYTES, 2 ** 40),
    keepFiles: int(flags, env, "keepFiles", 0, 100),
    maxOutputBytes: int(flags, env, "maxOutputBytes", MIN_FILE_BYTES, 2 ** 40),
    stopGraceMs: int(flags, env, "stopGraceMs", 0, 600_000),
    terminationGraceSeconds: int(flags, env, "terminationGraceSeconds", 0, MAX_TERMINATION_GRACE_SECONDS),
    reaper: reaper.value as AgentSettings["reaper"],
    logLevel: level.value,
    recordsEndpoint: records.value === "on",
    recordsMaxBytes: int(flags, env, "recordsMaxBytes", 64 * 1024, 1024 * 1024 * 1024),
    recordsConcurrency: int(flags, env, "recordsConcurrency", 1, 64),
    traceSample: int(flags, env, "traceSample", 1, MAX_TRACE_SETTING),
    traceRate: int(flags, env, "traceRate", 1, MAX_TRACE_SETTING),
  };
  // The budget is shared out at start; a file is never cut below MIN_FILE_BYTES, so a budget
  // too small for every file would be overrun, not kept.
  if (fileBytesOf(settings) < MIN_FILE_BYTES) {
    const files = outputFiles(settings.scripts ?? DEFAULT_SCRIPT_NAMES);
    const least = files * (settings.keepFiles + 1) * MIN_FILE_BYTES;
    throw new OutputBudgetError(
      pick(flags, env, "maxOutputBytes").from,
      `${settings.maxOutputBytes} is too small: ${files} output file${files === 1 ? "" : "s"} with ${settings.keepFiles} rotated ${settings.keepFiles === 1 ? "one" : "ones"} each need at least ${least} (${files * (settings.keepFiles + 1)} files of ${MIN_FILE_BYTES} bytes)`,
    );
  }
  return settings;
}
