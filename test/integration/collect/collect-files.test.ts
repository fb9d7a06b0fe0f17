// The files `collect` keeps in its folder (manifest.json, each pod's .collect-state.json and
// programs): replaced whole through the shared writer, keeping their mode, and a file that
// cannot be written is named in words with nothing left behind; runs into the same folder
// keep the earlier pods whose records are still there in the manifest.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, type CollectPod } from "../../../src/collect/collect.js";
import type { Manifest } from "../../../src/collect/manifest.js";
import { formatBytes, podLines } from "../../../src/collect/progress.js";
import type { AgentTransport } from "../../../src/collect/transport.js";
import { agentStatus, traceStatus } from "../../support/agent-status.js";
import { serveRecords } from "../../support/records-agent.js";
import { loadResults } from "../../../src/report/load.js";
import { writeRecords } from "../../support/records.js";

const T0 = Date.parse("2026-03-01T10:00:00.000Z");
let root: string;
let agent: FastifyInstance;
let transport: AgentTransport;
let agentDir: string;
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();
const noTrace = () => agentStatus(4242, [{ name: "envoy-event-loop" }], iso);
/** The agent's /status answer now (a test sets it, and puts it back). */
let statusNow: () => unknown = noTrace;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "hookpoint-collect-files-"));
  const dir = (agentDir = join(root, "agent"));
  mkdirSync(join(dir, "programs"), { recursive: true });
  writeRecords(dir, "envoy-event-loop", 0, 20, { t0Ms: T0, stepMs: 1000 });
  writeFileSync(join(dir, "programs", "envoy-event-loop.bt"), "interval:s:1 { print(@x); }\n");
  ({ agent, transport } = await serveRecords(dir, () => statusNow()));
});

afterAll(async () => {
  await agent?.close();
  rmSync(root, { recursive: true, force: true });
});

const pod: CollectPod = { namespace: "shop", name: "web-0", workload: null, node: "node-a", podIP: "127.0.0.1", port: 15099, skip: null };
const run = (dir: string) => collect({ dir, pods: [pod], transport, since: null, parallel: 1, cluster: { server: "https://127.0.0.1", context: "test" } });

/** A pod folder as if the agent had rotated the file away from the copy's name since the last run. */
async function rotatedSince(out: string): Promise<string> {
  const podDir = join(out, "shop/web-0");
  await run(out);
  const statePath = join(podDir, ".collect-state.json");
  const state = JSON.parse(readFileSync(statePath, "utf8")) as { files: Record<string, unknown> };
  state.files["envoy-event-loop.ndjson.1"] = state.files["envoy-event-loop.ndjson"];
  delete state.files["envoy-event-loop.ndjson"];
  writeFileSync(statePath, JSON.stringify(state));
  renameSync(join(podDir, "envoy-event-loop.ndjson"), join(podDir, "envoy-event-loop.ndjson.1"));
  return podDir;
}

describe("collect's own files", () => {
  it("keep the mode they were given when a later run replaces them", async () => {
    const out = join(root, "modes");
    await run(out);
    chmodSync(join(out, "manifest.json"), 0o600);
    chmodSync(join(out, "shop/web-0/.collect-state.json"), 0o640);
    await run(out);
    expect([statSync(join(out, "manifest.json")).mode & 0o777, statSync(join(out, "shop/web-0/.collect-state.json")).mode & 0o777]).toEqual([0o600, 0o640]);
  });

  it("that cannot be written are named in words, and leave no temporary file behind", async () => {
    const out = join(root, "blocked");
    mkdirSync(join(out, "manifest.json"), { recursive: true });
    mkdirSync(join(out, "shop/web-0/programs/envoy-event-loop.bt"), { recursive: true });
    const err = await run(out).then(() => null, (e: Error) => e.message);
    expect(err).toBe(`cannot write ${out}/manifest.json: is a directory`);
    expect(readdirSync(out)).toEqual(["manifest.json", "shop"]);

    rmSync(join(out, "manifest.json"), { recursive: true });
    const done = await run(out);
    expect(done.manifest.pods[0]!.errors).toEqual([`programs/envoy-event-loop.bt: cannot write ${out}/shop/web-0/programs/envoy-event-loop.bt: is a directory`]);
    expect(readdirSync(join(out, "shop/web-0/programs"))).toEqual(["envoy-event-loop.bt"]);
  });
});

