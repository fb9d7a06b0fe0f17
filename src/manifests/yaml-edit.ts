// Minimal-diff edits of YAML text: given a node of the parsed input and the value
// it should now hold, rewrite only the parts that differ. Everything else keeps
// its bytes: comments, key order, quoting, flow or block style, blank lines.
// Keys are added at the end of their map and items at the end of their
// sequence, as a JSON Patch from podPatch() does; a removed key or item takes
// its own lines (or its `, item` in a flow collection) with it, so inserting
// and then removing the same entries gives back the very same text.
import { isDeepStrictEqual } from "node:util";
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from "yaml";
import { isObject } from "../is-object.js";
import { isCollectionValue, renderBlock, renderFlow, renderItems, renderPairs, renderScalar, type YamlStyle } from "./yaml-render.js";

interface Edit {
  start: number;
  end: number;
  text: string;
  /** Order of insertions at the same position: lower first. */
  seq: number;
}

/** Where a node sits, which decides how a replacement must be written. */
type Place =
  | { in: "flow" }
  | { in: "block-map"; key: Node; column: number }
  | { in: "block-seq"; column: number; siblings: readonly Node[] }
  | { in: "root" };

export class YamlEditor {
  private readonly edits: Edit[] = [];
  /** Whether the file's lines end in CR LF (its first line break says). */
  private readonly crlf: boolean;

  constructor(
    private readonly text: string,
    private readonly style: YamlStyle,
  ) {
    this.crlf = /^[^\n]*\r\n/.test(text);
  }

  /** Records the edits that make `node` (of `doc`) hold `value`. */
  update(doc: Document, node: Node, value: unknown, place: Place = { in: "root" }): void {
    if (isDeepStrictEqual(node.toJS(doc, { maxAliasCount: -1 }), value)) return;
    if (isMap(node) && isObject(value) && !isAlias(node) && plainKeys(node)) return this.updateMap(doc, node, value, place);
    if (isSeq(node) && Array.isArray(value)) return this.updateSeq(doc, node, value, place);
    this.replace(node, value, place);
  }

  /** The input text with every recorded edit applied. */
  result(): string {
    // From the end backwards, so earlier offsets stay valid. At one position a
    // removal goes first (it must not take an insertion with it), then the
    // insertions, last-recorded first, so that they end up in recorded order.
    const sorted = [...this.edits].sort((a, b) => b.start - a.start || Number(b.end > b.start) - Number(a.end > a.start) || b.seq - a.seq);
    // The same result built front to back in one pass (edits that do not overlap, as the
    // editor records them): splicing each edit into the whole text cost a copy of the text
    // per edit, minutes for a few thousand documents.
    const forward = sorted.reverse();
    const parts: string[] = [];
    let cursor = 0;
    for (const e of forward) {
      if (e.start < cursor) return this.spliced(forward.reverse());
      parts.push(this.text.slice(cursor, e.start), e.text);
      cursor = e.end;
    }
    parts.push(this.text.slice(cursor));
    return parts.join("");
  }

  /** Each edit spliced in from the end backwards: for edits that overlap. */
  private spliced(sorted: readonly Edit[]): string {
    let out = this.text;
    for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
    return out;
  }

  private add(start: number, end: number, text: string): void {
    // New lines end as the file's lines do: a CRLF file stays CRLF throughout.
    this.edits.push({ start, end, text: this.crlf ? text.replace(/\r?\n/g, "\r\n") : text, seq: this.edits.length });
  }

