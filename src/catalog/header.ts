// The machine-readable header of a bundled bpftrace script: a YAML document inside the
// block comment that opens the file, so bpftrace itself skips it:
//
//   /* hookpoint
//   name: envoy-event-loop
//   purpose: ...
//   */
//
// Pure: text in, header (or an error naming the file, line and field) out.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Document } from "yaml";

export const MAP_UNITS = ["ns", "us", "bytes", "count", "events"] as const;
export const MAP_KINDS = ["hist", "count", "sum", "avg", "stats", "value"] as const;

export interface ScriptMapInfo {
  /** bpftrace map name, with its `@`. */
  name: string;
  unit: (typeof MAP_UNITS)[number];
  meaning: string;
  kind: (typeof MAP_KINDS)[number];
  /**
   * The Prometheus name, without the `hookpoint_` prefix and without the unit or `_total`
   * suffix the agent adds (`pairs_duration` → `hookpoint_pairs_duration_seconds`).
   */
  metric: string;
  /** What each component of the map's key is (label names for metrics); empty for a map without a key. */
  keys?: string[];
}

/**
 * One kind of line a per-event script prints for sampled events (`printf` in a probe):
 * the line is its tag and then one space-separated word per field.
 */
export interface ScriptEventInfo {
  /** The line's first word, e.g. "Q". */
  tag: string;
  fields: string[];
  meaning: string;
}

export interface ScriptHeader {
  name: string;
  /** One line. */
  purpose: string;
  /**
   * What the binary or kernel must provide. An ELF symbol (mangled name, `*` globs allowed;
   * `A | B` means either) or a kernel probe (`tracepoint:...`), which the symbol check skips.
   */
  requires: string[];
  maps: ScriptMapInfo[];
  minBpftrace: string;
  /** Run when a pod does not name its scripts. */
  default: boolean;
  /**
   * The event lines the script prints (only scripts that print per sampled event have
   * them; the agent parses the lines by these declarations).
   */
  events?: ScriptEventInfo[];
  /**
   * Optional probes rendered only when another script runs beside this one: script name →
   * the uprobe symbols (or globs, as the program writes them) that belong to it.
   */
  with?: Record<string, string[]>;
}

export const HEADER_OPEN = "/* hookpoint";
export const HEADER_CLOSE = "*/";

/** A problem in a script file, with where it is. */
export class ScriptFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly problem: string,
  ) {
    super(`${file}${line === null ? "" : `:${line}`}: ${problem}`);
    this.name = "ScriptFileError";
  }
}

export interface ParsedScriptFile {
  header: ScriptHeader;
  /** The program after the header comment (starts with the newline that ends the comment line). */
  body: string;
  /** 1-based file line of the body's first character (the newline that ends the closing line). */
  bodyLine: number;
}

const NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAP_NAME_RE = /^@[A-Za-z][A-Za-z0-9_]*$/;
const KEY_RE = /^[a-z][a-z0-9_]*$/;
const VERSION_RE = /^\d+\.\d+(\.\d+)?$/;
const TAG_RE = /^[A-Za-z][A-Za-z0-9_]*$/;
const HEADER_FIELDS = ["name", "purpose", "requires", "maps", "events", "with", "minBpftrace", "default"];
const MAP_FIELDS = ["name", "kind", "unit", "metric", "meaning", "keys"];
const EVENT_FIELDS = ["tag", "fields", "meaning"];
const METRIC_RE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
/** Suffixes the agent adds itself (or that Prometheus reserves for histogram parts). */
const METRIC_SUFFIX_RE = /_(seconds|ns|us|bytes|total|count|sum|bucket)$/;

/** Splits a script file into its header and program; throws ScriptFileError. */
export function parseScriptFile(text: string, file: string): ParsedScriptFile {
  const lines = text.split("\n");
  if (lines[0]?.trimEnd() !== HEADER_OPEN) {
    throw new ScriptFileError(file, 1, `expected the header comment to open the file with a line "${HEADER_OPEN}"`);
  }
  const close = lines.findIndex((l, i) => i > 0 && l.trimEnd() === HEADER_CLOSE);
  if (close < 0) {
    throw new ScriptFileError(file, 1, `header comment is not closed: expected a line "${HEADER_CLOSE}"`);
  }
  const yamlText = lines.slice(1, close).join("\n");
  const inner = lines.slice(1, close).findIndex((l) => l.includes("*/"));
  if (inner >= 0) throw new ScriptFileError(file, inner + 2, `"*/" inside the header would end the comment early`);
  const header = parseHeaderYaml(yamlText, file, 1);
  const bodyStart = lines.slice(0, close + 1).join("\n").length;
  return { header, body: text.slice(bodyStart), bodyLine: close + 1 };
}

