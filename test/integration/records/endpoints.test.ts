// The agent's records endpoints on a real loopback listener: listing, ranges, resume
// across rotation, limits, turned off, and nothing but records leaving the directory.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, readdirSync, statSync } from "node:fs";
import { request, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { buildStatusApp } from "../../../src/agent/status/server.js";
import type { RecordsOptions } from "../../../src/agent/records/routes.js";
import { toRecordsListing, type RecordsListing } from "../../../src/records/listing.js";
import { mapRecord, recordLine, writeRecords } from "../../support/records.js";

const root = mkdtempSync(join(tmpdir(), "hookpoint-records-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0 = Date.parse("2026-03-01T10:00:00.000Z");
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A raw GET: the path goes out exactly as written (no URL normalisation). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const json = <T>(a: Answer): T => JSON.parse(a.body.toString("utf8")) as T;

async function serve(dir: string, opts: Partial<RecordsOptions> | null = {}): Promise<{ port: number; served: () => number; codes: number[] }> {
  let served = 0;
  const codes: number[] = [];
  const app = buildStatusApp({
    metrics: async () => "",
    status: () => ({ ok: true }),
    ...(opts === null
      ? {}
      : { records: { dir, maxResponseBytes: 8 * 1024 * 1024, concurrency: 4, idleTimeoutMs: 30_000, onServed: (n) => (served += n), onAnswered: (c) => codes.push(c), ...opts } }),
  });
  apps.push(app);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  return { port: typeof addr === "object" && addr ? addr.port : 0, served: () => served, codes };
}

function outputDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "programs"), { recursive: true });
  return dir;
}

