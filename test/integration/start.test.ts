// `npm start` (scripts/start.sh) and signals: stopping npm stops the webhook it started.
// npm forwards SIGTERM only to its own child; the script execs down to the webhook, so
// that child is the webhook itself and nothing is left running.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { commandLine, freePort } from "../../scripts/cluster/processes.js";
import { ROOT, descendantsOf, waitFor } from "../bpf/agent/support.js";

const cmdline = (pid: number): string => commandLine(pid)?.join(" ") ?? "";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\S+\s+\S+\s+Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8").replace(/\(.*\)/, "x"));
  } catch {
    return false;
  }
}

describe("npm start", () => {
  it("stops the webhook when npm gets SIGTERM", async () => {
    const port = await freePort();
    const npm = spawn("npm", ["start", "--", "--port", String(port)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    npm.stdout.on("data", (d: Buffer) => (out += d.toString()));
    npm.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => npm.on("exit", (code) => r(code)));
    let webhook = 0;
    try {
      // The first run may build dist/ and make dev certificates.
      await waitFor("the webhook listening", 170_000, () => out.includes(`Server listening at https://127.0.0.1:${port}`), () => out.slice(-2000));
      webhook = await waitFor("the webhook process", 10_000, () => descendantsOf(npm.pid!).find((p) => cmdline(p).includes(" webhook ")));
      npm.kill("SIGTERM");
      await exited;
      await waitFor("the webhook gone", 15_000, () => !alive(webhook), () => out.slice(-2000));
      expect(alive(webhook)).toBe(false);
      expect(out).toContain('"signal":"SIGTERM"');
    } finally {
      if (npm.exitCode === null) npm.kill("SIGKILL");
      if (webhook && alive(webhook)) process.kill(webhook, "SIGKILL");
    }
  }, 200_000);
});
