// The minimal-diff YAML editor: only what differs is rewritten, in the input's style,
// and inserting then removing the same entries gives back the very same bytes.
import fc from "fast-check";
import { parseAllDocuments, parseDocument, type Node } from "yaml";
import { describe, expect, it } from "vitest";
import { YamlEditor } from "../../../src/manifests/yaml-edit.js";
import { detectStyle } from "../../../src/manifests/yaml-render.js";

function edit(text: string, value: unknown, path: (string | number)[] = []): string {
  const doc = parseDocument(text);
  const editor = new YamlEditor(text, detectStyle(text, [doc]));
  const node = (path.length ? doc.getIn(path, true) : doc.contents) as Node;
  editor.update(doc, node, path.length ? value : value);
  return editor.result();
}

function roundTrip(text: string, change: (v: Record<string, unknown>) => void): string {
  const value = parseDocument(text).toJS() as Record<string, unknown>;
  change(value);
  const out = edit(text, value);
  expect(parseDocument(out).toJS()).toEqual(value);
  return out;
}

describe("line ends", () => {
  it("a CRLF file gets CRLF on the lines added, and removing them gives back its bytes", () => {
    const text = "a: 1\r\nb:\r\n  c: x\r\n";
    const out = roundTrip(text, (v) => {
      (v.b as Record<string, unknown>).d = { e: [1, 2] };
      v.f = "g";
    });
    expect(out).toBe("a: 1\r\nb:\r\n  c: x\r\n  d:\r\n    e:\r\n      - 1\r\n      - 2\r\nf: g\r\n");
    expect(edit(out, parseDocument(text).toJS())).toBe(text);
  });
});

describe("block maps", () => {
  const text = "# head\na: 1 # one\nb:\n  c: x\n  d: [1, 2] # flow\ne: 'q'\n";
  it("replaces one scalar and nothing else", () => {
    expect(roundTrip(text, (v) => ((v.b as Record<string, unknown>).c = "z"))).toBe("# head\na: 1 # one\nb:\n  c: z\n  d: [1, 2] # flow\ne: 'q'\n");
  });
  it("keeps the quoting of a replaced string", () => {
    expect(roundTrip(text, (v) => (v.e = "it's"))).toBe("# head\na: 1 # one\nb:\n  c: x\n  d: [1, 2] # flow\ne: 'it''s'\n");
  });
  it("adds keys at the end of their map, at its indentation", () => {
    expect(roundTrip(text, (v) => Object.assign(v.b as object, { f: { g: [1, "yes"] }, h: "1337" }))).toBe(
      "# head\na: 1 # one\nb:\n  c: x\n  d: [1, 2] # flow\n  f:\n    g:\n      - 1\n      - \"yes\"\n  h: \"1337\"\ne: 'q'\n",
    );
  });
  it("removes a key with its line and its comment", () => {
    expect(roundTrip(text, (v) => delete (v.b as Record<string, unknown>).d)).toBe("# head\na: 1 # one\nb:\n  c: x\ne: 'q'\n");
  });
  it("a map that loses every key becomes {} on its key's line", () => {
    expect(roundTrip("a:\n  b: 1\nc: 2\n", (v) => (v.a = {}))).toBe("a: {}\nc: 2\n");
  });
  it("a scalar that becomes a map moves to the next lines", () => {
    expect(roundTrip("a: null # was empty\nc: 2\n", (v) => (v.a = { x: 1 }))).toBe("a:\n  x: 1 # was empty\nc: 2\n");
  });
  it("a key without a value gets one", () => {
    expect(roundTrip("a:\nc: 2\n", (v) => (v.a = { x: 1 }))).toBe("a:\n  x: 1\nc: 2\n");
  });
  it("adds at the end of a document without a final newline", () => {
    expect(roundTrip("a: 1", (v) => (v.b = 2))).toBe("a: 1\nb: 2\n");
  });
  it("follows the input's indentation and sequence style", () => {
    expect(roundTrip("a:\n    b: 1\n    l:\n    - x\n", (v) => ((v.a as Record<string, unknown>).m = ["z", "y"]))).toBe('a:\n    b: 1\n    l:\n    - x\n    m:\n    - z\n    - "y"\n');
  });
});

