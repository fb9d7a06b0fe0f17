import { describe, expect, it } from "vitest";
import { formatHeaderComment, parseScriptFile, ScriptFileError } from "../../../src/catalog/header.js";

const GOOD = `/* hookpoint
name: demo-script
purpose: Counts demo calls.
requires:
  - _ZN4Demo3runEv
  - tracepoint:syscalls:sys_enter_read
maps:
  - name: "@calls"
    kind: count
    unit: count
    metric: demo_calls
    keys: [thread]
    meaning: calls per thread
minBpftrace: "0.17"
default: false
*/
uprobe:{{BINARY}}:_ZN4Demo3runEv /pid == {{PID}}/ { @calls[comm] = count(); }
`;

function problem(text: string): { line: number | null; message: string } {
  try {
    parseScriptFile(text, "bpf/demo-script.bt");
  } catch (err) {
    if (err instanceof ScriptFileError) return { line: err.line, message: err.message };
    throw err;
  }
  throw new Error("expected a ScriptFileError");
}

describe("script header", () => {
  it("parses every field and keeps the program after the comment", () => {
    const parsed = parseScriptFile(GOOD, "bpf/demo-script.bt");
    expect(parsed.header).toEqual({
      name: "demo-script",
      purpose: "Counts demo calls.",
      requires: ["_ZN4Demo3runEv", "tracepoint:syscalls:sys_enter_read"],
      maps: [{ name: "@calls", kind: "count", unit: "count", metric: "demo_calls", keys: ["thread"], meaning: "calls per thread" }],
      minBpftrace: "0.17",
      default: false,
    });
    expect(parsed.bodyLine).toBe(16); // the body starts with the newline that ends "*/"
    expect(parsed.body).toBe("\nuprobe:{{BINARY}}:_ZN4Demo3runEv /pid == {{PID}}/ { @calls[comm] = count(); }\n");
  });

  it("gives a map without keys an empty key list", () => {
    const parsed = parseScriptFile(GOOD.replace("    keys: [thread]\n", ""), "bpf/demo-script.bt");
    expect(parsed.header.maps[0]?.keys).toEqual([]);
  });

  it("reads the event lines and with-probes of a per-event script, and writes them back", () => {
    const text = GOOD.replace("minBpftrace", "events:\n  - tag: Q\n    fields: [tid, ts]\n    meaning: a request\nwith:\n  other-script:\n    - _ZN4Demo4stopEv\nminBpftrace");
    const { header } = parseScriptFile(text, "bpf/demo-script.bt");
    expect(header.events).toEqual([{ tag: "Q", fields: ["tid", "ts"], meaning: "a request" }]);
    expect(header.with).toEqual({ "other-script": ["_ZN4Demo4stopEv"] });
    expect(parseScriptFile(formatHeaderComment(header) + "BEGIN {}\n", "bpf/demo-script.bt").header).toEqual(header);
  });

  it("round-trips through formatHeaderComment", () => {
    const { header } = parseScriptFile(GOOD, "bpf/demo-script.bt");
    const again = parseScriptFile(formatHeaderComment(header) + "BEGIN {}\n", "bpf/demo-script.bt");
    expect(again.header).toEqual(header);
  });

  it.each([
    ["no header comment", "BEGIN {}\n", 1, "bpf/demo-script.bt:1: expected the header comment to open the file with a line \"/* hookpoint\""],
    ["an unclosed comment", "/* hookpoint\nname: x\n", 1, "bpf/demo-script.bt:1: header comment is not closed: expected a line \"*/\""],
    ["a missing field", GOOD.replace("purpose: Counts demo calls.\n", ""), 2, "bpf/demo-script.bt:2: header: purpose: is missing"],
    ["a bad unit", GOOD.replace("unit: count", "unit: ms"), 10, "bpf/demo-script.bt:10: header: maps[0].unit: expected one of ns, us, bytes, count, events, got \"ms\""],
    ["a bad kind", GOOD.replace("kind: count", "kind: histogram"), 9, "bpf/demo-script.bt:9: header: maps[0].kind: expected one of hist, count, sum, avg, stats, value, got \"histogram\""],
    ["an unquoted version", GOOD.replace('minBpftrace: "0.17"', "minBpftrace: 0.20"), 14, "bpf/demo-script.bt:14: header: minBpftrace: write the version as a quoted string, e.g. \"0.17\" (a bare 0.20 is a number)"],
    ["a bad version", GOOD.replace('minBpftrace: "0.17"', 'minBpftrace: "latest"'), 14, "bpf/demo-script.bt:14: header: minBpftrace: \"latest\" is not a version like \"0.17\" or \"0.20.1\""],
    ["an unknown field", GOOD.replace("default: false", "default: false\nauthor: me"), 16, "bpf/demo-script.bt:16: header: author: unknown field \"author\" (expected name, purpose, requires, maps, events, with, minBpftrace, default)"],
    ["a bad map name", GOOD.replace('name: "@calls"', 'name: "calls"'), 8, "bpf/demo-script.bt:8: header: maps[0].name: \"calls\" is not a bpftrace map name like \"@latency_ns\""],
    ["a state map listed as output", GOOD.replace('name: "@calls"', 'name: "@_calls"'), 8, "bpf/demo-script.bt:8: header: maps[0].name: \"@_calls\" is not a bpftrace map name like \"@latency_ns\""],
    ["a non-boolean default", GOOD.replace("default: false", "default: maybe"), 15, "bpf/demo-script.bt:15: header: default: must be true or false"],
    ["a two-line purpose", GOOD.replace("purpose: Counts demo calls.", "purpose: |\n  one\n  two"), 3, "bpf/demo-script.bt:3: header: purpose: must be one line"],
    ["a cpp: requirement", GOOD.replace("  - _ZN4Demo3runEv", "  - cpp:Demo::run"), 5, "bpf/demo-script.bt:5: header: requires[0]: \"cpp:Demo::run\": list the ELF symbol itself (mangled name or glob), without a probe type"],
    ["a bad script name", GOOD.replace("name: demo-script", "name: Demo_Script"), 2, "bpf/demo-script.bt:2: header: name: \"Demo_Script\" is not a script name (lower-case words joined by \"-\")"],
    ["invalid YAML", GOOD.replace("keys: [thread]", "keys: [thread"), 13, "bpf/demo-script.bt:13: header is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]"],
    ["a duplicate map", GOOD.replace("minBpftrace", '  - name: "@calls"\n    kind: count\n    unit: count\n    metric: other\n    meaning: again\nminBpftrace'), 14, "bpf/demo-script.bt:14: header: maps[1].name: @calls is listed twice"],
    ["a missing metric", GOOD.replace("    metric: demo_calls\n", ""), 8, "bpf/demo-script.bt:8: header: maps[0].metric: is missing"],
    ["a metric with the unit suffix", GOOD.replace("metric: demo_calls", "metric: demo_calls_total"), 11, "bpf/demo-script.bt:11: header: maps[0].metric: \"demo_calls_total\": leave out the unit or type suffix; the agent adds it from unit and kind"],
    ["a metric with the hookpoint prefix", GOOD.replace("metric: demo_calls", "metric: hookpoint_demo_calls"), 11, "bpf/demo-script.bt:11: header: maps[0].metric: \"hookpoint_demo_calls\": leave out the prefix; the agent adds \"hookpoint_\""],
    ["a metric in the agent's own namespace", GOOD.replace("metric: demo_calls", "metric: agent_calls"), 11, "bpf/demo-script.bt:11: header: maps[0].metric: \"agent_calls\": hookpoint_agent_* are the agent's own series"],
    ["a metric that is not snake_case", GOOD.replace("metric: demo_calls", "metric: demoCalls"), 11, "bpf/demo-script.bt:11: header: maps[0].metric: \"demoCalls\" is not a metric name (lower_snake_case)"],
    ["a metric used twice", GOOD.replace("minBpftrace", '  - name: "@more"\n    kind: count\n    unit: count\n    metric: demo_calls\n    meaning: again\nminBpftrace'), 17, "bpf/demo-script.bt:17: header: maps[1].metric: demo_calls is used by two maps"],
    ["an event with a bad tag", GOOD.replace("minBpftrace", "events:\n  - tag: 9\n    fields: [tid]\n    meaning: x\nminBpftrace"), 15, 'bpf/demo-script.bt:15: header: events[0].tag: must be a non-empty string'],
    ["an event tag listed twice", GOOD.replace("minBpftrace", "events:\n  - tag: Q\n    fields: [tid]\n    meaning: x\n  - tag: Q\n    fields: [tid]\n    meaning: y\nminBpftrace"), 18, 'bpf/demo-script.bt:18: header: events[1].tag: event tag "Q" is listed twice'],
    ["an event field that is not a name", GOOD.replace("minBpftrace", "events:\n  - tag: Q\n    fields: [tid, Time]\n    meaning: x\nminBpftrace"), 16, 'bpf/demo-script.bt:16: header: events[0].fields[1]: "Time" is not a field name (lower_snake_case)'],
    ["an event without fields", GOOD.replace("minBpftrace", "events:\n  - tag: Q\n    fields: []\n    meaning: x\nminBpftrace"), 16, "bpf/demo-script.bt:16: header: events[0].fields: must name at least one field"],
    ["with naming the script itself", GOOD.replace("minBpftrace", "with:\n  demo-script:\n    - _ZN4Demo3runEv\nminBpftrace"), 16, 'bpf/demo-script.bt:16: header: with.demo-script: "demo-script" is not another script\'s name'],
  ])("rejects %s with the file, line and field", (_what, text, line, message) => {
    expect(problem(text)).toEqual({ line, message });
  });
});
