// Reading results folders from disk: collect layout, kubectl-cp layout, rotation, bad lines.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeManifest } from "../../../src/collect/manifest.js";
import { KEPT_PROBLEMS, loadResults, NoRecordsError } from "../../../src/report/load.js";
import { generateRequests } from "../../support/request-records.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "hookpoint-report-load-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mapRecord = (ts: string, count: number): string =>
  JSON.stringify({ ts, script: "envoy-event-loop", map: "@loop_ready_events", keys: ["wrk:worker_0"], kind: "hist", unit: "events", pid: 4242, buckets: [{ min: 1, max: 1, count }] });

function write(rel: string, text: string | Buffer): void {
  const path = join(dir, rel);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

const pods = [{ namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", bootWallNs: 1_738_300_000_000_000_000n, pid: 4242, workers: 2 }];

describe("loading a collect folder", () => {
  it("reads live, rotated and gzipped files, and takes workloads from the manifest", async () => {
    const reqs = generateRequests({ pods, count: 6, seed: 3 });
    const lines = reqs.map((r) => JSON.stringify(r) + "\n");
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson", lines.slice(0, 2).join(""));
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson.1", lines.slice(2, 4).join(""));
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson.2.gz", gzipSync(lines.slice(4).join("")));
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson", mapRecord("2025-01-31T12:00:10.000Z", 3) + "\n");
    write("shop/cart-7d9f8b6c5d-x2x4z/notes.txt", "not a record file\n");
    // Written by collect's own writer: the report reads what collect writes.
    await writeManifest(dir, {
      version: 1,
      cluster: { server: "https://127.0.0.1:6443", context: "dev" },
      collectedAt: "2025-01-31T12:05:00Z",
      since: null,
      until: "2025-01-31T12:05:00Z",
      pods: [
        { namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", workload: { kind: "Deployment", name: "cart-v2" }, node: "n1", podIP: "10.0.0.7", agent: { reachable: true }, files: [], bytes: 0, errors: [], collectedAt: "2025-01-31T12:05:00Z" },
        { namespace: "shop", name: "gone-0", workload: null, node: "n2", podIP: "10.0.0.8", agent: { reachable: false, error: "timeout" }, files: [], bytes: 0, errors: ["agent did not answer"], collectedAt: "2025-01-31T12:05:00Z" },
      ],
    });
    const loaded = await loadResults(dir);
    expect(loaded.problems).toEqual([]);
    expect(loaded.files).toBe(4);
    expect(loaded.lines).toBe(7);
    expect(loaded.requests.map((r) => r.record.id).sort()).toEqual(reqs.map((r) => r.id).sort());
    expect(new Set(loaded.requests.map((r) => r.pod))).toEqual(new Set(["shop/cart-7d9f8b6c5d-x2x4z"]));
    expect(loaded.maps).toHaveLength(1);
    expect(loaded.maps[0]).toMatchObject({ pod: "shop/cart-7d9f8b6c5d-x2x4z" });
    expect(loaded.pods.get("shop/cart-7d9f8b6c5d-x2x4z")?.workload).toEqual({ kind: "Deployment", name: "cart-v2", derived: false });
    expect(loaded.pods.get("shop/gone-0")).toEqual({ key: "shop/gone-0", namespace: "shop", name: "gone-0", workload: { kind: "StatefulSet", name: "gone", derived: true }, node: "n2" });
    expect(loaded.manifest?.cluster.context).toBe("dev");
  });

  it("reports each bad line with file:line and why, and reads the good ones", async () => {
    const [good] = generateRequests({ pods, count: 1, seed: 4 });
    const bad = { ...good!, phases: [{ name: "codec", start_ns: 1, end_ns: 2 }] };
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson", [JSON.stringify(good), "{oops", JSON.stringify(bad), "", mapRecord("2025-01-31T12:00:10.000Z", 1).slice(0, 40)].join("\n"));
    const loaded = await loadResults(dir);
    expect(loaded.requests).toHaveLength(1);
    expect(loaded.problems).toHaveLength(3);
    const file = join(dir, "shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson");
    expect(loaded.problems[0]).toMatch(new RegExp(`^${file}:2: not JSON \\(`));
    expect(loaded.problems[1]).toBe(`${file}:3: phases[0]: 1..2 lies outside the request's ${good!.start_ns}..${good!.end_ns}`);
    expect(loaded.problems[2]).toBe(`${file}:5: incomplete last line (was the file still being written?)`);
  });

  it("fails when nothing is readable, listing the problems", async () => {
    write("a/b/x.ndjson", "garbage\n");
    const err = await loadResults(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoRecordsError);
    expect((err as NoRecordsError).message).toBe(`no records found in ${dir} (1 record file, 1 problem)`);
    expect((err as NoRecordsError).problems).toHaveLength(1);
    expect((err as NoRecordsError).problems[0]).toMatch(new RegExp(`^${join(dir, "a/b/x.ndjson")}:1: not JSON \\(`));
  });
});

describe("loading copied folders without a manifest", () => {
  it("names pods from the records, else from the folder path", async () => {
    const [r] = generateRequests({ pods, count: 1, seed: 5 });
    // kubectl cp shop/cart-…:/tmp/hookpoint ./traces/cart: the request records say whose they are.
    write("cart/envoy-request-trace.ndjson", JSON.stringify(r) + "\n");
    write("cart/envoy-event-loop.ndjson", mapRecord("2025-01-31T12:00:10.000Z", 2) + "\n");
    // Map records alone: one level deep → the folder is the pod; two levels → namespace/pod.
    write("web-1/envoy-event-loop.ndjson", mapRecord("2025-01-31T12:00:10.000Z", 2) + "\n");
    write("prod/api-5f7c9d8b4-x7k2p/envoy-event-loop.ndjson", mapRecord("2025-01-31T12:00:10.000Z", 2) + "\n");
    const loaded = await loadResults(dir);
    expect(loaded.maps.map((m) => m.pod).sort()).toEqual(["prod/api-5f7c9d8b4-x7k2p", "shop/cart-7d9f8b6c5d-x2x4z", "web-1"]);
    expect(loaded.pods.get("web-1")).toMatchObject({ namespace: "", name: "web-1", workload: { kind: "StatefulSet", name: "web" } });
    expect(loaded.pods.get("prod/api-5f7c9d8b4-x7k2p")?.workload).toEqual({ kind: "Deployment", name: "api", derived: true });
  });

  it("takes files at the top of the folder as one pod named after the folder", async () => {
    write("envoy-event-loop.ndjson", mapRecord("2025-01-31T12:00:10.000Z", 2) + "\n");
    const loaded = await loadResults(dir);
    expect(loaded.maps[0]!.pod).toBe(dir.split("/").pop());
  });
});

describe("loading files whatever their size or state", () => {
  it("reads a file larger than a string can hold, record by record", async () => {
    // 540 MiB once unzipped (a string holds at most 512 MiB): a map record, 540 lines of
    // 1 MiB of spaces (blank to the parser), a map record. The gzip file is one small member
    // repeated: readers take concatenated members as one stream.
    const spaces = gzipSync(Buffer.alloc(1024 * 1024, " ").fill("\n", 1024 * 1024 - 1), { level: 9 });
    const parts = [gzipSync(mapRecord("2025-01-31T12:00:10.000Z", 1) + "\n"), ...Array.from({ length: 540 }, () => spaces), gzipSync(mapRecord("2025-01-31T12:00:20.000Z", 2) + "\n")];
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson.1.gz", Buffer.concat(parts));
    const loaded = await loadResults(dir);
    expect(loaded.problems).toEqual([]);
    expect(loaded.maps.map((m) => [m.record.ts, m.record.buckets?.[0]?.count])).toEqual([
      ["2025-01-31T12:00:10.000Z", 1],
      ["2025-01-31T12:00:20.000Z", 2],
    ]);
    expect(loaded.lines).toBe(542);
  });

  it("keeps the records before the cut of a truncated gzip file, and says where it broke", async () => {
    const lines = [1, 2, 3].map((n) => mapRecord(`2025-01-31T12:00:1${n}.000Z`, n) + "\n").join("");
    const gz = gzipSync(lines);
    // Cut inside the gzip trailer: every record is in the stream, the file is not whole.
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson.2.gz", gz.subarray(0, gz.length - 4));
    const loaded = await loadResults(dir);
    expect(loaded.maps.map((m) => m.record.buckets?.[0]?.count)).toEqual([1, 2, 3]);
    expect(loaded.problems).toEqual([`${join(dir, "shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson.2.gz")}: cannot read past line 3: the gzip data is cut short (zlib: unexpected end of file)`]);
  });

  it("names a .gz file that is not gzip data as such, in words, and reads the other files", async () => {
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson", mapRecord("2025-01-31T12:00:12.000Z", 2) + "\n");
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson.3.gz", mapRecord("2025-01-31T12:00:11.000Z", 1) + "\n");
    const loaded = await loadResults(dir);
    expect(loaded.maps.map((m) => m.record.buckets?.[0]?.count)).toEqual([2]);
    expect(loaded.problems).toEqual([`${join(dir, "shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson.3.gz")}: cannot read: not gzip data, though named .gz (zlib: incorrect header check)`]);
  });

  it("skips a line longer than 16 MiB, naming it, and reads the lines around it", async () => {
    const file = "shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson";
    write(file, [mapRecord("2025-01-31T12:00:10.000Z", 1), "x".repeat(17 * 1024 * 1024), mapRecord("2025-01-31T12:00:20.000Z", 2), ""].join("\n"));
    const loaded = await loadResults(dir);
    expect(loaded.maps.map((m) => m.record.buckets?.[0]?.count)).toEqual([1, 2]);
    expect(loaded.problems).toEqual([`${join(dir, file)}:2: longer than 16 MiB, skipped`]);
  });
});

describe("records read twice", () => {
  it("counts a request or map record once when the same one is found again, and names the repeat", async () => {
    const reqs = generateRequests({ pods, count: 4, seed: 6 });
    const lines = reqs.map((r) => JSON.stringify(r) + "\n").join("");
    // collect's folder, plus the same pod copied by hand beside it (kubectl cp).
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson", lines);
    write("copied/envoy-request-trace.ndjson", lines.split("\n").slice(2).join("\n"));
    // A rotated map file kept both plain and gzipped.
    const maps = mapRecord("2025-01-31T12:00:10.000Z", 3) + "\n" + mapRecord("2025-01-31T12:00:20.000Z", 4) + "\n";
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson.1", maps);
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson.1.gz", gzipSync(maps));
    // The same id again, but another request (a retry through the same worker): kept.
    const retry = { ...reqs[0]!, start_ns: reqs[0]!.end_ns + 1000, end_ns: reqs[0]!.end_ns + 5000, phases: [] };
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson.1", JSON.stringify(retry) + "\n");
    const loaded = await loadResults(dir);
    expect(loaded.requests).toHaveLength(5);
    expect(loaded.maps.map((m) => m.record.buckets![0]!.count)).toEqual([3, 4]);
    const at = (rel: string, line: number) => `${join(dir, rel)}:${line}`;
    expect(loaded.problems).toEqual([
      // Folders are read in name order: "copied" first.
      `${at("shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson", 3)}: the same request record as ${at("copied/envoy-request-trace.ndjson", 1)}`,
      `${at("shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson", 4)}: the same request record as ${at("copied/envoy-request-trace.ndjson", 2)}`,
      `${at("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson.1.gz", 1)}: the same map record as ${at("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson.1", 1)}`,
      `${at("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson.1.gz", 2)}: the same map record as ${at("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson.1", 2)}`,
    ]);
  });
});

describe("a folder with millions of bad lines", () => {
  it("keeps the first problems word for word and counts all of them", async () => {
    // Another program's NDJSON log among the records: each of its lines is a problem.
    const file = "shop/cart-7d9f8b6c5d-x2x4z/access.ndjson";
    write(file, '{"level":"info","msg":"GET /"}\n'.repeat(250) + mapRecord("2025-01-31T12:00:10.000Z", 1) + "\n");
    const loaded = await loadResults(dir);
    expect(loaded.maps).toHaveLength(1);
    expect(loaded.problemCount).toBe(250);
    expect(loaded.problems).toHaveLength(KEPT_PROBLEMS);
    expect(loaded.problems[99]).toBe(`${join(dir, file)}:100: keys: expected a list of strings, got undefined`);
    write(file, '{"level":"info","msg":"GET /"}\n'.repeat(250));
    const err = (await loadResults(dir).catch((e: unknown) => e)) as NoRecordsError;
    expect([err.message, err.problems.length, err.problemCount]).toEqual([`no records found in ${dir} (1 record file, 250 problems)`, KEPT_PROBLEMS, 250]);
  });
});

describe("symbolic links in the folder", () => {
  it("follows none, and names each linked record file or folder it skipped", async () => {
    const outside = mkdtempSync(join(tmpdir(), "hookpoint-report-outside-"));
    try {
      writeFileSync(join(outside, "envoy-event-loop.ndjson"), mapRecord("2025-01-31T12:00:30.000Z", 9) + "\n");
      mkdirSync(join(outside, "pod"));
      writeFileSync(join(outside, "pod", "envoy-event-loop.ndjson"), mapRecord("2025-01-31T12:00:40.000Z", 8) + "\n");
      writeFileSync(join(outside, "notes.txt"), "secret\n");
      const pod = "shop/cart-7d9f8b6c5d-x2x4z";
      write(`${pod}/envoy-event-loop.ndjson`, mapRecord("2025-01-31T12:00:10.000Z", 3) + "\n");
      symlinkSync(join(outside, "envoy-event-loop.ndjson"), join(dir, pod, "envoy-event-loop.ndjson.1"));
      symlinkSync(join(outside, "gone.ndjson"), join(dir, pod, "envoy-io.ndjson"));
      symlinkSync(join(outside, "notes.txt"), join(dir, pod, "notes.txt"));
      symlinkSync(join(outside, "pod"), join(dir, "shop", "linked-pod"));
      // A folder holding nothing but a link is no pod of its own.
      mkdirSync(join(dir, "shop", "db-0"));
      symlinkSync(join(outside, "envoy-event-loop.ndjson"), join(dir, "shop", "db-0", "envoy-event-loop.ndjson"));
      const loaded = await loadResults(dir);
      expect(loaded.maps.map((m) => [m.pod, m.record.buckets![0]!.count])).toEqual([[pod, 3]]);
      expect([...loaded.pods.keys()]).toEqual([pod]);
      expect(loaded.files).toBe(1);
      // In the order folders are walked: a folder's own entries, then its folders by name.
      expect(loaded.problems).toEqual([
        `${join(dir, "shop/linked-pod")}: a symbolic link to a folder, which the report does not follow (copy the folder in to include it)`,
        `${join(dir, pod, "envoy-event-loop.ndjson.1")}: a symbolic link, which the report does not follow (copy the file in to include it)`,
        `${join(dir, pod, "envoy-io.ndjson")}: a symbolic link, which the report does not follow (copy the file in to include it)`,
        `${join(dir, "shop/db-0/envoy-event-loop.ndjson")}: a symbolic link, which the report does not follow (copy the file in to include it)`,
      ]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("does not read a linked manifest.json: it is named as skipped, like any other link", async () => {
    const outside = mkdtempSync(join(tmpdir(), "hookpoint-report-outside-"));
    try {
      const pod = "shop/cart-7d9f8b6c5d-x2x4z";
      write(`${pod}/envoy-event-loop.ndjson`, mapRecord("2025-01-31T12:00:10.000Z", 3) + "\n");
      // Shaped as collect writes it, so only not following the link keeps its owner out.
      await writeManifest(outside, {
        version: 1,
        cluster: { server: "https://127.0.0.1:6443", context: "elsewhere" },
        collectedAt: "2025-01-31T12:05:00Z",
        since: null,
        until: "2025-01-31T12:05:00Z",
        pods: [{ namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", workload: { kind: "Deployment", name: "cart-v2" }, node: "n1", podIP: "10.0.0.7", agent: { reachable: true }, files: [], bytes: 0, errors: [], collectedAt: "2025-01-31T12:05:00Z" }],
      });
      symlinkSync(join(outside, "manifest.json"), join(dir, "manifest.json"));
      const loaded = await loadResults(dir);
      expect(loaded.manifest).toBeNull();
      expect(loaded.pods.get(pod)).toEqual({ key: pod, namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", workload: { kind: "Deployment", name: "cart", derived: true }, node: null });
      expect(loaded.problems).toEqual([`${join(dir, "manifest.json")}: a symbolic link, which the report does not follow (copy the file in to include it)`]);

      // A link that leads nowhere is named the same way, and nothing else is said of it.
      rmSync(join(dir, "manifest.json"));
      symlinkSync(join(outside, "gone.json"), join(dir, "manifest.json"));
      expect((await loadResults(dir)).problems).toEqual([`${join(dir, "manifest.json")}: a symbolic link, which the report does not follow (copy the file in to include it)`]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("does not read a manifest.json that is a FIFO or a folder, which would never end or cannot be read: it is named as not read", async () => {
    write("shop/cart-7d9f8b6c5d-x2x4z/envoy-event-loop.ndjson", mapRecord("2025-01-31T12:00:10.000Z", 3) + "\n");
    execFileSync("mkfifo", [join(dir, "manifest.json")]);
    const loaded = await loadResults(dir);
    expect(loaded.manifest).toBeNull();
    expect(loaded.problems).toEqual([`${join(dir, "manifest.json")}: not a regular file; the folder is read without it`]);
    rmSync(join(dir, "manifest.json"));
    mkdirSync(join(dir, "manifest.json"));
    expect((await loadResults(dir)).problems).toEqual([`${join(dir, "manifest.json")}: not a regular file; the folder is read without it`]);
  });
});