/** Parses the YAML between the header markers; `lineOffset` is the file line before its first line. */
export function parseHeaderYaml(yamlText: string, file: string, lineOffset: number): ScriptHeader {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line + lineOffset;
  const firstError = doc.errors[0];
  if (firstError) {
    throw new ScriptFileError(file, lineOf(firstError.pos[0]), `header is not valid YAML: ${firstError.message.split("\n")[0]}`);
  }
  const v = new Validator(doc, file, lineOf);
  return v.header();
}

type Path = (string | number)[];

class Validator {
  constructor(
    private readonly doc: Document,
    private readonly file: string,
    private readonly lineOf: (offset: number) => number,
  ) {}

  header(): ScriptHeader {
    const root = this.doc.contents;
    if (!isMap(root)) this.fail([], "header must be a YAML mapping (name, purpose, requires, maps, minBpftrace, default)");
    this.noUnknownKeys([], HEADER_FIELDS);
    const name = this.string(["name"]);
    if (!NAME_RE.test(name)) this.fail(["name"], `"${name}" is not a script name (lower-case words joined by "-")`);
    const purpose = this.string(["purpose"]);
    if (purpose.includes("\n")) this.fail(["purpose"], "must be one line");
    const requires = this.stringList(["requires"], false);
    requires.forEach((r, i) => this.requirement(["requires", i], r));
    const mapCount = this.listLength(["maps"]);
    if (mapCount === 0) this.fail(["maps"], "must list at least one map");
    const maps: ScriptMapInfo[] = [];
    for (let i = 0; i < mapCount; i++) maps.push(this.map(["maps", i]));
    const seen = new Set<string>();
    const metrics = new Set<string>();
    maps.forEach((m, i) => {
      if (seen.has(m.name)) this.fail(["maps", i, "name"], `${m.name} is listed twice`);
      if (metrics.has(m.metric)) this.fail(["maps", i, "metric"], `${m.metric} is used by two maps`);
      seen.add(m.name);
      metrics.add(m.metric);
    });
    const minNode = this.doc.getIn(["minBpftrace"], true);
    if (isScalar(minNode) && typeof minNode.value === "number") {
      this.fail(["minBpftrace"], `write the version as a quoted string, e.g. "0.17" (a bare ${String(minNode.source ?? minNode.value)} is a number)`);
    }
    const minBpftrace = this.string(["minBpftrace"]);
    if (!VERSION_RE.test(minBpftrace)) this.fail(["minBpftrace"], `"${minBpftrace}" is not a version like "0.17" or "0.20.1"`);
    const def = this.doc.getIn(["default"]);
    if (typeof def !== "boolean") this.fail(["default"], "must be true or false");
    const header: ScriptHeader = { name, purpose, requires, maps, minBpftrace, default: def };
    if (this.doc.hasIn(["events"])) header.events = this.events();
    if (this.doc.hasIn(["with"])) header.with = this.with(name);
    return header;
  }