describe("block sequences", () => {
  const text = "l:\n  - name: a # first\n    v: 1\n  - name: b\n";
  it("appends items of maps", () => {
    expect(roundTrip(text, (v) => (v.l as unknown[]).push({ name: "c", v: 3 }))).toBe(text + "  - name: c\n    v: 3\n");
  });
  it("removes items from the end", () => {
    expect(roundTrip(text, (v) => (v.l as unknown[]).pop())).toBe("l:\n  - name: a # first\n    v: 1\n");
  });
  it("edits inside an item", () => {
    expect(roundTrip(text, (v) => (((v.l as unknown[])[0] as Record<string, unknown>).w = 2))).toBe("l:\n  - name: a # first\n    v: 1\n    w: 2\n  - name: b\n");
  });
});

describe("flow collections", () => {
  const text = "labels: { app: x, v: \"1\" }\ncaps: {drop: [ALL]}\nl: []\n";
  it("adds inside the braces, keeping their padding", () => {
    expect(roundTrip(text, (v) => ((v.labels as Record<string, unknown>)["hookpoint.dev/injected"] = "true"))).toBe(
      'labels: { app: x, v: "1", hookpoint.dev/injected: "true" }\ncaps: {drop: [ALL]}\nl: []\n',
    );
  });
  it("adds a nested collection as flow", () => {
    expect(roundTrip(text, (v) => ((v.caps as Record<string, unknown>).add = ["SYS_ADMIN", "BPF"]))).toBe(
      "labels: { app: x, v: \"1\" }\ncaps: {drop: [ALL], add: [SYS_ADMIN, BPF]}\nl: []\n",
    );
  });
  it("removes an item with its separator", () => {
    expect(roundTrip(text, (v) => delete (v.labels as Record<string, unknown>).v)).toBe("labels: { app: x }\ncaps: {drop: [ALL]}\nl: []\n");
    expect(roundTrip(text, (v) => delete (v.labels as Record<string, unknown>).app)).toBe('labels: { v: "1" }\ncaps: {drop: [ALL]}\nl: []\n');
  });
  it("fills an empty one", () => {
    expect(roundTrip(text, (v) => (v.l as unknown[]).push("a,b"))).toBe('labels: { app: x, v: "1" }\ncaps: {drop: [ALL]}\nl: ["a,b"]\n');
  });
});

describe("several documents", () => {
  it("edits one document of a stream and leaves the others byte for byte", () => {
    const text = "a: 1\n---\n# second\nb: {  x: 1 }\n---\nc: 3\n";
    const docs = parseAllDocuments(text) as ReturnType<typeof parseDocument>[];
    const editor = new YamlEditor(text, detectStyle(text, docs));
    const second = docs[1];
    if (!second) throw new Error("no second document");
    editor.update(second, second.contents as Node, { b: { x: 2 } });
    expect(editor.result()).toBe("a: 1\n---\n# second\nb: {  x: 2 }\n---\nc: 3\n");
  });
});

// Random documents, random changes of the kinds a patch makes: the result always
// reads back as the new value, and undoing the change gives back the input bytes.
describe("properties", () => {
  const key = fc.constantFrom("a", "b", "name", "image", "x-y", "hookpoint.dev/z");
  const scalar = fc.oneof(fc.constantFrom("yes", "1337", "a b", "on", "", "x: y", "#", "-"), fc.integer(), fc.boolean(), fc.string({ maxLength: 6 }));
  const value = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof({ depthSize: "small" }, scalar, fc.array(tie("v"), { maxLength: 3 }), fc.dictionary(key, tie("v"), { maxKeys: 3 })),
  })).v;
  const doc = fc.dictionary(key, value, { minKeys: 1, maxKeys: 4 });
  it("add, replace and remove read back exactly, and undo to the same text", () => {
    fc.assert(
      fc.property(doc, key, value, (original, k, v) => {
        const text = new (parseDocument("").constructor as typeof import("yaml").Document)(original).toString();
        const changed = { ...original, [k]: v };
        const out = edit(text, changed);
        expect(parseDocument(out).toJS()).toEqual(JSON.parse(JSON.stringify(changed)));
        if (!(k in original)) expect(edit(out, original)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
