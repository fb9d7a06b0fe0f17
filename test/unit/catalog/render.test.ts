import { describe, expect, it } from "vitest";
import { loadCatalog, type BundledScript } from "../../../src/catalog/catalog.js";
import { checkScript, renderScript } from "../../../src/catalog/render.js";
import { ENVOY, HOOKPOINTS, STOCK, table } from "./tables.js";

describe("checkScript and renderScript", async () => {
  const catalog = await loadCatalog();
  const script = (name: string): BundledScript => {
    const s = catalog.find((c) => c.header.name === name);
    if (!s) throw new Error(`no ${name}`);
    return s;
  };
  const flow = script("envoy-request-flow");
  const filterChain = script("envoy-filter-chain");
  const stock = table(STOCK);
  const attachLines = (program: string): string[] => program.split("\n").filter((l) => /^(uprobe|tracepoint|interval|BEGIN|END)/.test(l));

  it("passes a stock Envoy for the stock scripts, and says which symbols a modified-Envoy script lacks", () => {
    expect(checkScript(flow, stock)).toEqual({ ok: true });
    expect(checkScript(script("envoy-event-loop"), stock)).toEqual({ ok: true });
    expect(checkScript(filterChain, stock)).toEqual({
      ok: false,
      reason: "missing-symbol",
      missing: ["hookpointFiltersStart", "hookpointFiltersEnd"],
      message: `envoy-filter-chain: ${ENVOY} lacks symbols hookpointFiltersStart, hookpointFiltersEnd`,
    });
    expect(checkScript(script("hookpoint-pairs"), stock)).toEqual({
      ok: false,
      reason: "missing-symbol",
      missing: ["*hookpoint*"],
      message: `hookpoint-pairs: ${ENVOY} has no hookpoint<Name> function (a modified Envoy exports e.g. hookpointFiltersStart/hookpointFiltersEnd)`,
    });
  });

  it("names the one missing symbol, and both alternatives when neither exists", () => {
    const { _ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb: _r, _ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb: _u, ...rest } = STOCK;
    expect(checkScript(flow, table(rest))).toEqual({
      ok: false,
      reason: "missing-symbol",
      missing: [
        "_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb",
        "_ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb | _ZN5Envoy6Router15UpstreamRequest23acceptHeadersFromRouterEb",
      ],
      message:
        `envoy-request-flow: ${ENVOY} lacks symbols _ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb, ` +
        "one of _ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb or _ZN5Envoy6Router15UpstreamRequest23acceptHeadersFromRouterEb",
    });
  });

  it("accepts either UpstreamRequest entry point (Envoy before and after 1.24)", () => {
    const { _ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb: _u, ...rest } = STOCK;
    const newer = table({ ...rest, _ZN5Envoy6Router15UpstreamRequest23acceptHeadersFromRouterEb: 0x6000 });
    expect(checkScript(flow, newer)).toEqual({ ok: true });
    const program = renderScript(flow, { binary: ENVOY, pid: 42, table: newer, byAddress: false });
    expect(program).toContain(`uprobe:"${ENVOY}":_ZN5Envoy6Router15UpstreamRequest23acceptHeadersFromRouterEb\n/pid == 42 && @_router[tid] != 0/`);
    expect(program).not.toContain("13encodeHeadersEb");
  });

  it("calls a stripped binary stripped, unless the script only needs kernel probes", () => {
    const stripped = table({}, { stripped: true });
    expect(checkScript(filterChain, stripped)).toEqual({
      ok: false,
      reason: "stripped",
      missing: ["hookpointFiltersStart", "hookpointFiltersEnd"],
      message: `envoy-filter-chain: ${ENVOY} is stripped (no symbol table), and the script probes symbols hookpointFiltersStart, hookpointFiltersEnd`,
    });
    expect(checkScript(script("envoy-socket-io"), stripped)).toEqual({ ok: true });
    expect(checkScript(script("envoy-event-loop"), stripped)).toEqual({ ok: true });
  });

  it("renders by address: one attach point per function, optional probes the binary lacks left out", () => {
    const program = renderScript(flow, { binary: ENVOY, pid: 4242, table: stock, byAddress: true, intervalSeconds: 5 });
    expect(program.split("\n")[0]).toBe(`// hookpoint envoy-request-flow: pid 4242, ${ENVOY}, flush every 5s`);
    expect(attachLines(program)).toEqual([
      "BEGIN",
      `uprobe:"${ENVOY}":0x5e50 /pid == 4242/`,
      `uprobe:"${ENVOY}":0x57a0 /pid == 4242/`,
      `uprobe:"${ENVOY}":0x5660 /pid == 4242 && @_dispatch[tid] != 0 && @_filters[tid] == 0/`,
      `uprobe:"${ENVOY}":0x55f0 /pid == 4242/`,
      `uprobe:"${ENVOY}":0x55b0`,
      `uprobe:"${ENVOY}":0x5510 /pid == 4242 && @_response[tid] != 0/`,
      "interval:s:5",
      "END",
    ]);
    // UpstreamRequest::decodeHeaders is absent: its probe and the comment above it are gone.
    expect(program).not.toContain("13decodeHeaders*");
    expect(program).not.toContain("the upstream response arrived");
    expect(program).not.toMatch(/\{\{|\}\}/);
  });

  it("renders by exact name, expanding a glob to each function", () => {
    const both = table({ ...STOCK, _ZN5Envoy4Http5Http214ConnectionImpl8dispatchERNS_6Buffer8InstanceE: 0x7000 });
    const program = renderScript(flow, { binary: ENVOY, pid: 7, table: both, byAddress: false });
    expect(program).toContain(
      `uprobe:"${ENVOY}":_ZN5Envoy4Http5Http114ConnectionImpl8dispatchERNS_6Buffer8InstanceE,\n` +
        `uprobe:"${ENVOY}":_ZN5Envoy4Http5Http214ConnectionImpl8dispatchERNS_6Buffer8InstanceE /pid == 7/`,
    );
    const byAddress = renderScript(flow, { binary: ENVOY, pid: 7, table: both, byAddress: true });
    expect(byAddress).toContain(`uprobe:"${ENVOY}":0x57a0,\nuprobe:"${ENVOY}":0x7000 /pid == 7/`);
  });

  it("attaches once to two names of one address (folded code would otherwise count twice)", () => {
    const folded = table({ ...STOCK, _ZN5Envoy6Router15UpstreamRequest23acceptHeadersFromRouterEb: STOCK._ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb ?? 0 });
    const byName = renderScript(flow, { binary: ENVOY, pid: 7, table: folded, byAddress: false });
    expect(attachLines(byName)).toContain(`uprobe:"${ENVOY}":_ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb`);
    expect(byName).not.toContain("acceptHeadersFromRouterEb\n/pid");
    const byAddress = renderScript(flow, { binary: ENVOY, pid: 7, table: folded, byAddress: true });
    expect(byAddress).toContain(`uprobe:"${ENVOY}":0x55b0\n/pid == 7 && @_router[tid] != 0/`);
  });

  it("quotes a symbol bpftrace would not read bare, and the binary path (spaces allowed)", () => {
    const odd = table({ hookpointFiltersStart: 0x10, "hookpointFiltersEnd.isra.0": 0x20 });
    const glob = (text: string): string => text.replace("hookpointFiltersEnd /pid", "hookpointFiltersEnd* /pid");
    const s: BundledScript = { ...filterChain, source: glob(filterChain.source), body: glob(filterChain.body) };
    const program = renderScript({ ...s, header: { ...s.header, requires: ["hookpointFiltersStart", "hookpointFiltersEnd*"] } }, {
      binary: "/opt/my envoy/envoy",
      pid: 1,
      table: odd,
      byAddress: false,
    });
    expect(attachLines(program)).toEqual([
      'uprobe:"/opt/my envoy/envoy":hookpointFiltersStart /pid == 1/',
      'uprobe:"/opt/my envoy/envoy":"hookpointFiltersEnd.isra.0" /pid == 1/',
      "interval:s:10",
      "END",
    ]);
  });

  it("refuses what bpftrace cannot take, naming the option", () => {
    const base = { binary: ENVOY, pid: 1, table: stock, byAddress: true };
    expect(() => renderScript(flow, { ...base, binary: "envoy" })).toThrow('binary: expected an absolute path, got "envoy"');
    expect(() => renderScript(flow, { ...base, binary: "/a:b/envoy" })).toThrow('binary: bpftrace cannot attach to a path containing ":": "/a:b/envoy"');
    expect(() => renderScript(flow, { ...base, pid: 0 })).toThrow("pid: expected a positive integer, got 0");
    expect(() => renderScript(flow, { ...base, pid: 1.5 })).toThrow("pid: expected a positive integer, got 1.5");
    expect(() => renderScript(flow, { ...base, intervalSeconds: 0 })).toThrow("intervalSeconds: expected a whole number of seconds from 1 to 3600, got 0");
    expect(() => renderScript(filterChain, base)).toThrow(`envoy-filter-chain: ${ENVOY} lacks symbols hookpointFiltersStart, hookpointFiltersEnd`);
  });

  it("generates hookpoint-pairs when asked to render the template", () => {
    const program = renderScript(script("hookpoint-pairs"), { binary: ENVOY, pid: 9, table: table(HOOKPOINTS), byAddress: true, intervalSeconds: 2 });
    expect(attachLines(program)).toEqual([
      `uprobe:"${ENVOY}":0x4f00 /pid == 9/`,
      `uprobe:"${ENVOY}":0x4f10 /pid == 9/`,
      `uprobe:"${ENVOY}":0x4f20 /pid == 9/`,
      `uprobe:"${ENVOY}":0x4f30 /pid == 9/`,
      `uprobe:"${ENVOY}":0x4f40 /pid == 9/`,
      "interval:s:2",
      "END",
    ]);
    expect(() => renderScript(script("hookpoint-pairs"), { binary: ENVOY, pid: 9, table: stock, byAddress: true })).toThrow(
      `hookpoint-pairs: ${ENVOY} has no hookpoint<Name> function`,
    );
  });

  it("leaves tracepoint-only scripts' probes as written", () => {
    const program = renderScript(script("envoy-event-loop"), { binary: ENVOY, pid: 3, table: table({}, { stripped: true }), byAddress: true, intervalSeconds: 1 });
    expect(attachLines(program)).toEqual([
      "tracepoint:syscalls:sys_exit_epoll_*wait /pid == 3 && args->ret >= 0/",
      "tracepoint:syscalls:sys_enter_epoll_*wait /pid == 3 && @_woke[tid] != 0/",
      "interval:s:1",
      "END",
    ]);
  });
});