  private updateMap(doc: Document, map: YAMLMap, value: Record<string, unknown>, place: Place): void {
    const pairs = map.items as Pair<Node, Node | null>[];
    const keyOf = (p: Pair<Node, Node | null>) => String((p.key as { value: unknown }).value);
    const kept = pairs.filter((p) => Object.prototype.hasOwnProperty.call(value, keyOf(p)));
    const existing = new Set(pairs.map(keyOf));
    const added = Object.entries(value).filter(([k]) => !existing.has(k));
    if (kept.length === 0 && pairs.length > 0) return this.replace(map, value, place);

    if (map.flow) {
      for (let i = 0; i < pairs.length; i++) {
        const p = pairs[i] as Pair<Node, Node | null>;
        if (!kept.includes(p)) this.removeFlowItem(pairs, i);
        else if (p.value) this.update(doc, p.value, value[keyOf(p)], { in: "flow" });
        else this.replaceEmptyValue(p, value[keyOf(p)], { in: "flow" });
      }
      if (added.length > 0) this.appendFlow(map, added.map(([k, v]) => `${renderScalar(k, true)}: ${renderFlow(v, this.style)}`));
      return;
    }

    const column = this.column(pairs[0]?.key as Node);
    // Check every removal first: none may be recorded when the whole map is rewritten.
    const removals = pairs.filter((p) => !kept.includes(p)).map((p) => this.blockExtent(p.key as Node, p.value ?? (p.key as Node)));
    if (removals.some((r) => r === undefined)) return this.replace(map, value, place);
    for (const r of removals as [number, number][]) this.add(r[0], r[1], "");
    for (const p of kept) {
      const child: Place = { in: "block-map", key: p.key as Node, column };
      if (p.value) this.update(doc, p.value, value[keyOf(p)], child);
      else this.replaceEmptyValue(p, value[keyOf(p)], child);
    }
    if (added.length > 0) {
      const last = pairs[pairs.length - 1] as Pair<Node, Node | null>;
      // Follow the sibling items of a sequence: where they write a key's value
      // as a flow collection (hostPath: { path: /x }), so does an added one.
      const siblings = place.in === "block-seq" ? place.siblings : [];
      this.insertLines(this.lineEndAfter(end(last.value ?? (last.key as Node))), renderPairs(added, column, this.style, flowKeysOf(siblings, added.map(([k]) => k))));
    }
  }

  private updateSeq(doc: Document, seq: YAMLSeq, value: unknown[], place: Place): void {
    const items = seq.items as Node[];
    if (value.length === 0 && items.length > 0) return this.replace(seq, value, place);
    const common = Math.min(items.length, value.length);
    if (seq.flow) {
      for (let i = 0; i < common; i++) this.update(doc, items[i] as Node, value[i], { in: "flow" });
      for (let i = items.length - 1; i >= common; i--) this.removeFlowItem(items, i);
      if (value.length > common) this.appendFlow(seq, value.slice(common).map((v) => renderFlow(v, this.style)));
      return;
    }
    const first = items[0] as Node;
    const dash = this.text.lastIndexOf("-", start(first) - 1);
    const column = dash - lineStartOf(this.text, dash);
    const removals = items.slice(common).map((item) => this.blockExtent(item, item, true));
    if (removals.some((r) => r === undefined)) return this.replace(seq, value, place);
    for (const r of removals as [number, number][]) this.add(r[0], r[1], "");
    for (let i = 0; i < common; i++) this.update(doc, items[i] as Node, value[i], { in: "block-seq", column, siblings: items });
    if (value.length > common) {
      const last = items[items.length - 1] as Node;
      // Items like the last one: `- { name: a }` when it is written so.
      const flow = (isMap(last) || isSeq(last)) && last.flow === true;
      const more = value.slice(common);
      const keys = more.flatMap((v) => (isObject(v) ? Object.keys(v) : []));
      this.insertLines(this.lineEndAfter(end(last)), renderItems(more, column, this.style, flow, flowKeysOf(items, keys)));
    }
  }

  /** Rewrites one node whole, in the way its place requires. */
  private replace(node: Node, value: unknown, place: Place): void {
    const [start, stop] = [node.range?.[0] ?? 0, node.range?.[1] ?? 0];
    const collection = isCollectionValue(value);
    const wasBlock = (isMap(node) || isSeq(node)) && !node.flow;
    const wasFlow = (isMap(node) || isSeq(node)) && node.flow === true;
    if (place.in === "flow" || wasFlow || !collection || (Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0)) {
      const text = collection ? renderFlow(value, this.style) : renderScalar(value, place.in === "flow", isScalar(node) ? node.type : undefined);
      // `key:` + a block on the next lines becomes `key: text` on one line.
      if (wasBlock && place.in === "block-map") return this.add(this.text.indexOf(":", end(place.key)) + 1, stop, ` ${text}\n`);
      // A block collection's range ends after its last newline: keep the line break.
      return this.add(start, stop, wasBlock && this.text[stop - 1] === "\n" ? `${text}\n` : text);
    }
    if (place.in === "block-map" && !wasBlock) {
      // `key: scalar` becomes `key:` and the block on the next lines.
      const colon = this.text.indexOf(":", end(place.key));
      const column = place.column + (Array.isArray(value) && !this.style.indentSeq ? 0 : this.style.indent);
      return this.add(colon + 1, stop, `\n${" ".repeat(column)}${renderBlock(value, column, this.style)}`);
    }
    // A block node (or a scalar item of a block sequence) is rewritten where it starts.
    const column = start - lineStartOf(this.text, start);
    const text = renderBlock(value, column, this.style);
    this.add(start, stop, wasBlock && this.text[stop - 1] === "\n" ? `${text}\n` : text);
  }

