// The agent with its output directory on a small tmpfs that fills up: the proxy serves
// on, /metrics goes on counting (and counts the dropped records), /status shows the write
// errors, the log says it once, no NDJSON line is torn, and writing resumes with space.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURE, bpfSkipReason, load, startAgent, waitFor } from "./support.js";

const skip = bpfSkipReason();

function metric(text: string, line: RegExp): number {
  const m = line.exec(text);
  return m ? Number(m[1]) : NaN;
}

describe("hookpoint agent when its output directory is full", () => {
  it("drops whole records, counts them, says so once, serves /metrics, and resumes", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-disk-"));
    chmodSync(dir, 0o777);
    const out = join(dir, "out");
    mkdirSync(out);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", out]);
    const portFile = join(dir, "port");
    const agent = startAgent(["--output", out, "--interval", "1", "--scripts", "hookpoint-pairs"], [FIXTURE.pilotAgent, "--", "--port-file", portFile]);
    try {
      await waitFor("hookpoint-pairs running", 90_000, async () => agent.port !== null && (await agent.status()).scripts.find((s) => s.name === "hookpoint-pairs")?.state === "running", () => agent.logText());
      const port = await waitFor("the fixture's port", 10_000, () => Number(readFileSync(portFile, "utf8").trim()) || undefined);
      // Leave one page free: the next interval's records do not fit.
      const fs = statfsSync(out);
      writeFileSync(join(out, "filler"), Buffer.alloc(Number(fs.bavail) * Number(fs.bsize) - 4096));
      let sent = 0;
      const status = await waitFor("a write error in /status", 60_000, async () => {
        expect(await load(port, 50, 2)).toBe(50);
        sent += 50;
        const s = (await agent.status()).scripts.find((x) => x.name === "hookpoint-pairs")!;
        return s.writeErrors > 0 && s.recordsDropped > 0 ? s : undefined;
      }, () => agent.logText());
      // A nearly full disk can take a small batch now and then: the last error may have
      // been cleared by a write that fitted, but when it happened and what it was stay.
      expect(status.lastWriteErrorAt).not.toBeNull();
      if (status.lastWriteError !== null) expect(status.lastWriteError).toMatch(/^ENOSPC: /);
      expect(status.state).toBe("running");
      // /metrics still serves, counts every call (metrics do not need the disk), and the drops.
      await new Promise((r) => setTimeout(r, 2200));
      const metrics = await agent.metrics();
      expect(metric(metrics, /^hookpoint_calls_total\{function="RequestSeen"\} (\d+)$/m)).toBe(sent);
      expect(metric(metrics, /^hookpoint_agent_script_records_dropped_total\{script="hookpoint-pairs"\} (\d+)$/m)).toBeGreaterThan(0);
      expect(metric(metrics, /^hookpoint_agent_script_write_errors_total\{script="hookpoint-pairs"\} (\d+)$/m)).toBeGreaterThan(0);
      // Every line on disk is a whole record.
      const text = readFileSync(join(out, "hookpoint-pairs.ndjson"), "utf8");
      expect(text.endsWith("\n")).toBe(true);
      for (const l of text.split("\n").filter(Boolean)) expect(() => JSON.parse(l), l).not.toThrow();
      // Said once, though it fails every second (or fails and recovers in turns).
      expect(agent.logs.filter((l) => typeof l.msg === "string" && l.msg.startsWith("cannot write records")).length).toBe(1);
      expect(agent.logs.find((l) => typeof l.msg === "string" && l.msg.startsWith("cannot write records"))).toMatchObject({ script: "hookpoint-pairs", code: "ENOSPC" });
      // Space again: records are written again, and /status says so.
      rmSync(join(out, "filler"));
      const after = await waitFor("records written again", 20_000, async () => {
        expect(await load(port, 20, 2)).toBe(20);
        const s = (await agent.status()).scripts.find((x) => x.name === "hookpoint-pairs")!;
        return s.lastWriteError === null && s.records > status.records ? s : undefined;
      }, () => agent.logText());
      expect(after.state).toBe("running");
      expect(agent.logs.some((l) => l.msg === "writing records again")).toBe(true);
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      expect(readdirSync(out).filter((f) => f.endsWith(".ndjson"))).toEqual(["hookpoint-pairs.ndjson"]);
    } finally {
      agent.kill();
      await agent.exited.catch(() => undefined);
      execFileSync("umount", ["-l", out]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