describe("a pod folder collect cannot write", () => {
  it("is this machine's failure, named with its path: the agent answered, and nothing is fetched", async () => {
    const out = join(root, "state-blocked");
    mkdirSync(join(out, "shop/web-0/.collect-state.json"), { recursive: true });
    const done = await run(out);
    const message = `cannot write ${out}/shop/web-0/.collect-state.json: is a directory`;
    const entry = done.manifest.pods[0]!;
    expect([entry.agent, entry.errors, entry.files, done.fetched, done.failed]).toEqual([{ reachable: true }, [message], [], 0, 1]);
    expect(podLines(1, 1, entry, done.fetched)).toEqual(["[1/1] shop/web-0: 0 files, 0 B (0 B new), 1 error:", `  shop/web-0: ${message}`]);
    expect(readdirSync(join(out, "shop/web-0"))).toEqual([".collect-state.json"]);
  });

  it("or whose folder cannot be made, likewise", async () => {
    const out = join(root, "namespace-file");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "shop"), "");
    const done = await run(out);
    const entry = done.manifest.pods[0]!;
    expect([entry.agent, entry.errors, done.failed]).toEqual([{ reachable: true }, [`cannot create folder ${out}/shop/web-0: a part of the path is not a directory`], 1]);
  });

  it("or where a copy cannot be opened for writing (a folder in its place), that file's step names the path in words", async () => {
    const out = join(root, "copy-blocked");
    const podDir = join(out, "shop/web-0");
    mkdirSync(join(podDir, "envoy-event-loop.ndjson"), { recursive: true });
    const done = await run(out);
    const message = `envoy-event-loop.ndjson: cannot write ${podDir}/envoy-event-loop.ndjson: is a directory`;
    const entry = done.manifest.pods[0]!;
    expect([entry.agent, entry.errors, entry.files.map((f) => f.name), done.failed]).toEqual([{ reachable: true }, [message], ["programs/envoy-event-loop.bt"], 1]);
    expect(podLines(1, 1, entry, done.fetched)).toEqual(["[1/1] shop/web-0: 1 file, 28 B (28 B new), 1 error:", `  shop/web-0: ${message}`]);
  });

  it("or where the programs folder cannot be made (a file in its place), likewise", async () => {
    const out = join(root, "programs-blocked");
    const podDir = join(out, "shop/web-0");
    mkdirSync(podDir, { recursive: true });
    writeFileSync(join(podDir, "programs"), "");
    const done = await run(out);
    const entry = done.manifest.pods[0]!;
    expect([entry.agent, entry.errors, entry.files.map((f) => f.name), done.failed]).toEqual([
      { reachable: true },
      [`programs/envoy-event-loop.bt: cannot create folder ${podDir}/programs: a file of that name is in the way`],
      ["envoy-event-loop.ndjson"],
      1,
    ]);
  });

  it("or where a copy to resume cannot be opened for appending, likewise, not as an answer that broke off", async (ctx) => {
    const out = join(root, "append-blocked");
    const copy = join(out, "shop/web-0/envoy-event-loop.ndjson");
    await run(out);
    // A shorter copy is resumed; an immutable file cannot be opened for appending, even by root.
    truncateSync(copy, 10);
    const chattr = spawnSync("chattr", ["+i", copy], { encoding: "utf8" });
    if (chattr.status !== 0) return ctx.skip(`chattr +i is not possible here: ${chattr.stderr.trim() || String(chattr.error)}`);
    try {
      const done = await run(out);
      const entry = done.manifest.pods[0]!;
      expect([entry.agent, entry.errors, done.fetched, done.failed]).toEqual([{ reachable: true }, [`envoy-event-loop.ndjson: cannot write ${copy}: operation not permitted`], 0, 1]);
      expect(statSync(copy).size).toBe(10);
    } finally {
      spawnSync("chattr", ["-i", copy]);
    }
  });

  it("or where a copy cannot be renamed to the agent's new name for its file, likewise, and the copy keeps its old name, listed", async () => {
    const podDir = await rotatedSince(join(root, "rename-blocked"));
    // A folder, not empty, has taken the new name here.
    mkdirSync(join(podDir, "envoy-event-loop.ndjson/x"), { recursive: true });
    const message = `cannot rename ${podDir}/envoy-event-loop.ndjson.1 to ${podDir}/envoy-event-loop.ndjson: is a directory`;
    // Twice: the next run finds the folder as the state describes it, and fails alike.
    for (const _ of [1, 2]) {
      const done = await run(join(root, "rename-blocked"));
      const entry = done.manifest.pods[0]!;
      expect([entry.agent, entry.errors, entry.files.map((f) => f.name), done.fetched, done.failed]).toEqual([{ reachable: true }, [message], ["envoy-event-loop.ndjson.1", "programs/envoy-event-loop.bt"], 0, 1]);
      expect(podLines(1, 1, entry, done.fetched)).toEqual(["[1/1] shop/web-0: 2 files, 4.3 KiB (0 B new), 1 error:", `  shop/web-0: ${message}`]);
      // Nothing is left under a temporary name.
      expect(readdirSync(podDir)).toEqual([".collect-state.json", "envoy-event-loop.ndjson", "envoy-event-loop.ndjson.1", "programs"]);
    }
  });

  it("or holding a copy that cannot be read, likewise, and that copy is left out of the manifest", async () => {
    // A path longer than the system allows (4096 bytes) cannot be opened, even by root; the
    // folder holding it can, and the copy is made through a short link to that folder.
    let out = join(root, "long");
    while (out.length < 3889 - 201) out = join(out, "d".repeat(200));
    out = join(out, "d".repeat(3889 - out.length - 1));
    const podDir = join(out, "shop/web-0");
    const name = `${"a".repeat(200)}.ndjson`;
    mkdirSync(podDir, { recursive: true });
    const link = join(root, "long-pod");
    symlinkSync(podDir, link);
    writeFileSync(join(link, name), '{"ts":"2026-03-01T09:00:00.000Z"}\n');
    try {
      const message = `cannot read ${podDir}/${name}: file name too long`;
      const done = await run(out);
      const entry = done.manifest.pods[0]!;
      // Nothing is fetched (the plan needs every copy's size), and the copy is named once.
      expect([entry.agent, entry.errors, entry.files, done.fetched, done.failed]).toEqual([{ reachable: true }, [message], [], 0, 1]);
      expect(podLines(1, 1, entry, done.fetched)).toEqual(["[1/1] shop/web-0: 0 files, 0 B (0 B new), 1 error:", `  shop/web-0: ${message}`]);

      const skip = "pod is Pending and has no pod IP: its agent cannot be reached";
      const skipped = await collect({ dir: out, pods: [{ ...pod, skip }], transport, since: null, parallel: 1, cluster: { server: "https://127.0.0.1", context: "test" } });
      const again = skipped.manifest.pods[0]!;
      expect([again.agent, again.errors, again.files]).toEqual([{ reachable: false, error: skip }, [skip, message], []]);
    } finally {
      // rmSync cannot reach it by its long path either.
      rmSync(join(link, name));
    }
  });
});