  /** `key:` with no value at all. */
  private replaceEmptyValue(pair: Pair<Node, Node | null>, value: unknown, place: Place): void {
    const colon = this.text.indexOf(":", end(pair.key as Node));
    if (place.in === "flow" || !isCollectionValue(value)) return this.add(colon + 1, colon + 1, ` ${place.in === "flow" ? renderFlow(value, this.style) : renderScalar(value, false)}`);
    const column = (place as { column: number }).column + this.style.indent;
    this.add(colon + 1, colon + 1, `\n${" ".repeat(column)}${renderBlock(value, column, this.style)}`);
  }

  /** Removes item `i` of a flow collection with the separator before it (after it, for the first). */
  private removeFlowItem(items: readonly (Node | Pair<Node, Node | null>)[], i: number): void {
    const startOf = (x: Node | Pair<Node, Node | null>) => (isPair(x) ? start(x.key as Node) : start(x));
    const endOf = (x: Node | Pair<Node, Node | null>) => (isPair(x) ? end(x.value ?? (x.key as Node)) : end(x));
    const item = items[i] as Node | Pair<Node, Node | null>;
    if (i > 0) this.add(endOf(items[i - 1] as Node), endOf(item), "");
    else if (items.length > 1) this.add(startOf(item), startOf(items[1] as Node), "");
    else this.add(startOf(item), endOf(item), "");
  }

  private appendFlow(node: YAMLMap | YAMLSeq, rendered: string[]): void {
    const close = (node.range?.[1] ?? 0) - 1;
    if (node.items.length === 0) {
      const pad = (isMap(node) ? this.style.flowMapPadding : this.style.flowSeqPadding) ? " " : "";
      const [open, shut] = isMap(node) ? ["{", "}"] : ["[", "]"];
      return this.add(node.range?.[0] ?? 0, close + 1, `${open}${pad}${rendered.join(", ")}${pad}${shut}`);
    }
    // After the last item, before any padding or line break that precedes the bracket.
    let pos = close;
    while (pos > 0 && /\s/.test(this.text[pos - 1] ?? "")) pos--;
    const hadComma = this.text[pos - 1] === ",";
    this.add(pos, pos, (hadComma ? " " : ", ") + rendered.join(", ") + (hadComma ? "," : ""));
  }

  /** [start, end) of a block entry's lines, or undefined when it shares its first line with something else. */
  private blockExtent(first: Node, last: Node, isItem = false): [number, number] | undefined {
    let from = start(first);
    if (isItem) from = this.text.lastIndexOf("-", from - 1);
    const ls = lineStartOf(this.text, from);
    if (this.text.slice(ls, from).trim() !== "") return undefined;
    return [ls, this.lineEndAfter(end(last))];
  }

  private insertLines(pos: number, lines: string): void {
    this.add(pos, pos, pos === this.text.length && pos > 0 && this.text[pos - 1] !== "\n" ? `\n${lines}` : lines);
  }

  private lineEndAfter(pos: number): number {
    if (pos > 0 && this.text[pos - 1] === "\n") return pos;
    const nl = this.text.indexOf("\n", pos);
    return nl < 0 ? this.text.length : nl + 1;
  }

  private column(node: Node): number {
    const s = start(node);
    return s - lineStartOf(this.text, s);
  }
}

function start(node: Node): number {
  return node.range?.[0] ?? 0;
}

function end(node: Node): number {
  return node.range?.[1] ?? 0;
}

function lineStartOf(text: string, pos: number): number {
  return text.lastIndexOf("\n", pos - 1) + 1;
}

/** Those of `keys` that some map among `items` writes as a flow collection. */
function flowKeysOf(items: readonly Node[], keys: readonly string[]): Set<string> {
  return new Set(keys.filter((k) => items.some((item) => isMap(item) && (item.get(k, true) as YAMLMap | undefined)?.flow === true)));
}

/** Only plain scalar keys (no merge keys, no complex keys) can be edited pair by pair. */
function plainKeys(map: YAMLMap): boolean {
  return map.items.every((p) => isScalar(p.key) && (p.key as { value: unknown }).value !== "<<");
}
