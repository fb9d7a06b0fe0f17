// Finding Envoy among the descendants of the command, on real processes (the fixture's
// pilot-agent starting the fixture's envoy).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findEnvoy } from "../../../src/agent/proc/envoy.js";
import { readSubtree } from "../../../src/agent/proc/scan.js";
import { FIXTURE, fixtureSkipReason, waitFor } from "../../bpf/agent/support.js";

/** The thread names of a process (Envoy's workers are `wrk:worker_N`). */
async function threadNames(pid: number, procRoot = "/proc"): Promise<string[]> {
  try {
    const tids = await readdir(`${procRoot}/${pid}/task`);
    const names = await Promise.all(tids.map((t) => readFile(`${procRoot}/${pid}/task/${t}/comm`, "latin1").then((s) => s.trim(), () => "")));
    return names.filter(Boolean);
  } catch {
    return [];
  }
}

const skip = fixtureSkipReason();
let child: ChildProcess | null = null;
let dir = "";
afterEach(async () => {
  // SIGTERM: pilot-agent passes it to its Envoy and exits; a SIGKILL would leave Envoy running.
  if (child?.pid && child.exitCode === null) {
    const c = child;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Envoy discovery", () => {
  it("finds the fixture Envoy below pilot-agent, with its worker threads, and notices its successor", async (ctx) => {
    if (skip) return ctx.skip(skip);
    dir = mkdtempSync(join(tmpdir(), "hookpoint-disc-"));
    child = spawn(FIXTURE.pilotAgent, ["proxy", "sidecar", "--restart", "--restart-delay-ms", "100", "--", "--port-file", join(dir, "port"), "--concurrency", "3"], { stdio: "ignore" });
    const root = child.pid!;
    const envoy = await waitFor("envoy below pilot-agent", 10_000, async () => findEnvoy(await readSubtree(root), root, ["envoy"]) ?? undefined);
    expect(envoy.ppid).toBe(root);
    expect(envoy.exe).toBe(FIXTURE.envoy);
    expect(envoy.comm).toBe("envoy");
    await waitFor("the port file", 10_000, () => {
      try {
        return readFileSync(join(dir, "port"), "utf8").length > 0;
      } catch {
        return false;
      }
    });
    expect((await threadNames(envoy.pid)).sort()).toEqual(["envoy", "wrk:worker_0", "wrk:worker_1", "wrk:worker_2"]);
    // pilot-agent itself is not Envoy, and nothing is found from an unrelated root.
    expect(findEnvoy(await readSubtree(process.pid), process.pid, ["pilot-agent"])?.pid).toBe(root);
    process.kill(envoy.pid, "SIGKILL");
    const next = await waitFor("the restarted envoy", 10_000, async () => {
      const e = findEnvoy(await readSubtree(root), root, ["envoy"]);
      return e && e.pid !== envoy.pid ? e : undefined;
    });
    expect(next.ppid).toBe(root);
  });
});