  private with(self: string): Record<string, string[]> {
    const node = this.doc.getIn(["with"], true);
    if (!isMap(node) || node.items.length === 0) this.fail(["with"], "must map script names to the probes that run only beside them");
    const out: Record<string, string[]> = {};
    for (const pair of node.items) {
      const script = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!NAME_RE.test(script) || script === self) this.fail(["with", script], `"${script}" is not another script's name`);
      const symbols = this.stringList(["with", script], false);
      symbols.forEach((sym, i) => this.requirement(["with", script, i], sym));
      out[script] = symbols;
    }
    return out;
  }

  private events(): ScriptEventInfo[] {
    const n = this.listLength(["events"]);
    if (n === 0) this.fail(["events"], "must list at least one event line (or leave the field out)");
    const out: ScriptEventInfo[] = [];
    for (let i = 0; i < n; i++) {
      const path = ["events", i];
      if (!isMap(this.doc.getIn(path, true))) this.fail(path, "each event must be a mapping with tag, fields, meaning");
      this.noUnknownKeys(path, EVENT_FIELDS);
      const tag = this.string([...path, "tag"]);
      if (!TAG_RE.test(tag)) this.fail([...path, "tag"], `"${tag}" is not an event tag (a letter, then letters, digits or "_")`);
      if (out.some((e) => e.tag === tag)) this.fail([...path, "tag"], `event tag "${tag}" is listed twice`);
      const fields = this.stringList([...path, "fields"], false);
      if (fields.length === 0) this.fail([...path, "fields"], "must name at least one field");
      fields.forEach((f, j) => {
        if (!KEY_RE.test(f)) this.fail([...path, "fields", j], `"${f}" is not a field name (lower_snake_case)`);
        if (fields.indexOf(f) !== j) this.fail([...path, "fields", j], `field "${f}" is listed twice`);
      });
      out.push({ tag, fields, meaning: this.string([...path, "meaning"]) });
    }
    return out;
  }

  private map(path: Path): ScriptMapInfo {
    if (!isMap(this.doc.getIn(path, true))) this.fail(path, "each map must be a mapping with name, kind, unit, metric, meaning");
    this.noUnknownKeys(path, MAP_FIELDS);
    const name = this.string([...path, "name"]);
    if (!MAP_NAME_RE.test(name)) this.fail([...path, "name"], `"${name}" is not a bpftrace map name like "@latency_ns"`);
    const kind = this.oneOf([...path, "kind"], MAP_KINDS);
    const unit = this.oneOf([...path, "unit"], MAP_UNITS);
    const metric = this.string([...path, "metric"]);
    if (!METRIC_RE.test(metric)) this.fail([...path, "metric"], `"${metric}" is not a metric name (lower_snake_case)`);
    if (metric.startsWith("hookpoint")) this.fail([...path, "metric"], `"${metric}": leave out the prefix; the agent adds "hookpoint_"`);
    if (metric.startsWith("agent")) this.fail([...path, "metric"], `"${metric}": hookpoint_agent_* are the agent's own series`);
    if (METRIC_SUFFIX_RE.test(metric)) this.fail([...path, "metric"], `"${metric}": leave out the unit or type suffix; the agent adds it from unit and kind`);
    const meaning = this.string([...path, "meaning"]);
    const keys = this.doc.hasIn([...path, "keys"]) ? this.stringList([...path, "keys"], true) : [];
    keys.forEach((k, i) => {
      if (!KEY_RE.test(k)) this.fail([...path, "keys", i], `"${k}" is not a key name (lower_snake_case)`);
    });
    return { name, kind, unit, metric, meaning, keys };
  }

  private requirement(path: Path, r: string): void {
    if (/^(cpp|uprobe|uretprobe):/.test(r)) {
      this.fail(path, `"${r}": list the ELF symbol itself (mangled name or glob), without a probe type`);
    }
    for (const alt of alternatives(r)) {
      if (alt === "" || /\s/.test(alt)) this.fail(path, `"${r}" is not a symbol, glob, or "A | B" alternatives`);
    }
  }

  private oneOf<T extends string>(path: Path, allowed: readonly T[]): T {
    const value = this.string(path);
    if (!(allowed as readonly string[]).includes(value)) {
      this.fail(path, `expected one of ${allowed.join(", ")}, got "${value}"`);
    }
    return value as T;
  }

  private string(path: Path): string {
    if (!this.doc.hasIn(path)) this.fail(path, "is missing", true);
    const value = this.doc.getIn(path);
    if (typeof value !== "string" || value.trim() === "") this.fail(path, "must be a non-empty string");
    return value.trim();
  }

  private listLength(path: Path): number {
    if (!this.doc.hasIn(path)) this.fail(path, "is missing", true);
    const node = this.doc.getIn(path, true);
    if (!isSeq(node)) this.fail(path, "must be a list");
    return node.items.length;
  }

  private stringList(path: Path, allowEmptyMissing: boolean): string[] {
    if (!this.doc.hasIn(path) && allowEmptyMissing) return [];
    const n = this.listLength(path);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string([...path, i]));
    return out;
  }

  private noUnknownKeys(path: Path, known: string[]): void {
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!known.includes(key)) {
        this.fail([...path, key], `unknown field "${key}" (expected ${known.join(", ")})`, false);
      }
    }
  }

  /** Throws with the line of the field (or of its parent when the field is missing). */
  private fail(path: Path, problem: string, missing = false): never {
    const where = path.length === 0 ? "header" : `header: ${formatPath(path)}`;
    throw new ScriptFileError(this.file, this.lineFor(missing ? path.slice(0, -1) : path), `${where}: ${problem}`);
  }

  private lineFor(path: Path): number | null {
    let node: unknown = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    if (node === undefined && path.length > 0) {
      // A key whose value is missing: point at the key.
      const parent = this.doc.getIn(path.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
        node = pair?.key;
      }
    }
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range ? this.lineOf(range[0]) : null;
  }
}

/** The alternatives of a requirement (`A | B` → [A, B]). */
export function alternatives(r: string): string[] {
  return r.split("|").map((s) => s.trim());
}

function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** The header as the comment that opens a script file (parseScriptFile reads it back). */
export function formatHeaderComment(header: ScriptHeader): string {
  const doc = {
    name: header.name,
    purpose: header.purpose,
    requires: header.requires,
    maps: header.maps.map((m) => ({ name: m.name, kind: m.kind, unit: m.unit, metric: m.metric, ...(m.keys && m.keys.length > 0 ? { keys: m.keys } : {}), meaning: m.meaning })),
    ...(header.events ? { events: header.events.map((e) => ({ tag: e.tag, fields: e.fields, meaning: e.meaning })) } : {}),
    ...(header.with ? { with: header.with } : {}),
    minBpftrace: header.minBpftrace,
    default: header.default,
  };
  const yaml = stringify(doc, { lineWidth: 0, defaultStringType: "PLAIN", defaultKeyType: "PLAIN" });
  return `${HEADER_OPEN}\n${yaml}${HEADER_CLOSE}\n`;
}