describe("records listing", () => {
  it("lists the NDJSON files and programs with sizes and first/last record times, and nothing else", async () => {
    const dir = outputDir("listing");
    writeRecords(dir, "envoy-latency", 0, 10, { t0Ms: T0, stepMs: 1000 });
    writeRecords(dir, "envoy-io", 0, 3, { t0Ms: T0 + 500, stepMs: 2000 });
    writeFileSync(join(dir, "envoy-io.ndjson.1"), "");
    writeFileSync(join(dir, "programs", "envoy-latency.bt"), "uprobe:/x:0x10 { @c = count(); }\n");
    // Not records: other files, a link pointing out, a directory named like a record.
    writeFileSync(join(root, "secret.txt"), "secret\n");
    writeFileSync(join(dir, "notes.txt"), "not a record\n");
    symlinkSync(join(root, "secret.txt"), join(dir, "linked.ndjson"));
    symlinkSync(join(root, "secret.txt"), join(dir, "programs", "linked.bt"));
    mkdirSync(join(dir, "dir.ndjson"));
    const { port } = await serve(dir);

    const res = await get(port, "/records");
    expect(res.status).toBe(200);
    const listing = json<RecordsListing>(res);
    const size = (n: string) => statSync(join(dir, n)).size;
    const ino = (n: string) => statSync(join(dir, n)).ino.toString(36);
    expect(listing).toEqual({
      version: 1,
      maxResponseBytes: 8 * 1024 * 1024,
      since: null,
      files: [
        { name: "envoy-io.ndjson", bytes: size("envoy-io.ndjson"), first: "2026-03-01T10:00:00.500Z", last: "2026-03-01T10:00:04.500Z", etag: expect.stringMatching(new RegExp(`^"n-${ino("envoy-io.ndjson")}-[0-9a-f]{24}"$`)) },
        { name: "envoy-io.ndjson.1", bytes: 0, first: null, last: null, etag: `"n-${ino("envoy-io.ndjson.1")}-"` },
        { name: "envoy-latency.ndjson", bytes: size("envoy-latency.ndjson"), first: "2026-03-01T10:00:00.000Z", last: "2026-03-01T10:00:09.000Z", etag: expect.stringMatching(/^"n-/) },
        { name: "programs/envoy-latency.bt", bytes: 33, first: null, last: null, etag: expect.stringMatching(/^"p-[0-9a-f]{24}-33"$/) },
      ],
    });
  });

  it("lists a record time only when it is one, so that collect and status accept the listing", async () => {
    const dir = outputDir("odd-times");
    const good = recordLine(mapRecord("envoy-latency", 0, T0, 1000));
    // Lines of another program in the agent's directory: a ts that is not a time, and none.
    writeFileSync(join(dir, "envoy-latency.ndjson"), `${good}${JSON.stringify({ ts: "yesterday", n: 1 })}\n`);
    writeFileSync(join(dir, "envoy-io.ndjson"), `${JSON.stringify({ ts: "2026-02-30T10:00:00Z" })}\n${JSON.stringify({ n: 2 })}\n`);
    const { port } = await serve(dir);
    const listing = toRecordsListing(json<unknown>(await get(port, "/records")));
    // A line without a time is passed over at either end, as a torn first write is.
    expect(listing.files.map((f) => [f.name, f.first, f.last])).toEqual([
      ["envoy-io.ndjson", null, null],
      ["envoy-latency.ndjson", "2026-03-01T10:00:00.000Z", "2026-03-01T10:00:00.000Z"],
    ]);
  });

  it("names the first record of a request file whose first line is torn (the agent killed in its first write), and finds ?since= offsets with its 5 s window", async () => {
    const dir = outputDir("torn-head");
    // 1,000 request records of 1,000 bytes, 10 a second, each 100th written 4.9 s ahead of its neighbours.
    const iso = (s: number) => new Date(T0 + Math.round(s * 1000)).toISOString();
    const line = (s: number) => {
      const head = JSON.stringify({ kind: "request", ts: iso(s), pad: "" });
      return `${JSON.stringify({ kind: "request", ts: iso(s), pad: "x".repeat(999 - head.length) })}\n`;
    };
    const secs = Array.from({ length: 1_000 }, (_v, i) => i / 10 + (i % 100 === 0 ? 4.9 : 0));
    const torn = `{"kind":"request","ts":"${iso(0.05)}","scr`;
    writeFileSync(join(dir, "envoy-request-trace.ndjson"), `${torn}\n${secs.map(line).join("")}`);
    const { port } = await serve(dir);
    const listed = await get(port, "/records?since=2026-03-01T10:00:14.500Z");
    expect(listed.status).toBe(200);
    const file = toRecordsListing(json<unknown>(listed)).files[0];
    // The record written ahead at 10:00:14.900Z is line 101, after the torn line and 100 records of 1,000 bytes.
    expect([file?.first, file?.last, file?.offset]).toEqual(["2026-03-01T10:00:00.100Z", "2026-03-01T10:01:39.900Z", torn.length + 1 + 100 * 1000]);
  });

  it("gives, with ?since=, the byte offset of each file's first record at or after that time", async () => {
    const dir = outputDir("since");
    // 3,000 records (~600 KB) so the offset is found by the binary search, not a scan.
    writeRecords(dir, "envoy-latency", 0, 3000, { t0Ms: T0, stepMs: 1000 });
    const lines = readFileSync(join(dir, "envoy-latency.ndjson"), "utf8").split("\n");
    const offsetOf = (i: number) => lines.slice(0, i).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    const { port } = await serve(dir);
    const at = async (since: string) => json<RecordsListing>(await get(port, `/records?since=${encodeURIComponent(since)}`)).files[0]?.offset;
    expect(await at(new Date(T0 + 1234 * 1000).toISOString())).toBe(offsetOf(1234));
    expect(await at(new Date(T0 + 1234 * 1000 - 1).toISOString())).toBe(offsetOf(1234));
    expect(await at(new Date(T0 + 1234 * 1000 + 1).toISOString())).toBe(offsetOf(1235));
    expect(await at(new Date(T0 - 60_000).toISOString())).toBe(0);
    expect(await at(new Date(T0 + 2999 * 1000).toISOString())).toBe(offsetOf(2999));
    expect(await at(new Date(T0 + 5000 * 1000).toISOString())).toBe(statSync(join(dir, "envoy-latency.ndjson")).size);
    const bad = await get(port, "/records?since=yesterday");
    expect(bad.status).toBe(400);
    expect(json<{ error: string }>(bad).error).toBe('since: expected an ISO 8601 time, got "yesterday"');
  });
});

describe("records downloads", () => {
  it("serves whole files and byte ranges with the file's ETag", async () => {
    const dir = outputDir("ranges");
    writeRecords(dir, "envoy-latency", 0, 50, { t0Ms: T0, stepMs: 1000 });
    const bytes = readFileSync(join(dir, "envoy-latency.ndjson"));
    const { port, served } = await serve(dir);
    const whole = await get(port, "/records/envoy-latency.ndjson");
    expect(whole.status).toBe(200);
    expect(whole.body.equals(bytes)).toBe(true);
    expect(whole.headers["content-type"]).toBe("application/x-ndjson");
    expect(whole.headers["accept-ranges"]).toBe("bytes");
    const etag = whole.headers.etag!;
    expect(etag).toMatch(/^"n-/);

    const tail = await get(port, "/records/envoy-latency.ndjson", { range: "bytes=1000-" });
    expect(tail.status).toBe(206);
    expect(tail.headers["content-range"]).toBe(`bytes 1000-${bytes.length - 1}/${bytes.length}`);
    expect(tail.body.equals(bytes.subarray(1000))).toBe(true);

    const middle = await get(port, "/records/envoy-latency.ndjson", { range: "bytes=10-19", "if-range": etag });
    expect(middle.status).toBe(206);
    expect(middle.body.equals(bytes.subarray(10, 20))).toBe(true);

    const otherFile = await get(port, "/records/envoy-latency.ndjson", { range: "bytes=10-19", "if-range": '"n-0-0"' });
    expect(otherFile.status).toBe(200);
    expect(otherFile.body.equals(bytes)).toBe(true);

    const beyond = await get(port, "/records/envoy-latency.ndjson", { range: `bytes=${bytes.length}-` });
    expect(beyond.status).toBe(416);
    expect([beyond.headers["content-range"], beyond.headers["content-type"]]).toEqual([`bytes */${bytes.length}`, "application/json; charset=utf-8"]);
    expect(json<{ error: string }>(beyond).error).toBe(`range bytes=${bytes.length}- is outside the file's ${bytes.length} bytes`);

    const program = join(dir, "programs", "envoy-latency.bt");
    writeFileSync(program, "BEGIN { }\n");
    const prog = await get(port, "/records/programs/envoy-latency.bt");
    expect([prog.status, prog.body.toString(), prog.headers["content-type"]]).toEqual([200, "BEGIN { }\n", "text/plain; charset=utf-8"]);
    expect(served()).toBe(bytes.length * 2 + (bytes.length - 1000) + 10 + 10);
  });

  it("resumes a download correctly across a rotation: the ETag follows the file to its new name", async () => {
    const dir = outputDir("rotation");
    const opts = { t0Ms: T0, stepMs: 1000, maxBytes: 20_000, keep: 2 };
    writeRecords(dir, "envoy-latency", 0, 40, opts);
    const { port } = await serve(dir);
    const first = await get(port, "/records/envoy-latency.ndjson");
    const etag = first.headers.etag!;
    const have = first.body;

    // The agent goes on writing: the file fills up and is rotated to .1, a new one starts.
    writeRecords(dir, "envoy-latency", 40, 260, opts);
    const listing = json<RecordsListing>(await get(port, "/records"));
    expect(listing.files.map((f) => f.name)).toEqual(["envoy-latency.ndjson", "envoy-latency.ndjson.1", "envoy-latency.ndjson.2"]);
    const moved = listing.files.find((f) => f.etag === etag);
    expect(moved?.name).toBe("envoy-latency.ndjson.2");
    expect(moved!.bytes).toBeGreaterThan(have.length);

    const rest = await get(port, `/records/${moved!.name}`, { range: `bytes=${have.length}-`, "if-range": etag });
    expect(rest.status).toBe(206);
    const resumed = Buffer.concat([have, rest.body]);
    expect(resumed.equals(readFileSync(join(dir, "envoy-latency.ndjson.2")))).toBe(true);
    // Every record once, in order, from the first to where the file was rotated.
    const lines = resumed.toString("utf8").trimEnd().split("\n");
    expect(lines[0]).toBe(recordLine(mapRecord("envoy-latency", 0, T0, 1000)).trimEnd());
    expect(lines.map((l) => (JSON.parse(l) as { ts: string }).ts)).toEqual(lines.map((_l, i) => new Date(T0 + i * 1000).toISOString()));

    // The same request against the name the file had: a different file now, so the whole of it.
    const replaced = await get(port, "/records/envoy-latency.ndjson", { range: `bytes=${have.length}-`, "if-range": etag });
    expect(replaced.status).toBe(200);
    expect(replaced.body.equals(readFileSync(join(dir, "envoy-latency.ndjson")))).toBe(true);
  });
});

describe("records limits", () => {
  it("cuts an open-ended range at the answer limit and refuses anything else larger with 413", async () => {
    const dir = outputDir("limits");
    writeRecords(dir, "envoy-latency", 0, 1000, { t0Ms: T0, stepMs: 1000 });
    const bytes = readFileSync(join(dir, "envoy-latency.ndjson"));
    const max = 64 * 1024;
    expect(bytes.length).toBeGreaterThan(2 * max);
    const { port, codes } = await serve(dir, { maxResponseBytes: max });

    const whole = await get(port, "/records/envoy-latency.ndjson");
    expect(whole.status).toBe(413);
    expect(json<{ error: string }>(whole).error).toBe(
      `the answer would be ${bytes.length} bytes, more than ${max}: ask for an open-ended range (Range: bytes=N-) or one of at most ${max} bytes`,
    );
    expect(whole.headers["content-type"]).toBe("application/json; charset=utf-8");
    const closed = await get(port, "/records/envoy-latency.ndjson", { range: `bytes=0-${max}` });
    expect(closed.status).toBe(413);
    // A program (served as text) larger than the limit is refused the same way, not a 500.
    writeFileSync(join(dir, "programs", "envoy-latency.bt"), `${"// padding\n".repeat(max / 8)}BEGIN { }\n`);
    const program = await get(port, "/records/programs/envoy-latency.bt");
    expect([program.status, program.headers["content-type"]]).toEqual([413, "application/json; charset=utf-8"]);
    expect(json<{ error: string }>(program).error).toBe(
      `the answer would be ${(max / 8) * 11 + 10} bytes, more than ${max}: ask for an open-ended range (Range: bytes=N-) or one of at most ${max} bytes`,
    );

    // A client loops over open-ended ranges and gets exactly the file.
    const parts: Buffer[] = [];
    let at = 0;
    while (at < bytes.length) {
      const part = await get(port, "/records/envoy-latency.ndjson", { range: `bytes=${at}-` });
      expect(part.status).toBe(206);
      expect(part.body.length).toBe(Math.min(max, bytes.length - at));
      expect(part.headers["content-range"]).toBe(`bytes ${at}-${at + part.body.length - 1}/${bytes.length}`);
      parts.push(part.body);
      at += part.body.length;
    }
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    expect(codes.slice(0, 3)).toEqual([413, 413, 413]);
  });

  it("answers 429 beyond the concurrency limit, and frees a slot when a stalled client times out", async () => {
    const dir = outputDir("concurrency");
    // Larger than what the kernel buffers on loopback, so an unread answer stays in flight.
    writeFileSync(join(dir, "big.ndjson"), Buffer.alloc(48 * 1024 * 1024, "x\n"));
    const { port } = await serve(dir, { concurrency: 2, maxResponseBytes: 48 * 1024 * 1024, idleTimeoutMs: 1000 });
    const held: { destroy: () => void }[] = [];
    await Promise.all(
      [0, 1].map(
        () =>
          new Promise<void>((resolve, reject) => {
            const req = request({ host: "127.0.0.1", port, path: "/records/big.ndjson", agent: false }, (res) => {
              res.pause(); // reads nothing more
              held.push(res.socket);
              resolve();
            });
            req.on("error", reject);
            req.end();
          }),
      ),
    );
    try {
      const refused = await get(port, "/records");
      expect(refused.status).toBe(429);
      expect(refused.headers["retry-after"]).toBe("1");
      expect(json<{ error: string }>(refused).error).toBe("at most 2 records requests at a time; retry later");
      // /status and /metrics are never limited.
      expect((await get(port, "/status")).status).toBe(200);

      // The stalled answers are cut off after the idle timeout (1 s); then requests are served again.
      let after = refused;
      for (let i = 0; i < 100 && after.status === 429; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await get(port, "/records");
      }
      expect(after.status).toBe(200);
    } finally {
      for (const s of held) s.destroy();
    }
  });

  it("is turned off: /records answers 404 and /status still works", async () => {
    const dir = outputDir("off");
    writeRecords(dir, "envoy-latency", 0, 5, { t0Ms: T0, stepMs: 1000 });
    const { port } = await serve(dir, null);
    expect((await get(port, "/records")).status).toBe(404);
    expect((await get(port, "/records/envoy-latency.ndjson")).status).toBe(404);
    expect((await get(port, "/status")).status).toBe(200);
  });
});

describe("records confinement", () => {
  it("refuses every path that is not a record file of the directory", async () => {
    const dir = outputDir("confined");
    writeRecords(dir, "envoy-latency", 0, 5, { t0Ms: T0, stepMs: 1000 });
    writeFileSync(join(dir, "notes.txt"), "x\n");
    writeFileSync(join(root, "outside.ndjson"), "secret\n");
    symlinkSync(join(root, "outside.ndjson"), join(dir, "linked.ndjson"));
    // A programs/ that is a link to a directory elsewhere.
    const elsewhere = join(root, "elsewhere");
    mkdirSync(elsewhere, { recursive: true });
    writeFileSync(join(elsewhere, "stolen.bt"), "secret\n");
    rmSync(join(dir, "programs"), { recursive: true });
    symlinkSync(elsewhere, join(dir, "programs"));
    const { port } = await serve(dir);
    for (const path of [
      "/records/../outside.ndjson",
      "/records/..%2Foutside.ndjson",
      "/records/%2e%2e/outside.ndjson",
      "/records/programs/../../outside.ndjson",
      "/records/linked.ndjson",
      "/records/notes.txt",
      "/records/programs/stolen.bt",
      "/records/programs%2Fstolen.bt",
      "/records/./envoy-latency.ndjson",
      "/records/%2Fetc%2Fpasswd.ndjson",
      "/records/",
    ]) {
      const res = await get(port, path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.body.toString()).not.toContain("secret");
    }
    const listing = json<RecordsListing>(await get(port, "/records"));
    expect(listing.files.map((f) => f.name)).toEqual(["envoy-latency.ndjson"]);
    expect(readdirSync(dir).sort()).toEqual(["envoy-latency.ndjson", "linked.ndjson", "notes.txt", "programs"]);
  });
});