describe("a rename of a copy", () => {
  it("never replaces a file an earlier run left under a temporary name", async () => {
    const out = join(root, "rename-left");
    const podDir = await rotatedSince(out);
    writeFileSync(join(podDir, ".rename-0"), "left by an earlier run\n");
    const done = await run(out);
    const entry = done.manifest.pods[0]!;
    expect([entry.errors, entry.files.map((f) => f.name), done.failed]).toEqual([[], ["envoy-event-loop.ndjson", "programs/envoy-event-loop.bt"], 0]);
    expect(readFileSync(join(podDir, ".rename-0"), "utf8")).toBe("left by an earlier run\n");
    expect(readdirSync(podDir)).toEqual([".collect-state.json", ".rename-0", "envoy-event-loop.ndjson", "programs"]);
  });
});

describe("an error of collect itself", () => {
  it("is named as such for its pod, and an agent it did not ask is said to be not asked", async () => {
    // A fault of collect's own before it asks the agent: building the listing's URL fails
    // (the first toISOString; the manifest's, later, works).
    class FaultyDate extends Date {
      faults = 1;
      override toISOString(): string {
        if (this.faults-- > 0) throw new TypeError("a fault injected by the test");
        return super.toISOString();
      }
    }
    const since = new FaultyDate(T0);
    const done = await collect({ dir: join(root, "own-error"), pods: [pod], transport, since, parallel: 1, cluster: { server: "https://127.0.0.1", context: "test" } });
    const error = "not asked: an error in collect itself: TypeError: a fault injected by the test";
    const entry = done.manifest.pods[0]!;
    expect([entry.agent, entry.errors, done.failed]).toEqual([{ reachable: false, error }, [error], 1]);
    expect(podLines(1, 1, entry, done.fetched)).toEqual([`[1/1] shop/web-0: FAILED: ${error}`]);
  });
});

