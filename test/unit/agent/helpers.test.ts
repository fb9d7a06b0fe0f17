import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Backoff } from "../../../src/backoff.js";
import { ATTACHED_MARKER, eventBufferPages, forBpftrace, parseBpftraceVersion, swapPidTid, versionAtLeast, withAttachedMarker } from "../../../src/agent/bpftrace/program.js";
import { RotatingFile } from "../../../src/agent/output/ndjson.js";
import { quantile, summarize } from "../../../src/agent/output/summary.js";
import { hostPidsFrom, parsePidLine, pidModeFrom } from "../../../src/agent/pidns.js";
import { decideReaper } from "../../../src/agent/reaper.js";
import { exitCodeOf } from "../../../src/agent/supervisor.js";

describe("withAttachedMarker", () => {
  it("adds the marker to an existing BEGIN block (bpftrace allows one)", () => {
    const prog = "// BEGIN in a comment\nBEGIN\n{\n  @x = 0;\n}\nuprobe:/b:0x10 { @c = count(); }\n";
    expect(withAttachedMarker(prog)).toBe(`// BEGIN in a comment\nBEGIN\n{ printf("${ATTACHED_MARKER}\\n");\n  @x = 0;\n}\nuprobe:/b:0x10 { @c = count(); }\n`);
  });
  it("appends a BEGIN block when there is none", () => {
    expect(withAttachedMarker('uprobe:/b:f { printf("BEGIN {"); }\n')).toBe(`uprobe:/b:f { printf("BEGIN {"); }\n\nBEGIN { printf("${ATTACHED_MARKER}\\n"); }\n`);
  });
});

describe("program helpers", () => {
  it("keeps a missing probe a warning on bpftrace 0.24 and newer, as it was before", () => {
    expect(forBpftrace("BEGIN {}\n", [0, 24, 0])).toBe('config = { missing_probes = "warn" }\nBEGIN {}\n');
    expect(forBpftrace("BEGIN {}\n", [0, 23, 2])).toBe("BEGIN {}\n");
    expect(forBpftrace("BEGIN {}\n", null)).toBe("BEGIN {}\n");
  });
  it("swaps the pid and tid builtins, and nothing else", () => {
    const prog = 'uprobe:/b:0x10 /pid == 42/ { @_s[tid] = nsecs; $pid = args->pid; @tid_count = count(); printf("pid %d", tid); } // pid';
    expect(swapPidTid(prog)).toBe('uprobe:/b:0x10 /tid == 42/ { @_s[pid] = nsecs; $pid = args->pid; @tid_count = count(); printf("pid %d", pid); } // pid');
  });
  it("tells what bpftrace's pid builtin reports from a non-main thread of the agent", () => {
    expect(pidModeFrom({ pid: 7, tid: 9 }, 7)).toBe("namespace");
    expect(pidModeFrom({ pid: 9, tid: 7 }, 7)).toBe("swapped");
    expect(pidModeFrom({ pid: 31337, tid: 31340 }, 7)).toBe("host");
  });
  it("reads and compares bpftrace versions", () => {
    expect(parseBpftraceVersion("bpftrace v0.17.0\n")).toEqual([0, 17, 0]);
    expect(parseBpftraceVersion("bpftrace v0.21.2-12-gabc")).toEqual([0, 21, 2]);
    expect(parseBpftraceVersion("nope")).toBeNull();
    expect(versionAtLeast([0, 17, 0], "0.17")).toBe(true);
    expect(versionAtLeast([0, 17, 0], "0.23")).toBe(false);
    expect(versionAtLeast([0, 23, 1], "0.23")).toBe(true);
    expect(versionAtLeast([1, 0, 0], "0.23.5")).toBe(true);
  });
  it("sizes bpftrace's event buffer per CPU before 0.23 and as one shared ring from 0.23", () => {
    expect(eventBufferPages([0, 17, 0])).toBe("1024");
    expect(eventBufferPages(null)).toBe("1024");
    expect(eventBufferPages([0, 23, 2])).toBe("4096");
  });
});

describe("Backoff", () => {
  it("doubles up to the cap and starts over after a healthy run", () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 5000, resetAfterMs: 60_000, jitter: false });
    expect([b.next(10), b.next(10), b.next(10), b.next(10), b.next(10)]).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(b.next(60_000)).toBe(1000);
    expect(b.next(0)).toBe(2000);
  });
});

