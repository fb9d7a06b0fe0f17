// Placeholders and repeat blocks of the bundled scripts. Pure.
//
//   {{BINARY}}  the traced binary, only as `uprobe:{{BINARY}}:SYMBOL` (the renderer resolves
//               SYMBOL, a mangled name or `*` glob, to exact names or addresses)
//   {{PID}}     the traced process, as bpftrace's `pid` builtin reports it
//   {{INTERVAL}} seconds between map flushes
//   {{TRACE_SAMPLE}}, {{TRACE_RATE}}  request tracing: trace 1 request in N, at most N per second
//
// Generated scripts (hookpoint-pairs, envoy-http-filters) also have line directives:
//   // hookpoint:each pair|lone|filter   ...   // hookpoint:end   lines repeated per item
//   // hookpoint:if pair|lone|filter     ...   // hookpoint:end   lines kept once if any item
// with {{NAME}}, {{LABEL}}, {{START}}, {{END}}, {{VAR}}, {{KEY}} (pairs), {{NAME}},
// {{SYMBOL}} (lone) and {{FILTER}}, {{METHOD}}, {{SYMBOL}}, {{ID}} (filter callbacks) inside.

export const GLOBAL_PLACEHOLDERS = ["BINARY", "PID", "INTERVAL", "TRACE_SAMPLE", "TRACE_RATE"] as const;

export interface PairItem {
  /** The pair's name as its map key shows it: "Filters", "Router::Filter::Route". */
  NAME: string;
  /** NAME inside a bpftrace string literal (maybe NUL-padded: see pairs.ts). */
  LABEL: string;
  START: string;
  END: string;
  /** NAME as a bpftrace identifier part (its pending starts' map). */
  VAR: string;
  /** The probes' key expression for one interval: "arg0", "arg0, arg1", "tid", ... */
  KEY: string;
}
export interface LoneItem {
  NAME: string;
  SYMBOL: string;
}
/** One HTTP filter callback (envoy-http-filters): FILTER and METHOD label it, ID keys its state. */
export interface FilterItem {
  FILTER: string;
  METHOD: string;
  SYMBOL: string;
  ID: string;
}
export interface TemplateItems {
  pair: readonly PairItem[];
  lone: readonly LoneItem[];
  filter?: readonly FilterItem[];
}

const KINDS = ["pair", "lone", "filter"] as const;

const DIRECTIVE_RE = /^\s*\/\/\s*hookpoint:(each|if|end)\b\s*(\S*)\s*$/;

export class TemplateError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = "TemplateError";
  }
}

/** Whether a program has repeat directives (and so must be generated per binary). */
export function isTemplate(source: string): boolean {
  return source.split("\n").some((l) => DIRECTIVE_RE.test(l));
}

/** Expands the directives; `firstLine` numbers the source's first line in messages. */
export function expandTemplate(source: string, items: TemplateItems, firstLine = 1): string {
  const lines = source.split("\n");
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    const m = DIRECTIVE_RE.exec(line);
    if (!m) {
      out.push(line);
      i++;
      continue;
    }
    const [, verb, kind] = m;
    if (verb === "end") throw new TemplateError(firstLine + i, `"hookpoint:end" without "hookpoint:each" or "hookpoint:if"`);
    if (!(KINDS as readonly string[]).includes(kind ?? "")) {
      throw new TemplateError(firstLine + i, `"hookpoint:${verb}" takes "pair", "lone" or "filter", got "${kind}"`);
    }
    const close = lines.findIndex((l, k) => k > i && DIRECTIVE_RE.test(l));
    const closing = close < 0 ? null : DIRECTIVE_RE.exec(lines[close] ?? "");
    if (!closing || closing[1] !== "end") {
      throw new TemplateError(firstLine + i, `"hookpoint:${verb} ${kind}" is not closed by "// hookpoint:end" (blocks do not nest)`);
    }
    const block = lines.slice(i + 1, close);
    const list: readonly (PairItem | LoneItem | FilterItem)[] = items[kind as (typeof KINDS)[number]] ?? [];
    if (verb === "if") {
      if (list.length > 0) out.push(...block);
    } else {
      for (const item of list) out.push(...block.map((l) => fill(l, { ...item })));
    }
    i = close + 1;
  }
  return out.join("\n");
}

/** Replaces `{{KEY}}` for the keys given; others stay. */
export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

/** Every `{{NAME}}` placeholder in a text. */
export function placeholders(text: string): Set<string> {
  return new Set([...text.matchAll(/\{\{([^}]*)\}\}/g)].map((m) => m[1] ?? ""));
}
