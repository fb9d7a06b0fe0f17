// Text for the YAML that the editor inserts: in the input's own style (indent,
// sequence indentation, flow padding) and quoted so that YAML 1.1 readers
// (Kubernetes' sigs.k8s.io/yaml) read the same values: "yes", "on", "0755" stay strings.
import { isCollection, isMap, isSeq, stringify, visit, type Document, type Node, type Scalar } from "yaml";

export interface YamlStyle {
  /** Spaces per nesting level. */
  indent: number;
  /** Whether a block sequence under a key is indented (`key:\n  - a`) or not (`key:\n- a`). */
  indentSeq: boolean;
  /** `{ a: 1 }` rather than `{a: 1}`. */
  flowMapPadding: boolean;
  /** `[ a ]` rather than `[a]`. */
  flowSeqPadding: boolean;
}

const DEFAULT_STYLE: YamlStyle = { indent: 2, indentSeq: true, flowMapPadding: false, flowSeqPadding: false };

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf("\n", pos - 1) + 1;
}

/** The style of the input, read from its first nested block map, block sequence under a key, and flow collection. */
export function detectStyle(text: string, docs: readonly Document[]): YamlStyle {
  const style = { ...DEFAULT_STYLE };
  let indentSeen = false;
  let seqSeen = false;
  const flowSeen = { map: false, seq: false };
  for (const doc of docs) {
    visit(doc, {
      Pair(_k, pair) {
        const key = pair.key as Node | null;
        const value = pair.value as Node | null;
        if (!key?.range || !value?.range || !isCollection(value) || value.flow) return;
        const keyCol = key.range[0] - lineStart(text, key.range[0]);
        const valueCol = value.range[0] - lineStart(text, value.range[0]);
        if (isMap(value) && !indentSeen && valueCol > keyCol) {
          style.indent = valueCol - keyCol;
          indentSeen = true;
        }
        if (isSeq(value) && !seqSeen) {
          // A block sequence's range starts at its first dash.
          style.indentSeq = valueCol > keyCol;
          seqSeen = true;
        }
      },
      Node(_k, node) {
        if (!isCollection(node) || !node.flow || !node.range || node.items.length === 0) return;
        const which = isMap(node) ? "map" : "seq";
        if (flowSeen[which]) return;
        style[which === "map" ? "flowMapPadding" : "flowSeqPadding"] = text[node.range[0] + 1] === " ";
        flowSeen[which] = true;
      },
    });
  }
  return style;
}

const AMBIGUOUS_PLAIN = /[,[\]{}]/;

/** One scalar, in the quoting `like` had when there was one, else plain when that reads back the same. */
export function renderScalar(value: unknown, inFlow: boolean, like?: Scalar["type"]): string {
  if (typeof value === "string") {
    if (like === "QUOTE_DOUBLE") return JSON.stringify(value);
    if (like === "QUOTE_SINGLE") return `'${value.replace(/'/g, "''")}'`;
    const text = stringify(value, { lineWidth: 0, version: "1.1" }).replace(/\n$/, "");
    // Block scalars (|-) cannot stand inline; flow context forbids , [ ] { } in plain scalars.
    if (text.includes("\n") || (inFlow && AMBIGUOUS_PLAIN.test(text) && !/^["']/.test(text))) return JSON.stringify(value);
    return text;
  }
  if (value === null || value === undefined) return "null";
  return String(value);
}

/** A value as a flow collection or scalar, for insertion into `{...}` or `[...]`. */
export function renderFlow(value: unknown, style: YamlStyle): string {
  if (!isCollectionValue(value)) return renderScalar(value, true);
  if (Array.isArray(value)) {
    const pad = style.flowSeqPadding ? " " : "";
    return value.length === 0 ? "[]" : `[${pad}${value.map((v) => renderFlow(v, style)).join(", ")}${pad}]`;
  }
  const pad = style.flowMapPadding ? " " : "";
  const entries = Object.entries(value);
  return entries.length === 0 ? "{}" : `{${pad}${entries.map(([k, v]) => `${renderScalar(k, true)}: ${renderFlow(v, style)}`).join(", ")}${pad}}`;
}

/**
 * A value rendered as a block, every line but the first indented by `column`
 * spaces (the first goes where the caller places it). No trailing newline.
 */
export function renderBlock(value: unknown, column: number, style: YamlStyle): string {
  if (!isCollectionValue(value) || isEmptyCollection(value)) return renderFlow(value, style);
  return blockLines(value, style)
    .map((line, i) => (i === 0 ? line : " ".repeat(column) + line))
    .join("\n");
}

/** `key: value` lines for a block map whose keys sit at `column`, each line indented, ending in a newline; `flowKeys` get flow values. */
export function renderPairs(entries: readonly [string, unknown][], column: number, style: YamlStyle, flowKeys: ReadonlySet<string> = new Set()): string {
  return indentLines(mapLines(Object.fromEntries(entries), style, flowKeys), column);
}

/**
 * `- item` lines for a block sequence whose dashes sit at `column`, ending in a
 * newline. `flow`: each item on one line; else items that are maps write the
 * values of `flowKeys` as flow collections, like their siblings do.
 */
export function renderItems(items: readonly unknown[], column: number, style: YamlStyle, flow = false, flowKeys: ReadonlySet<string> = new Set()): string {
  if (flow) return indentLines(items.map((item) => `- ${renderFlow(item, style)}`), column);
  return indentLines(seqLines(items, style, flowKeys), column);
}

function indentLines(lines: readonly string[], column: number): string {
  const pad = " ".repeat(column);
  return lines.map((line) => `${pad}${line}\n`).join("");
}

/** Lines of a non-empty collection, relative to its own column. */
function blockLines(value: Record<string, unknown> | unknown[], style: YamlStyle): string[] {
  return Array.isArray(value) ? seqLines(value, style) : mapLines(value, style);
}

function seqLines(items: readonly unknown[], style: YamlStyle, itemFlowKeys: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (const item of items) {
    // "- " then the item; its further lines line up after the dash.
    let lines: string[];
    if (!isCollectionValue(item) || isEmptyCollection(item)) lines = [inline(item, style)];
    else lines = Array.isArray(item) ? seqLines(item, style) : mapLines(item, style, itemFlowKeys);
    lines.forEach((line, i) => out.push(i === 0 ? `- ${line}` : `  ${line}`));
  }
  return out;
}

function mapLines(value: Record<string, unknown>, style: YamlStyle, flowKeys: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const k = renderScalar(key, false);
    if (!isCollectionValue(v) || isEmptyCollection(v) || flowKeys.has(key)) {
      out.push(`${k}: ${inline(v, style)}`);
      continue;
    }
    out.push(`${k}:`);
    const pad = " ".repeat(Array.isArray(v) && !style.indentSeq ? 0 : style.indent);
    for (const line of blockLines(v, style)) out.push(pad + line);
  }
  return out;
}

/** A scalar or an empty collection on a block line. */
function inline(value: unknown, style: YamlStyle): string {
  return isCollectionValue(value) ? renderFlow(value, style) : renderScalar(value, false);
}

export function isCollectionValue(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === "object" && value !== null;
}

function isEmptyCollection(value: Record<string, unknown> | unknown[]): boolean {
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}
