import { describe, expect, it } from "vitest";
import { expandTemplate, isTemplate, TemplateError } from "../../../src/catalog/template.js";

const items = {
  pair: [
    { NAME: "A", LABEL: "A", START: "hookpointAStart", END: "hookpointAEnd", VAR: "A", KEY: "arg0" },
    { NAME: "B", LABEL: "B", START: "hookpointBStart", END: "hookpointBEnd", VAR: "B", KEY: "arg0" },
  ],
  lone: [],
};

describe("template directives", () => {
  it("repeats each-blocks per item, keeps if-blocks once, and drops both when there is no item", () => {
    const text = [
      "head",
      "// hookpoint:each pair",
      "p {{NAME}} {{START}} {{END}} {{PID}}",
      "// hookpoint:end",
      "// hookpoint:if pair",
      "once",
      "// hookpoint:end",
      "// hookpoint:each lone",
      "l {{SYMBOL}}",
      "// hookpoint:end",
      "// hookpoint:if lone",
      "never",
      "// hookpoint:end",
      "tail",
    ].join("\n");
    expect(isTemplate(text)).toBe(true);
    expect(expandTemplate(text, items)).toBe(["head", "p A hookpointAStart hookpointAEnd {{PID}}", "p B hookpointBStart hookpointBEnd {{PID}}", "once", "tail"].join("\n"));
  });

  it("is not a template without directives", () => {
    expect(isTemplate("BEGIN { }\n// hookpoint: just a comment\n")).toBe(false);
  });

  it.each([
    ["an unclosed block", "a\n// hookpoint:each pair\nx\n", 2, '"hookpoint:each pair" is not closed by "// hookpoint:end" (blocks do not nest)'],
    ["a nested block", "// hookpoint:each pair\n// hookpoint:if lone\n// hookpoint:end\n// hookpoint:end\n", 1, '"hookpoint:each pair" is not closed by "// hookpoint:end" (blocks do not nest)'],
    ["a stray end", "x\n// hookpoint:end\n", 2, '"hookpoint:end" without "hookpoint:each" or "hookpoint:if"'],
    ["an unknown kind", "// hookpoint:each chain\n// hookpoint:end\n", 1, '"hookpoint:each" takes "pair", "lone" or "filter", got "chain"'],
  ])("rejects %s with its line", (_what, text, line, message) => {
    let caught: unknown;
    try {
      expandTemplate(text, items);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TemplateError);
    expect({ line: (caught as TemplateError).line, message: (caught as TemplateError).message }).toEqual({ line, message });
  });
});
