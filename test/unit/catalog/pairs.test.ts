import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadCatalog, parseBundledScript } from "../../../src/catalog/catalog.js";
import { parseScriptFile } from "../../../src/catalog/header.js";
import { lintScript } from "../../../src/catalog/lint.js";
import { findHookpointFunctions, generatePairsScript, MAX_LABEL_BYTES } from "../../../src/catalog/pairs.js";
import { renderScript } from "../../../src/catalog/render.js";
import { expectGoldenText } from "../../support/golden.js";
import { ENVOY, HOOKPOINTS, MEMBER_HOOKPOINTS, STOCK, table } from "./tables.js";

describe("hookpoint-pairs generation", async () => {
  const template = (await loadCatalog()).find((s) => s.header.name === "hookpoint-pairs");
  if (!template) throw new Error("bundled hookpoint-pairs.bt missing");

  it("pairs hookpoint<Name>Start with hookpoint<Name>End and counts the rest", () => {
    expect(findHookpointFunctions(table({ ...STOCK, ...HOOKPOINTS }))).toEqual({
      pairs: [
        // The longest name is padded to a multiple of 8 bytes in the program (see pairs.ts).
        { NAME: "CodecParse", LABEL: "CodecParse\\0\\0\\0\\0\\0", START: "hookpointCodecParseStart", END: "hookpointCodecParseEnd", VAR: "CodecParse", KEY: "arg0" },
        { NAME: "Filters", LABEL: "Filters", START: "hookpointFiltersStart", END: "hookpointFiltersEnd", VAR: "Filters", KEY: "arg0" },
      ],
      lone: [{ NAME: "RequestSeen", SYMBOL: "hookpointRequestSeen" }],
      warnings: [],
    });
  });

  it("makes a Start without its End, and an End without its Start, counters", () => {
    expect(findHookpointFunctions(table({ hookpointRetryStart: 1, hookpointDrainEnd: 2 }))).toEqual({
      pairs: [],
      lone: [
        { NAME: "DrainEnd", SYMBOL: "hookpointDrainEnd" },
        { NAME: "RetryStart", SYMBOL: "hookpointRetryStart" },
      ],
      warnings: [],
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
      }),
    );
    expect(found.pairs).toEqual([
      { NAME: "Filters", LABEL: "Filters", START: "hookpointFiltersStart", END: "hookpointFiltersEnd", VAR: "Filters", KEY: "arg0" },
      { NAME: "Router", LABEL: "Router", START: "_Z20hookpointRouterStartm", END: "_Z18hookpointRouterEndm", VAR: "Router", KEY: "arg0" },
    ]);
    expect(found.lone).toEqual([{ NAME: "RouterStartHelper", SYMBOL: "_Z26hookpointRouterStartHelperv" }]);
    expect(found.warnings).toEqual([
      "_Z21hookpointFiltersStartm: left out: hookpointFiltersStart has the same name and scope",
      "_Z40hookpointBrokenv: left out: a name of 40 characters runs past the end",
    ]);
  });

  it("pairs C++ members of one class, keyed by this and the id argument, or by this alone", () => {
    expect(findHookpointFunctions(table({ ...HOOKPOINTS, ...MEMBER_HOOKPOINTS }))).toEqual({
      pairs: [
        { NAME: "CodecParse", LABEL: "CodecParse", START: "hookpointCodecParseStart", END: "hookpointCodecParseEnd", VAR: "CodecParse", KEY: "arg0" },
        { NAME: "Filters", LABEL: "Filters", START: "hookpointFiltersStart", END: "hookpointFiltersEnd", VAR: "Filters", KEY: "arg0" },
        {
          NAME: "Http::ConnectionManagerImpl::ActiveStream::Decode",
          // 49 bytes and a NUL, padded to 56.
          LABEL: "Http::ConnectionManagerImpl::ActiveStream::Decode\\0\\0\\0\\0\\0\\0",
          START: "_ZN5Envoy4Http21ConnectionManagerImpl12ActiveStream20hookpointDecodeStartEm",
          END: "_ZN5Envoy4Http21ConnectionManagerImpl12ActiveStream18hookpointDecodeEndEm",
          VAR: "Http_ConnectionManagerImpl_ActiveStream_Decode",
          KEY: "arg0, arg1",
        },
        { NAME: "Router::Filter::Route", LABEL: "Router::Filter::Route", START: "_ZN5Envoy6Router6Filter19hookpointRouteStartEv", END: "_ZN5Envoy6Router6Filter17hookpointRouteEndEv", VAR: "Router_Filter_Route", KEY: "arg0" },
        // A const member belongs to the same class.
        {
          NAME: "Router::UpstreamRequest::Upstream",
          LABEL: "Router::UpstreamRequest::Upstream",
          START: "_ZN5Envoy6Router15UpstreamRequest22hookpointUpstreamStartEv",
          END: "_ZNK5Envoy6Router15UpstreamRequest20hookpointUpstreamEndEv",
          VAR: "Router_UpstreamRequest_Upstream",
          KEY: "arg0",
        },
      ],
      lone: [
        { NAME: "Http::FilterManager::RequestSeen", SYMBOL: "_ZN5Envoy4Http13FilterManager20hookpointRequestSeenEv" },
        { NAME: "RequestSeen", SYMBOL: "hookpointRequestSeen" },
      ],
      warnings: [],
    });
  });

  it("reads the id's type from the signature: narrower integers are cut to their width; no id means this, or the thread", () => {
    const found = findHookpointFunctions(
      table({
        // unsigned int and int: both 32 bits, so one key type.
        _ZN5Envoy3Foo18hookpointWaitStartEj: 1,
        _ZN5Envoy3Foo16hookpointWaitEndEi: 2,
        _Z18hookpointSlotStartt: 3,
        _Z16hookpointSlotEndt: 4,
        _Z18hookpointTickStartv: 5,
        _Z16hookpointTickEndv: 6,
        // A reference is passed as an address: an id.
        _ZN5Envoy4Pool17hookpointGetStartERNS_6StreamE: 7,
        _ZN5Envoy4Pool15hookpointGetEndERNS_6StreamE: 8,
        // A class passed by value (an enum looks the same): not an id, so `this`.
        _ZN5Envoy4Pool18hookpointPingStartENS_5StateE: 9,
        _ZN5Envoy4Pool16hookpointPingEndENS_5StateE: 10,
      }),
    );
    expect(found.pairs.map((p) => [p.NAME, p.KEY])).toEqual([
      ["Foo::Wait", "arg0, (uint64)(uint32)arg1"],
      ["Pool::Get", "arg0, arg1"],
      ["Pool::Ping", "arg0"],
      ["Slot", "(uint64)(uint16)arg0"],
      ["Tick", "tid"],
    ]);
    expect(found.warnings).toEqual([]);
  });

  it("counts instead of pairing when Start and End are keyed differently or belong to different classes", () => {
    const found = findHookpointFunctions(
      table({
        _ZN5Envoy3Bar16hookpointIoStartEm: 1,
        _ZN5Envoy3Bar14hookpointIoEndEv: 2,
        _ZN5Envoy1A17hookpointHopStartEv: 3,
        _ZN5Envoy1B15hookpointHopEndEv: 4,
      }),
    );
    expect(found.pairs).toEqual([]);
    expect(found.lone.map((l) => l.NAME)).toEqual(["A::HopStart", "B::HopEnd", "Bar::IoEnd", "Bar::IoStart"]);
    expect(found.warnings).toEqual([
      "_ZN5Envoy3Bar16hookpointIoStartEm and _ZN5Envoy3Bar14hookpointIoEndEv: counted, not paired: the start is keyed by this and its first parameter (unsigned long), the end by this",
    ]);
  });

  it("leaves out what only looks like a hookpoint function, and says why for what it cannot read", () => {
    const found = findHookpointFunctions(
      table({
        // A lambda inside a hookpoint function, a thunk, a class named hookpoint...: not hookpoint functions.
        _ZZN5Envoy1A18hookpointHopStartEvENKUlvE_clEv: 1,
        _ZThn8_N5Envoy6Router6Filter19hookpointRouteStartEv: 2,
        _ZN5Envoy17hookpointRegistry3addEv: 3,
        _ZN5Envoy1A17hookpointTplStartIiEEvT_: 4,
        "_ZN5Envoy1A17hookpointHopStartEv.isra.0": 5,
      }),
    );
    expect(found).toEqual({
      pairs: [],
      lone: [],
      warnings: [
        "_ZN5Envoy1A17hookpointHopStartEv.isra.0: left out: a compiler-made clone (a '.' suffix) is not the function its callers name",
        "_ZN5Envoy1A17hookpointTplStartIiEEvT_: left out: function templates are not supported",
      ],
    });
  });

  it("names pairs Class::<Name> without Envoy's namespace, the full scope where two would be equal, shortened to what bpftrace takes", () => {
    const long = "_ZN5Envoy10Extensions11HttpFilters18ExternalProcessing14ProcessorState";
    const found = findHookpointFunctions(
      table({
        _ZN5Envoy6Router6Filter19hookpointRouteStartEv: 1,
        _ZN5Envoy6Router6Filter17hookpointRouteEndEv: 2,
        _ZN6Router6Filter19hookpointRouteStartEv: 3,
        _ZN6Router6Filter17hookpointRouteEndEv: 4,
        [`${long}21hookpointMessageStartEv`]: 5,
        [`${long}19hookpointMessageEndEv`]: 6,
        // Two names that differ only in the scope the shortening drops.
        [`_ZN1A${long.slice(3)}21hookpointMessageStartEv`]: 7,
        [`_ZN1A${long.slice(3)}19hookpointMessageEndEv`]: 8,
        // A namespace-level function of Envoy itself keeps its scope.
        _ZN5Envoy18hookpointDrainTickEv: 9,
      }),
    );
    expect(found.pairs.map((p) => [p.NAME, p.VAR])).toEqual([
      ["..HttpFilters::ExternalProcessing::ProcessorState::Message", "HttpFilters_ExternalProcessing_ProcessorState_Message"],
      ["..HttpFilters::ExternalProcessing::ProcessorState::Message#2", "HttpFilters_ExternalProcessing_ProcessorState_Message_2"],
      ["Envoy::Router::Filter::Route", "Envoy_Router_Filter_Route"],
      ["Router::Filter::Route", "Router_Filter_Route"],
    ]);
    expect(found.pairs.every((p) => Buffer.byteLength(p.NAME) <= MAX_LABEL_BYTES)).toBe(true);
    // The numbering follows the mangled names: the A:: one sorts first.
    expect(found.pairs[0]?.START).toBe(`_ZN1A${long.slice(3)}21hookpointMessageStartEv`);
    expect(found.lone).toEqual([{ NAME: "Envoy::DrainTick", SYMBOL: "_ZN5Envoy18hookpointDrainTickEv" }]);
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
    expect(body).not.toMatch(/\{\{(NAME|START|END|SYMBOL|VAR|KEY)\}\}|^\s*\/\/\s*hookpoint:(each|if|end)/m);
  });

  it("renders the program for a binary with extern \"C\", global and member pairs exactly (golden)", () => {
    // Also a global function without an id (keyed by thread) and a member with a 32-bit id.
    const extra = { _Z18hookpointTickStartv: 0x5000, _Z16hookpointTickEndv: 0x5010, _ZN5Envoy3Foo18hookpointWaitStartEj: 0x5020, _ZN5Envoy3Foo16hookpointWaitEndEj: 0x5030 };
    const t = table({ ...STOCK, ...HOOKPOINTS, ...MEMBER_HOOKPOINTS, ...extra });
    const program = renderScript(template, { binary: ENVOY, pid: 4242, table: t, byAddress: false, intervalSeconds: 10 });
    expectGoldenText(fileURLToPath(new URL("./golden/hookpoint-pairs.members.bt", import.meta.url)), program);
    const generated = generatePairsScript(t, template);
    const { header, body, bodyLine } = parseScriptFile(generated?.source ?? "", "generated");
    expect(() => lintScript(header, body, "generated", bodyLine)).not.toThrow();
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
