import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../src/catalog/catalog.js";
import { filterCall, filterCallNames, findFilterCallbacks, nestedName, snakeCase } from "../../../src/catalog/filters.js";
import { checkScript, renderScript, symbolPatterns } from "../../../src/catalog/render.js";
import { expectGoldenText } from "../../support/golden.js";
import { ENVOY, STOCK, table } from "./tables.js";

// Three filter classes as the fixture (and stock Envoy) mangle them, and things the glob
// must not count: a filter's constructor, a lambda's handler, a template.
const FILTERS: Record<string, number> = {
  _ZN5Envoy10Extensions11HttpFilters4Cors10CorsFilter13decodeHeadersERNS_4Http16RequestHeaderMapEb: 0x19b80,
  _ZN5Envoy10Extensions11HttpFilters4Cors10CorsFilter10decodeDataERNS_6Buffer8InstanceEb: 0x199b0,
  _ZN5Envoy10Extensions11HttpFilters4Cors10CorsFilter13encodeHeadersERNS_4Http17ResponseHeaderMapEb: 0x19a40,
  _ZN5Envoy10Extensions11HttpFilters4Cors10CorsFilter10encodeDataERNS_6Buffer8InstanceEb: 0x19ac0,
  _ZN5Envoy10Extensions11HttpFilters8ExtAuthz6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb: 0x19c00,
  _ZN5Envoy10Extensions11HttpFilters8ExtAuthz6Filter13encodeHeadersERNS_4Http17ResponseHeaderMapEb: 0x19c80,
  _ZN5Envoy10Extensions11HttpFilters3Lua6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb: 0x19d00,
  _ZN5Envoy10Extensions11HttpFilters3Lua13FilterWrapper13decodeHeadersERNS_4Http16RequestHeaderMapEb: 0x19d80,
  _ZN5Envoy10Extensions11HttpFilters4Cors10CorsFilterC2Ev: 0x19e00,
  _ZN5Envoy10Extensions11HttpFilters6Common5EmptyIiE13decodeHeadersERNS_4Http16RequestHeaderMapEb: 0x19e80,
};

describe("HTTP filter callbacks", () => {
  it("reads plain mangled nested names, and nothing else", () => {
    expect(nestedName("_ZN5Envoy4Http13FilterManager13decodeHeadersEPNS0_25ActiveStreamDecoderFilterE")).toEqual(["Envoy", "Http", "FilterManager", "decodeHeaders"]);
    expect(nestedName("_ZNK5Envoy3Foo3barEv")).toEqual(["Envoy", "Foo", "bar"]);
    expect(nestedName("_ZN5Envoy6Common5EmptyIiE3fooEv")).toBeNull();
    expect(nestedName("_Z3fooi")).toBeNull();
    expect(nestedName("_ZN5Envoy3Fo")).toBeNull();
  });

  it("names a filter as Envoy's configuration does, from its namespace", () => {
    expect(["Cors", "ExtAuthz", "Lua", "HeaderToMetadataFilter", "GrpcHttp1Bridge", "RBAC"].map(snakeCase)).toEqual(["cors", "ext_authz", "lua", "header_to_metadata_filter", "grpc_http1_bridge", "rbac"]);
    expect(filterCall("_ZN5Envoy10Extensions11HttpFilters8ExtAuthz6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb")).toEqual({ filter: "ext_authz", className: "ExtAuthz::Filter", method: "decodeHeaders" });
    expect(filterCall("_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb")).toBeNull();
  });

  it("finds each timed callback once, telling apart two classes of one filter", () => {
    const items = findFilterCallbacks(table(FILTERS));
    expect(items.map((i) => `${i.ID} ${i.FILTER} ${i.METHOD}`)).toEqual([
      "1 cors decodeData",
      "2 cors decodeHeaders",
      "3 cors encodeData",
      "4 cors encodeHeaders",
      "5 ext_authz decodeHeaders",
      "6 ext_authz encodeHeaders",
      "7 lua.Filter decodeHeaders",
      "8 lua.FilterWrapper decodeHeaders",
    ]);
    expect(filterCallNames(table(FILTERS)).get(0x19c00n)).toBe("ext_authz decodeHeaders");
  });

  it("generates envoy-http-filters for a binary: one timed probe pair per callback, labelled by filter and method", async () => {
    const catalog = await loadCatalog();
    const filters = catalog.find((s) => s.header.name === "envoy-http-filters")!;
    const t = table(FILTERS);
    expect(symbolPatterns(filters)).toEqual([
      "_ZN5Envoy10Extensions11HttpFilters*13decodeHeadersERNS_4Http16RequestHeaderMapEb",
      "_ZN5Envoy10Extensions11HttpFilters*10decodeDataERNS_6Buffer8InstanceEb",
      "_ZN5Envoy10Extensions11HttpFilters*13encodeHeadersERNS_4Http17ResponseHeaderMapEb",
      "_ZN5Envoy10Extensions11HttpFilters*10encodeDataERNS_6Buffer8InstanceEb",
    ]);
    expect(checkScript(filters, t)).toEqual({ ok: true });
    expect(checkScript(filters, table(STOCK)).ok).toBe(false);
    const program = renderScript(filters, { binary: ENVOY, pid: 4242, table: t, byAddress: true, intervalSeconds: 5 });
    expectGoldenText(join(import.meta.dirname, "golden/envoy-http-filters.rendered.bt"), program);
  });
});

describe("probes that run only beside another script", async () => {
  const catalog = await loadCatalog();
  const trace = catalog.find((s) => s.header.name === "envoy-request-trace")!;
  const fixtureLike = table({
    ...Object.fromEntries(trace.header.requires.filter((r) => r.startsWith("_Z")).map((r, i) => [r.split(" | ")[0]!.replace("*", "E"), 0x20000 + i * 0x100])),
    ...FILTERS,
    _ZN5Envoy10Extensions11HttpFilters8ExtAuthz6Filter10onCompleteEOSt10unique_ptrINS1_7Filters6Common8ExtAuthz8ResponseESt14default_deleteIS8_EE: 0x19f00,
  });
  const render = (companions: string[]): string => renderScript(trace, { binary: ENVOY, pid: 7, table: fixtureLike, byAddress: true, companions, traceSample: 10, traceRate: 50 });

  it("leaves envoy-request-trace's filter probes out unless envoy-http-filters is selected too", () => {
    const alone = render(["envoy-event-loop"]);
    const beside = render(["envoy-http-filters"]);
    expect(alone).not.toContain("0x19b80");
    expect(alone).not.toContain('printf("L ');
    expect(beside.match(/uprobe:"\/usr\/local\/bin\/envoy":0x19b80/g)).toHaveLength(1);
    expect(beside.match(/uretprobe:"\/usr\/local\/bin\/envoy":0x19b80/g)).toHaveLength(1);
    expect(beside).toContain(`uprobe:"/usr/local/bin/envoy":0x19f00`);
  });

  it("renders the sampling settings into the program", () => {
    const p = render([]);
    expect(p).toContain("if (rand % 10 == 0) {");
    expect(p).toContain("if (@_taken < 50) {");
    expect(() => renderScript(trace, { binary: ENVOY, pid: 7, table: fixtureLike, byAddress: true, traceSample: 0 })).toThrow("traceSample: expected a whole number from 1 to 1000000000, got 0");
  });
});
