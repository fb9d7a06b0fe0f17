// What several benches share: fixed settings, the example decision inputs, and
// reading a process's CPU time.
import { readFileSync } from "node:fs";
import { loadSettings } from "../src/cli/settings.js";
import type { Settings } from "../src/policy/effective.js";
import { FileSnapshotSource } from "../src/policy/file-source.js";

/** Fixed settings for the in-process benches (bench:core, bench:policy). */
export const settings: Settings = {
  defaultImage: "docker.io/hookpoint/proxyv2:1.24.2-hookpoint",
  defaultScripts: ["envoy-request-flow", "envoy-event-loop"],
  knownScripts: ["envoy-event-loop", "envoy-filter-chain", "envoy-request-flow", "envoy-socket-io", "hookpoint-pairs"],
  webhookNamespace: "hookpoint-system",
  version: "bench",
};

/** The webhook's settings and a source (not started) over examples/policy.yaml and examples/namespaces.yaml. */
export async function exampleSource(): Promise<{ settings: Settings; source: FileSnapshotSource }> {
  const settings = await loadSettings({ webhookNamespace: "hookpoint-system" });
  const examples = new URL("../examples/", import.meta.url);
  const source = new FileSnapshotSource({
    policyFile: new URL("policy.yaml", examples).pathname,
    namespacesFile: new URL("namespaces.yaml", examples).pathname,
    settings,
  });
  return { settings, source };
}

/** /proc/<pid>/stat from field 3 (state) on: the command name before it is in parentheses and may hold spaces. */
export function statFields(pid: number | "self"): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** utime + stime of a process in clock ticks (/proc/<pid>/stat fields 14 and 15). */
export function cpuTicks(pid: number): number {
  const fields = statFields(pid);
  return Number(fields[11]) + Number(fields[12]);
}

/** `xs` starting at its `turn`-th item (modulo its length): servers that take turns go first in rotation, so drift on the shared machine hits all alike. */
export function rotated<T>(xs: readonly T[], turn: number): T[] {
  const k = turn % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
