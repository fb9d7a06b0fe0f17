// What the agent needs from the bundled scripts (src/scripts/): the shapes of the catalog
// and renderer, written structurally so the agent can be built and tested with small
// inputs of its own. The CLI edge passes the real functions in.
import type { SymbolTable } from "./elf/symbols.js";

export interface MapInfo {
  /** bpftrace map name, with its `@`. */
  name: string;
  unit: "ns" | "us" | "bytes" | "count" | "events";
  meaning: string;
  kind: "hist" | "count" | "sum" | "avg" | "stats" | "value";
  /** Names of the key's components (metric label names); absent or empty for a scalar map. */
  keys?: string[];
}

export interface ScriptInfo {
  name: string;
  purpose: string;
  requires: string[];
  maps: MapInfo[];
  minBpftrace: string;
  default: boolean;
}

export interface Script {
  header: ScriptInfo;
  source: string;
  file: string | null;
}

export type CheckResult = { ok: true } | { ok: false; reason: "stripped" | "missing-symbol"; missing: string[]; message: string };

export interface RenderOptions {
  binary: string;
  pid: number;
  table: SymbolTable;
  byAddress: boolean;
  intervalSeconds?: number;
}

/** The script half, injected into the agent. */
export interface ScriptSource {
  loadCatalog(dir?: string): Promise<Script[]>;
  checkScript(script: Script, table: SymbolTable): CheckResult;
  renderScript(script: Script, opts: RenderOptions): string;
  generatePairsScript(table: SymbolTable): Script | null;
  defaultScriptNames: readonly string[];
}
