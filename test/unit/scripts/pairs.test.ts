import { describe, expect, it } from "vitest";
import { loadCatalog, parseBundledScript } from "../../../src/scripts/catalog.js";
import { parseScriptFile } from "../../../src/scripts/header.js";
import { lintScript } from "../../../src/scripts/lint.js";
import { findHookpointFunctions, generatePairsScript } from "../../../src/scripts/pairs.js";
import { HOOKPOINTS, STOCK, table } from "./tables.js";

describe("hookpoint-pairs generation", async () => {
  const template = (await loadCatalog()).find((s) => s.header.name === "hookpoint-pairs");
  if (!template) throw new Error("bundled hookpoint-pairs.bt missing");

  it("pairs hookpoint<Name>Start with hookpoint<Name>End and counts the rest", () => {
    expect(findHookpointFunctions(table({ ...STOCK, ...HOOKPOINTS }))).toEqual({
      pairs: [
        { NAME: "CodecParse", START: "hookpointCodecParseStart", END: "hookpointCodecParseEnd" },
        { NAME: "Filters", START: "hookpointFiltersStart", END: "hookpointFiltersEnd" },
      ],
      lone: [{ NAME: "RequestSeen", SYMBOL: "hookpointRequestSeen" }],
    });
  });

  it("makes a Start without its End, and an End without its Start, counters", () => {
    expect(findHookpointFunctions(table({ hookpointRetryStart: 1, hookpointDrainEnd: 2 }))).toEqual({
      pairs: [],
      lone: [
        { NAME: "DrainEnd", SYMBOL: "hookpointDrainEnd" },
        { NAME: "RetryStart", SYMBOL: "hookpointRetryStart" },
      ],
    });
  });

  it("also finds global C++ functions, preferring the extern \"C\" name when both exist", () => {
    const found = findHookpointFunctions(
      table({
        _Z20hookpointRouterStartm: 1,
        _Z18hookpointRouterEndm: 2,
        _Z21hookpointFiltersStartm: 3,
        hookpointFiltersStart: 4,
        hookpointFiltersEnd: 5,
        // The length prefix, not the letters, says where the name ends: RouterStartHelper.
        _Z26hookpointRouterStartHelperv: 6,
        // A length that runs past the symbol: not a function name.
        _Z40hookpointBrokenv: 8,
        // Nested in a namespace, not a global hookpoint function.
        _ZN5Envoy20hookpointFiltersStartEv: 7,
      }),
    );
    expect(found.pairs).toEqual([
      { NAME: "Filters", START: "hookpointFiltersStart", END: "hookpointFiltersEnd" },
      { NAME: "Router", START: "_Z20hookpointRouterStartm", END: "_Z18hookpointRouterEndm" },
    ]);
    expect(found.lone).toEqual([{ NAME: "RouterStartHelper", SYMBOL: "_Z26hookpointRouterStartHelperv" }]);
  });

  it("returns null for a binary without hookpoint functions", () => {
    expect(generatePairsScript(table(STOCK), template)).toBeNull();
  });

  it("generates a script whose header lists the exact symbols and whose program passes the lint", () => {
    const generated = generatePairsScript(table({ ...STOCK, ...HOOKPOINTS }), template);
    expect(generated?.file).toBeNull();
    expect(generated?.header).toEqual({
      ...template.header,
      requires: ["hookpointCodecParseStart", "hookpointCodecParseEnd", "hookpointFiltersStart", "hookpointFiltersEnd", "hookpointRequestSeen"],
    });
    const source = generated?.source ?? "";
    const { header, body, bodyLine } = parseScriptFile(source, "generated");
    expect(header).toEqual(generated?.header);
    expect(() => lintScript(header, body, "generated", bodyLine)).not.toThrow();
    expect(source.match(/^uprobe:\{\{BINARY\}\}:\S+/gm)).toEqual([
      "uprobe:{{BINARY}}:hookpointCodecParseStart",
      "uprobe:{{BINARY}}:hookpointCodecParseEnd",
      "uprobe:{{BINARY}}:hookpointFiltersStart",
      "uprobe:{{BINARY}}:hookpointFiltersEnd",
      "uprobe:{{BINARY}}:hookpointRequestSeen",
    ]);
    expect(source).toContain('@hookpoint_latency_ns["Filters"] = hist(nsecs - $start);');
    expect(source).toContain('@hookpoint_calls["RequestSeen"] = count();');
    expect(source).toContain("  clear(@_start_CodecParse);\n  clear(@_start_Filters);\n}");
    expect(body).not.toMatch(/\{\{(NAME|START|END|SYMBOL)\}\}|^\s*\/\/\s*hookpoint:(each|if|end)/m);
  });

  it("prints only the maps it fills: no pairs, no latency map (bpftrace rejects an unassigned map)", () => {
    const program = (t: Record<string, number>): string => parseScriptFile(generatePairsScript(table(t), template)?.source ?? "", "generated").body;
    const onlyLone = program({ hookpointRequestSeen: 1 });
    expect(onlyLone).not.toContain("@hookpoint_latency_ns");
    expect(onlyLone).not.toContain("@hookpoint_unmatched_start");
    expect(onlyLone).toContain("print(@hookpoint_calls);");
    expect(program({ hookpointAStart: 1, hookpointAEnd: 2 })).not.toContain("@hookpoint_calls");
  });

  it("the bundled template is itself a valid script", () => {
    expect(() => parseBundledScript(template.source, template.file ?? "")).not.toThrow();
  });
});
