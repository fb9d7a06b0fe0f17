import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { lostUpdateReason, programSites, type UpdateSite } from "../../../src/agent/output/update-site.js";

/** The site at one line and column of a program seen once. */
const updateSite = (program: string, line: number, col: number): UpdateSite | null => programSites(program)(line, col);

/** 1-based line and column of the first `needle` in `text`, as bpftrace reports a statement's call. */
function lineCol(text: string, needle: string): [number, number] {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${needle} not in the text`);
  const before = text.slice(0, at);
  return [before.split("\n").length, at - before.lastIndexOf("\n")];
}

describe("updateSite: the map and key of the statement a failed map update names", () => {
  it("names each phase of envoy-request-flow by its literal key", () => {
    const program = readFileSync(new URL("../../../bpf/envoy-request-flow.bt", import.meta.url), "utf8");
    for (const phase of ["read_to_dispatch", "dispatch_to_filters", "filters_to_router", "dispatch_to_router", "router_to_upstream", "read_to_upstream", "response_to_write"]) {
      const stmt = `@request_phase_ns["${phase}"] = `;
      const [line, col] = lineCol(program, stmt);
      // The column of `hist(`, where bpftrace points.
      expect(updateSite(program, line, col + stmt.length), phase).toEqual({ map: "@request_phase_ns", key: phase });
    }
  });

  it("reads the column bpftrace 0.23.2 reported for a one-line program", () => {
    // bpftrace printed "stdin:1:77-84" under `count()` and {"line": 1, "col": 77} in JSON.
    const program = 'tracepoint:syscalls:sys_enter_getppid /comm == "loop"/ { @c[nsecs / 2000] = count(); @n = count(); } END { print(@n); }';
    expect(program.slice(76, 83)).toBe("count()");
    expect(updateSite(program, 1, 77)).toEqual({ map: "@c", key: null });
    expect(updateSite(program, 1, 94)).toEqual({ map: "@n", key: null });
  });

  it("joins literal key components with a comma, as bpftrace prints them", () => {
    const program = 'uprobe:/x:f {\n  @filter_ns["cors", "decodeHeaders"] = hist(nsecs - @_enter[tid, 3]);\n  @ = count();\n  @k["a\\"b", 1] = count();\n  @q["a\\"b;{"] = count();\n}\n';
    expect(updateSite(program, 2, 41)).toEqual({ map: "@filter_ns", key: "cors,decodeHeaders" });
    expect(updateSite(program, 3, 7)).toEqual({ map: "@", key: null });
    // A key with a component that is not a literal has no key to name.
    expect(updateSite(program, 4, 19)).toEqual({ map: "@k", key: null });
    // Quotes, `;` and `{` inside a literal are text, not structure.
    expect(updateSite(program, 5, 21)).toEqual({ map: "@q", key: 'a"b;{' });
  });

  it("finds the statement wherever the column points in it, and across lines, comments and a prepended config line", () => {
    const program = [
      'config = { missing_probes = "warn" }',
      "uprobe:/x:f {",
      "  // a comment; with { braces } and @fake[1] = 2;",
      "  @calls[\"a\"] =",
      "    count();",
      '  @k["a\\nb"] = count();',
      "}",
    ].join("\n");
    // At the map, at `=`, at the call on the next line.
    expect(updateSite(program, 4, 3)).toEqual({ map: "@calls", key: "a" });
    expect(updateSite(program, 4, 14)).toEqual({ map: "@calls", key: "a" });
    expect(updateSite(program, 5, 5)).toEqual({ map: "@calls", key: "a" });
    // A literal with an escape bpftrace decodes: no key is named rather than a wrong one.
    expect(updateSite(program, 6, 15)).toEqual({ map: "@k", key: null });
  });

  it("names the key as bpftrace prints it when its literal ends in NUL padding (hookpoint-pairs' longest name)", () => {
    const program = [
      "uprobe:/x:e {",
      '  @hookpoint_latency_ns["Http::ConnectionManagerImpl::ActiveStream::Decode\\0\\0\\0\\0\\0\\0"] = hist(1);',
      '  @m["a\\\\0"] = count();',
      '  @m["\\0a"] = count();',
      '  @m["a\\012"] = count();',
      "}",
    ].join("\n");
    expect(updateSite(program, 2, 3)).toEqual({ map: "@hookpoint_latency_ns", key: "Http::ConnectionManagerImpl::ActiveStream::Decode" });
    // An escaped backslash before a 0 is text.
    expect(updateSite(program, 3, 3)).toEqual({ map: "@m", key: "a\\0" });
    // A NUL that is not trailing padding, or an octal escape: no key rather than a wrong one.
    expect(updateSite(program, 4, 3)).toEqual({ map: "@m", key: null });
    expect(updateSite(program, 5, 3)).toEqual({ map: "@m", key: null });
  });

  it("names no site for a place that is not a map statement, or is not in the program", () => {
    const program = "BEGIN {\n  printf(\"x\\n\");\n}\n";
    expect(updateSite(program, 2, 3)).toBeNull();
    expect(updateSite(program, 9, 1)).toBeNull();
    expect(updateSite(program, 1, 80)).toBeNull();
    expect(updateSite(program, 0, 1)).toBeNull();
  });
});

describe("lostUpdateReason", () => {
  it("names the two reasons a map update fails", () => {
    expect(lostUpdateReason(-17)).toBe("concurrent-create");
    expect(lostUpdateReason(-7)).toBe("map-full");
    expect(lostUpdateReason(-12)).toBe("errno 12");
  });
});