describe("collect into a folder that earlier runs filled", () => {
  const at = (hour: number) => new Date(Date.UTC(2026, 2, 1, hour));
  const runAt = (dir: string, hour: number, pods: CollectPod[]) => collect({ dir, pods, transport, since: null, parallel: 1, cluster: { server: "https://127.0.0.1", context: "test" }, now: () => at(hour) });
  const web0: CollectPod = { ...pod, workload: { kind: "Deployment", name: "web" } };
  const web1: CollectPod = { ...pod, name: "web-1", workload: { kind: "Deployment", name: "web" }, node: "node-b" };
  const lost: CollectPod = { ...pod, name: "lost", skip: "pod is Pending and has no pod IP: its agent cannot be reached" };
  const size = (f: string) => statSync(join(agentDir, f)).size;
  const entry = (p: CollectPod, hour: number) => {
    const files = [
      { name: "envoy-event-loop.ndjson", bytes: size("envoy-event-loop.ndjson"), first: "2026-03-01T10:00:00.000Z", last: "2026-03-01T10:00:19.000Z" },
      { name: "programs/envoy-event-loop.bt", bytes: size("programs/envoy-event-loop.bt"), first: null, last: null },
    ];
    const bytes = files.reduce((n, f) => n + f.bytes, 0);
    return { namespace: p.namespace, name: p.name, workload: p.workload, node: p.node, podIP: p.podIP, agent: { reachable: true }, files, bytes, errors: [], collectedAt: at(hour).toISOString() };
  };
  const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;

  it("keeps the earlier pods whose records are still there, each with its own run's facts", async () => {
    const out = join(root, "again");
    await runAt(out, 11, [web0, lost]);
    // Another selection: web-0 is not asked, its records stay, and so do its owner and node.
    const second = await runAt(out, 12, [web1]);
    expect(second.failed).toBe(0);
    expect(manifestOf(out)).toEqual({
      version: 1,
      cluster: { server: "https://127.0.0.1", context: "test" },
      collectedAt: at(12).toISOString(),
      since: null,
      until: at(12).toISOString(),
      // "lost" left no records in the folder, so nothing of it is kept.
      pods: [entry(web1, 12), entry(web0, 11)],
    });
    // The report takes web-0's owner and node from the manifest, not from its name.
    const loaded = await loadResults(out);
    expect(loaded.pods.get("shop/web-0")).toEqual({ key: "shop/web-0", namespace: "shop", name: "web-0", workload: { kind: "Deployment", name: "web", derived: false }, node: "node-a" });

    // A pod asked again takes the new run's facts; one whose folder is gone is dropped.
    rmSync(join(out, "shop/web-1"), { recursive: true });
    await runAt(out, 13, [{ ...web0, node: "node-c" }]);
    expect(manifestOf(out).pods).toEqual([entry({ ...web0, node: "node-c" }, 13)]);
  });

  it("replaces an earlier manifest it cannot read, keeping nothing of it", async () => {
    const out = join(root, "unreadable");
    await runAt(out, 11, [web0]);
    writeFileSync(join(out, "manifest.json"), "{not json");
    await runAt(out, 12, [web1]);
    expect(manifestOf(out).pods).toEqual([entry(web1, 12)]);
  });
});

