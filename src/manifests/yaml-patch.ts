// Apply an RFC 6902 patch (as produced by podPatch: add/replace/remove) to a
// yaml Document in place, so comments and layout of untouched parts survive.
import { isCollection, isSeq, type Document } from "yaml";
import type { Operation } from "../admission/patch.js";

export function pointerToPath(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function applyPatchToDocument(doc: Document, prefix: readonly (string | number)[], ops: readonly Operation[]): void {
  for (const op of ops) {
    // Walk the nodes to know which segments index a sequence.
    const path: (string | number)[] = [...prefix];
    let node: unknown = doc.getIn(prefix, true);
    for (const seg of pointerToPath(op.path)) {
      const key: string | number = isSeq(node) ? Number(seg) : seg;
      path.push(key);
      node = isCollection(node) ? node.get(key, true) : undefined;
    }
    switch (op.op) {
      case "add":
      case "replace":
        doc.setIn(path, doc.createNode(op.value));
        break;
      case "remove":
        doc.deleteIn(path);
        break;
      default:
        throw new Error(`unsupported patch operation ${op.op}`);
    }
  }
}
