import { describe, expect, it } from "vitest";
import { parseBundledScript } from "../../../src/catalog/catalog.js";
import { ScriptFileError } from "../../../src/catalog/header.js";

// A small valid script: one required probe, one optional one, a tracepoint, a flush.
const HEADER = `/* hookpoint
name: demo
purpose: Demo.
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
  - name: "@reads"
    kind: count
    unit: count
    metric: demo_reads
    meaning: reads
minBpftrace: "0.17"
default: false
*/`;
const BODY = `
BEGIN
{
  @_opt[tid] = nsecs;
  delete(@_opt[tid]);
}

uprobe:{{BINARY}}:_ZN4Demo3runEv /pid == {{PID}}/
{
  @calls[comm] = count();
  @_t[tid] = nsecs;
}

// optional: only where the binary has it
uprobe:{{BINARY}}:_ZN4Demo4stopEv /pid == {{PID}} && @_t[tid] != 0/
{
  @_opt[tid] = nsecs;
}

tracepoint:syscalls:sys_enter_read /pid == {{PID}}/
{
  @reads = count();
}

interval:s:{{INTERVAL}}
{
  print(@calls);
  print(@reads);
}

END
{
  clear(@_t);
  clear(@_opt);
}
`;
const GOOD = HEADER + BODY;
const FILE = "bpf/demo.bt";

function problem(text: string): string {
  try {
    parseBundledScript(text, FILE);
  } catch (err) {
    if (err instanceof ScriptFileError) return err.message;
    throw err;
  }
  return "no problem";
}

