import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../src/catalog/catalog.js";
import { checkAll, checkJson, checkText, listJson, listText } from "../../../src/catalog/format.js";
import { ENVOY, HOOKPOINTS, MEMBER_HOOKPOINTS, STOCK, table } from "./tables.js";

describe("scripts list and check output", async () => {
  const catalog = await loadCatalog();

  it("lists each script with its purpose, needs and maps", () => {
    const text = listText(catalog);
    expect(text).toContain(
      [
        "envoy-socket-io  bpftrace >= 0.17",
        "  Envoy's read/readv/recvfrom and write/writev/sendto system calls - bytes per call, call latency and total bytes, by direction.",
        "  needs: tracepoint:syscalls:sys_enter_read, tracepoint:syscalls:sys_enter_readv, tracepoint:syscalls:sys_enter_recvfrom, tracepoint:syscalls:sys_enter_write, tracepoint:syscalls:sys_enter_writev, tracepoint:syscalls:sys_enter_sendto, tracepoint:syscalls:sys_exit_read, tracepoint:syscalls:sys_exit_readv, tracepoint:syscalls:sys_exit_recvfrom, tracepoint:syscalls:sys_exit_write, tracepoint:syscalls:sys_exit_writev, tracepoint:syscalls:sys_exit_sendto",
        "  @io_bytes[direction]        hist, bytes   bytes moved per successful call (direction read or write; 0 is end of file)",
        "  @io_latency_ns[direction]   hist, ns      time spent in each call, failed ones included",
        "  @io_bytes_total[direction]  sum, bytes    bytes moved in the interval",
        "  @io_errors[direction]       count, count  calls that failed (mostly EAGAIN at the end of a non-blocking read or write)",
        "",
      ].join("\n"),
    );
    expect(text.match(/^\S.*$/gm)).toEqual([
      "envoy-event-loop (default)  bpftrace >= 0.17",
      "envoy-filter-chain  bpftrace >= 0.17",
      "envoy-http-filters  bpftrace >= 0.17",
      "envoy-request-flow (default)  bpftrace >= 0.17",
      "envoy-request-trace  bpftrace >= 0.17",
      "envoy-socket-io  bpftrace >= 0.17",
      "hookpoint-pairs (default)  bpftrace >= 0.17",
    ]);
  });

  it("lists as JSON: the headers themselves", () => {
    expect(JSON.parse(listJson(catalog))).toEqual(catalog.map((s) => s.header));
  });

  it("checks a stock binary: what runs, and what each other script lacks", () => {
    const t = table(STOCK);
    const checks = checkAll(catalog, t);
    expect(checkText(t, checks)).toBe(
      [
        `${ENVOY}: 6 function symbols, build-id 0123456789abcdef0123456789abcdef01234567`,
        "ok       envoy-event-loop",
        `missing  envoy-filter-chain   ${ENVOY} lacks symbols hookpointFiltersStart, hookpointFiltersEnd`,
        `missing  envoy-http-filters   ${ENVOY} lacks symbol one of _ZN5Envoy10Extensions11HttpFilters*13decodeHeadersERNS_4Http16RequestHeaderMapEb or _ZN5Envoy10Extensions11HttpFilters*10decodeDataERNS_6Buffer8InstanceEb or _ZN5Envoy10Extensions11HttpFilters*13encodeHeadersERNS_4Http17ResponseHeaderMapEb or _ZN5Envoy10Extensions11HttpFilters*10encodeDataERNS_6Buffer8InstanceEb`,
        "ok       envoy-request-flow",
        `missing  envoy-request-trace  ${ENVOY} lacks symbols _ZN5Envoy4Http5Http214ConnectionImpl8dispatchERNS_6Buffer8InstanceE, _ZN5Envoy4Http13FilterManager10decodeDataEPNS0_25ActiveStreamDecoderFilterERNS_6Buffer8InstanceEbNS1_25FilterIterationStartStateE, _ZN5Envoy4Http13FilterManager13encodeHeadersEPNS0_25ActiveStreamEncoderFilterERNS0_17ResponseHeaderMapEb and 8 more`,
        "ok       envoy-socket-io",
        `missing  hookpoint-pairs      ${ENVOY} has no hookpoint<Name> function (a modified Envoy exports e.g. hookpointFiltersStart/hookpointFiltersEnd)`,
        "",
      ].join("\n"),
    );
  });

  it("checks a modified binary as JSON, with the pairs and counters it would trace", () => {
    const t = table({ ...STOCK, ...HOOKPOINTS });
    const doc = JSON.parse(checkJson(t, checkAll(catalog, t)));
    expect(doc.binary).toBe(ENVOY);
    expect(doc.stripped).toBe(false);
    expect(doc.functionSymbols).toBe(11);
    expect(doc.scripts).toEqual([
      { name: "envoy-event-loop", ok: true },
      { name: "envoy-filter-chain", ok: true },
      { name: "envoy-http-filters", ok: false, reason: "missing-symbol", missing: [expect.stringContaining("HttpFilters")], message: expect.stringContaining("lacks symbol one of") },
      { name: "envoy-request-flow", ok: true },
      { name: "envoy-request-trace", ok: false, reason: "missing-symbol", missing: expect.any(Array), message: expect.stringContaining("and 8 more") },
      { name: "envoy-socket-io", ok: true },
      { name: "hookpoint-pairs", ok: true, pairs: ["CodecParse", "Filters"], counters: ["RequestSeen"] },
    ]);
  });

  it("checks a binary with C++ member hookpoints: their pairs by class, and what it leaves out and why", () => {
    const t = table({ ...HOOKPOINTS, ...MEMBER_HOOKPOINTS, _ZN5Envoy1A17hookpointTplStartIiEEvT_: 0x6000 });
    const pairs = checkAll(catalog, t).filter((c) => c.name === "hookpoint-pairs");
    expect(checkText(t, pairs).split("\n").slice(1)).toEqual([
      "ok       hookpoint-pairs  5 pairs (CodecParse, Filters, Http::ConnectionManagerImpl::ActiveStream::Decode, Router::Filter::Route, Router::UpstreamRequest::Upstream), 2 counters (Http::FilterManager::RequestSeen, RequestSeen)",
      "                          warning: _ZN5Envoy1A17hookpointTplStartIiEEvT_: left out: function templates are not supported",
      "",
    ]);
    expect(JSON.parse(checkJson(t, pairs)).scripts[0].warnings).toEqual(["_ZN5Envoy1A17hookpointTplStartIiEEvT_: left out: function templates are not supported"]);
  });
});