describe("summaries", () => {
  it("estimates percentiles from buckets and keeps the map's unit", () => {
    const buckets = [{ min: 1024, max: 2047, count: 90 }, { min: 2048, max: 4095, count: 9 }, { min: 65536, max: 131071, count: 1 }];
    expect(quantile(buckets, 0.5)).toBe(2047);
    expect(quantile(buckets, 0.99)).toBe(4095);
    expect(quantile(buckets, 1)).toBe(131071);
    expect(summarize([
      { ts: "t", script: "p", map: "@lat", keys: ["Filters"], kind: "hist", unit: "ns", buckets, pid: 1 },
      { ts: "t", script: "p", map: "@calls", keys: [], kind: "count", unit: "count", value: 7, pid: 1 },
    ])).toEqual({ "p/lat[Filters]": { count: 100, unit: "ns", p50: 2047, p99: 4095, max: 131071 }, "p/calls": { value: 7, unit: "count" } });
  });
});

describe("host pid resolution", () => {
  it("finds our own host pid from the self-signal, then the target's from our own kill", () => {
    const lines = ["hookpoint-pid 9000 36 777", "hookpoint-pid 5000 24 5000", "hookpoint-pid 5000 36 11855"].map((l) => parsePidLine(`noise ${l}`)!);
    expect(hostPidsFrom(lines, 24, [36])).toEqual(new Map([[36, 11855]]));
    expect(hostPidsFrom(lines.slice(0, 1), 24, [36])).toBeNull();
    expect(parsePidLine("nothing")).toBeNull();
  });
});

describe("reaper and exit codes", () => {
  it("uses tini only where orphans would otherwise stay zombies", () => {
    expect(decideReaper("auto", 1, "/usr/bin/tini")).toEqual({ path: "/usr/bin/tini", note: "PID 1: command runs under tini (subreaper)", warn: false });
    expect(decideReaper("auto", 1, null).warn).toBe(true);
    expect(decideReaper("auto", 4242, "/usr/bin/tini").path).toBeNull();
    expect(decideReaper("tini", 4242, "/usr/bin/tini").path).toBe("/usr/bin/tini");
    expect(decideReaper("none", 1, "/usr/bin/tini")).toEqual({ path: null, note: "reaper disabled", warn: true });
  });
  it("turns a death by signal into 128 + the signal number", () => {
    expect(exitCodeOf(7, null, { SIGTERM: 15 })).toBe(7);
    expect(exitCodeOf(null, "SIGTERM", { SIGTERM: 15 })).toBe(143);
    expect(exitCodeOf(null, null, {})).toBe(1);
  });
});

describe("RotatingFile", () => {
  it("rotates at the size cap and keeps the configured number of old files", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-ndjson-"));
    try {
      const f = new RotatingFile({ dir, name: "s", maxBytes: 100, keep: 2 });
      for (let i = 0; i < 10; i++) f.write([{ i, pad: "x".repeat(30) }]);
      f.close();
      expect(readdirSync(dir).sort()).toEqual(["s.ndjson", "s.ndjson.1", "s.ndjson.2"]);
      const line = (i: number): string => JSON.stringify({ i, pad: "x".repeat(30) }) + "\n";
      expect(readFileSync(join(dir, "s.ndjson"), "utf8")).toBe(line(8) + line(9));
      expect(readFileSync(join(dir, "s.ndjson.1"), "utf8")).toBe(line(6) + line(7));
      expect(readFileSync(join(dir, "s.ndjson.2"), "utf8")).toBe(line(4) + line(5));
      // A new writer appends to the live file and knows its size.
      const g = new RotatingFile({ dir, name: "s", maxBytes: 100, keep: 2 });
      g.write([{ i: 10, pad: "x".repeat(30) }]);
      g.close();
      expect(readFileSync(join(dir, "s.ndjson.1"), "utf8")).toBe(line(8) + line(9));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("never writes through a symbolic link in place of its file: the batch is dropped with ELOOP", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-ndjson-"));
    try {
      writeFileSync(join(dir, "elsewhere"), "kept\n");
      symlinkSync(join(dir, "elsewhere"), join(dir, "s.ndjson"));
      const f = new RotatingFile({ dir, name: "s", maxBytes: 1000, keep: 2 });
      const r = f.write([{ i: 1 }, { i: 2 }]);
      f.close();
      expect([r.written, r.dropped, r.error?.code]).toEqual([0, 2, "ELOOP"]);
      expect(readFileSync(join(dir, "elsewhere"), "utf8")).toBe("kept\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