describe("script lint", () => {
  it("accepts the well-formed script", () => {
    expect(problem(GOOD)).toBe("no problem");
  });

  it.each([
    ["a uprobe without the pid filter", GOOD.replace("_ZN4Demo3runEv /pid == {{PID}}/", "_ZN4Demo3runEv"),
      "bpf/demo.bt:28: probe uprobe:{{BINARY}}:_ZN4Demo3runEv must filter on \"pid == {{PID}}\" (uprobes and tracepoints fire for every process)"],
    ["a printf per event", GOOD.replace("  @reads = count();", '  @reads = count();\n  printf("read\\n");'),
      "bpf/demo.bt:40: probe tracepoint:syscalls:sys_enter_read calls printf() per event; aggregate in maps and print them on \"interval:s:{{INTERVAL}}\" (a script that prints sampled events declares them under \"events\")"],
    ["a cpp: probe", GOOD.replace("uprobe:{{BINARY}}:_ZN4Demo4stopEv", "uprobe:{{BINARY}}:cpp:Demo::stop"),
      "bpf/demo.bt:35: \"uprobe:{{BINARY}}:cpp:Demo::stop\": probe by mangled name, glob or address, never \"cpp:\" (bpftrace 0.17 lacks it)"],
    ["a uprobe on a fixed path", GOOD.replace("uprobe:{{BINARY}}:_ZN4Demo4stopEv", "uprobe:/usr/local/bin/envoy:_ZN4Demo4stopEv"),
      "bpf/demo.bt:35: \"uprobe:/usr/local/bin/envoy:_ZN4Demo4stopEv\": a uprobe must target the traced binary as \"uprobe:{{BINARY}}:SYMBOL\""],
    ["a tracepoint missing from requires", GOOD.replace("sys_enter_read /pid", "sys_enter_write /pid"),
      "bpf/demo.bt:40: \"tracepoint:syscalls:sys_enter_write\" is not listed in the header's requires"],
    ["a requirement no probe uses", GOOD.replace("  - _ZN4Demo3runEv\n", "  - _ZN4Demo3runEv\n  - _ZN4Demo5resetEv\n"),
      "bpf/demo.bt: requires \"_ZN4Demo5resetEv\" but no \"uprobe:{{BINARY}}:_ZN4Demo5resetEv\" probe uses it"],
    ["an output map the header does not list", GOOD.replace("  @calls[comm] = count();", "  @calls[comm] = count();\n  @extra = count();"),
      "bpf/demo.bt: @extra is output (no \"@_\" prefix) but the header does not list it; state maps start with \"@_\""],
    ["a listed map the program never uses", GOOD.replace("minBpftrace", '  - name: "@gone"\n    kind: sum\n    unit: bytes\n    metric: demo_gone\n    meaning: gone\nminBpftrace'),
      "bpf/demo.bt: header lists @gone but the program never uses it"],
    ["keys that do not match the map's use", GOOD.replace("@calls[comm] = count();", "@calls[comm, tid] = count();"),
      "bpf/demo.bt: @calls is used with 2 key component(s) but the header's keys has 1 (thread)"],
    ["a map the flush does not print", GOOD.replace("  print(@reads);\n", ""),
      "bpf/demo.bt:45: the flush block must print(@reads)"],
    ["an output map cleared after printing", GOOD.replace("  print(@reads);\n", "  print(@reads);\n  clear(@reads);\n"),
      "bpf/demo.bt:45: @reads is an output map: keep its running total (no clear, zero or delete); the agent computes each interval from the difference"],
    ["an output map entry deleted", GOOD.replace("  @calls[comm] = count();\n", "  @calls[comm] = count();\n  delete(@calls[comm]);\n"),
      "bpf/demo.bt:28: @calls is an output map: keep its running total (no clear, zero or delete); the agent computes each interval from the difference"],
    ["an aggregation that does not fit the map's kind", GOOD.replace("@reads = count();", "@reads = sum(args->count);"),
      "bpf/demo.bt:42: @reads is a count map: assign it with count()"],
    ["a state map left for the exit dump", GOOD.replace("  clear(@_t);\n", ""),
      "bpf/demo.bt: state map @_t must be cleared in an END block, or bpftrace prints it at exit"],
    ["a map only an optional probe assigns", GOOD.replace("  @_opt[tid] = nsecs;\n  delete(@_opt[tid]);\n", ""),
      "bpf/demo.bt: @_opt is only assigned in optional probes; assign it in BEGIN too, or bpftrace rejects the program when they are left out"],
    ["no flush block", GOOD.replace("interval:s:{{INTERVAL}}", "END"),
      "bpf/demo.bt: no \"interval:s:{{INTERVAL}}\" block flushes the maps"],
    ["a fixed flush interval", GOOD.replace("interval:s:{{INTERVAL}}", "interval:s:5"),
      "bpf/demo.bt:45: \"interval:s:5\": flush on \"interval:s:{{INTERVAL}}\" so the agent sets the interval"],
    ["an unknown placeholder", GOOD.replace("/pid == {{PID}}/\n{\n  @reads", "/pid == {{TID}}/\n{\n  @reads"),
      "bpf/demo.bt: unknown placeholder {{TID}} (known: {{BINARY}}, {{PID}}, {{INTERVAL}}, {{TRACE_SAMPLE}}, {{TRACE_RATE}})"],
    ["an unclosed action", GOOD.replace("END\n{\n  clear(@_t);", "END\n{\n  {clear(@_t);"),
      "bpf/demo.bt:52: probe action is not closed with \"}\""],
    ["text that is not a probe", GOOD + "\nstray text\n", "bpf/demo.bt:57: expected a probe block, found \"stray text\" without \"{\""],
  ])("rejects %s, naming file, line and rule", (_what, text, message) => {
    expect(problem(text)).toBe(message);
  });

  describe("a script that prints sampled events", () => {
    // The demo prints one declared event line per read, and an optional probe runs beside another script.
    const EVENTS = GOOD.replace(
      'minBpftrace: "0.17"',
      'events:\n  - tag: R\n    fields: [tid, ts]\n    meaning: a read\nwith:\n  demo-other:\n    - _ZN4Demo4stopEv\nminBpftrace: "0.17"',
    ).replace("  @reads = count();", '  @reads = count();\n  printf("R %d %lu\\n", tid, nsecs);');

    it("accepts printf of declared event lines, and optional probes listed under with", () => {
      expect(problem(EVENTS)).toBe("no problem");
    });

    it.each([
      ["an undeclared event", EVENTS.replace('printf("R %d', 'printf("X %d'), 'bpf/demo.bt:50: probe tracepoint:syscalls:sys_enter_read prints "X ...", which the header\'s events do not declare (declared: R)'],
      ["too few fields", EVENTS.replace('printf("R %d %lu\\n", tid, nsecs)', 'printf("R %d\\n", tid)'), "bpf/demo.bt:50: probe tracepoint:syscalls:sys_enter_read: event \"R\" has 1 field(s) but the header declares 2 (tid, ts)"],
      ["a line without its newline", EVENTS.replace('%lu\\n", tid', '%lu", tid'), 'bpf/demo.bt:50: probe tracepoint:syscalls:sys_enter_read: an event line ends with "\\n", got "R %d %lu"'],
      ["a format that is not a literal", EVENTS.replace('printf("R %d %lu\\n", tid, nsecs)', "printf($fmt, tid)"), "bpf/demo.bt:50: probe tracepoint:syscalls:sys_enter_read: printf's format must be a string literal (one declared event line)"],
      ["a declared event nothing prints", EVENTS.replace("    meaning: a read\n", "    meaning: a read\n  - tag: S\n    fields: [tid]\n    meaning: never\n"), 'bpf/demo.bt: header lists event "S" but no probe prints it'],
      ["a with probe the program lacks", EVENTS.replace("    - _ZN4Demo4stopEv\n", "    - _ZN4Demo4waitEv\n"), 'bpf/demo.bt: with.demo-other lists "_ZN4Demo4waitEv" but no "uprobe:{{BINARY}}:_ZN4Demo4waitEv" probe uses it'],
      ["a with probe that requires lists", EVENTS.replace("    - _ZN4Demo4stopEv\n", "    - _ZN4Demo3runEv\n"), "bpf/demo.bt: with.demo-other lists \"_ZN4Demo3runEv\", which requires also lists: a probe that runs only beside demo-other must be optional"],
    ])("rejects %s, naming file, line and rule", (_what, text, message) => {
      expect(problem(text)).toBe(message);
    });
  });

  it("ignores braces, slashes and map names inside comments and strings", () => {
    const text = GOOD.replace("// optional: only where the binary has it", '// optional { @nothing } / here\n/* { "@x" } */').replace(
      "BEGIN\n{\n",
      'BEGIN\n{\n  $s = "} @fake {";\n',
    );
    expect(problem(text)).toBe("no problem");
  });
});