describe("the agent's traced requests by outcome", () => {
  const withTrace = (requests: Parameters<typeof traceStatus>[0]) => () => ({ ...noTrace(), trace: traceStatus(requests) });
  const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
  const asked = (p: CollectPod, hour: number) => collect({ dir: join(root, "outcomes"), pods: [p], transport, since: null, parallel: 1, cluster: { server: "https://127.0.0.1", context: "test" }, now: () => new Date(Date.UTC(2026, 2, 1, hour)) });
  const all = { recorded: 0, aborted: 0, timeout: 0, incomplete: 0, invalid: 0, overflow: 0, rate_capped: 0, unfinished: 0, lost: 0 };

  it("are kept per pod as /status gave them, an earlier run's for a pod not asked again, and none from an agent without the request trace", async () => {
    try {
      statusNow = withTrace({ recorded: 26, aborted: 1, timeout: 1 });
      const first = await asked(pod, 11);
      expect([first.failed, first.manifest.pods[0]!.errors]).toEqual([0, []]);
      expect(manifestOf(join(root, "outcomes")).pods.map((p) => [p.name, p.traceRequestsOverAgentLife])).toEqual([["web-0", { ...all, recorded: 26, aborted: 1, timeout: 1 }]]);
      // web-1's agent has counted on; web-0, not asked, keeps what its run found.
      statusNow = withTrace({ recorded: 40, aborted: 3 });
      await asked({ ...pod, name: "web-1" }, 12);
      expect(manifestOf(join(root, "outcomes")).pods.map((p) => [p.name, p.traceRequestsOverAgentLife])).toEqual([
        ["web-1", { ...all, recorded: 40, aborted: 3 }],
        ["web-0", { ...all, recorded: 26, aborted: 1, timeout: 1 }],
      ]);
      // web-0 asked again, its agent no longer tracing requests: the field goes.
      statusNow = noTrace;
      await asked(pod, 13);
      const pods = manifestOf(join(root, "outcomes")).pods;
      expect(pods.map((p) => [p.name, "traceRequestsOverAgentLife" in p])).toEqual([
        ["web-0", false],
        ["web-1", true],
      ]);
    } finally {
      statusNow = noTrace;
    }
  });

  it("are an error of the pod when /status fails, and its records are still copied", async () => {
    try {
      statusNow = () => {
        throw new Error("status broke");
      };
      const done = await collect({ dir: join(root, "status-fails"), pods: [pod], transport, since: null, parallel: 1, cluster: { server: "https://127.0.0.1", context: "test" } });
      const entry = done.manifest.pods[0]!;
      expect([entry.agent, entry.errors, entry.files.map((f) => f.name), "traceRequestsOverAgentLife" in entry, done.failed]).toEqual([
        { reachable: true },
        ["GET /status: HTTP 500: Internal Server Error"],
        ["envoy-event-loop.ndjson", "programs/envoy-event-loop.bt"],
        false,
        1,
      ]);
      expect(podLines(1, 1, entry, done.fetched)).toEqual([`[1/1] shop/web-0: 2 files, ${formatBytes(entry.bytes)} (${formatBytes(entry.bytes)} new), 1 error:`, "  shop/web-0: GET /status: HTTP 500: Internal Server Error"]);
      // An answer whose counts are not counts is named by its field.
      statusNow = () => ({ ...noTrace(), trace: { ...traceStatus({}), requests: { recorded: 3, aborted: "1" } } });
      const odd = await collect({ dir: join(root, "status-odd"), pods: [pod], transport, since: null, parallel: 1, cluster: { server: "https://127.0.0.1", context: "test" } });
      expect(odd.manifest.pods[0]!.errors).toEqual(['GET /status: unexpected answer: trace.requests.aborted: expected a whole number ≥ 0, got "1"']);
    } finally {
      statusNow = noTrace;
    }
  });
});
