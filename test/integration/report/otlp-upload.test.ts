// docs/traces.md's command that sends an OTLP export to Jaeger, run as written against a
// local OTLP/HTTP stand-in: every line of a real export (3 MB lines of 500 requests) must
// arrive whole, one POST per line.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot, runCli } from "../../support/cli.js";
import { generateRequests, writeCollectLayout } from "../../support/request-records.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-otlp-upload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The upload command as docs/traces.md gives it (inline code naming JAEGER:4318). */
function documentedCommand(): string {
  const doc = readFileSync(join(repoRoot, "docs/traces.md"), "utf8");
  const m = /`(while [^`]*JAEGER:4318[^`]*)`/.exec(doc);
  if (!m) throw new Error("docs/traces.md: no upload command naming JAEGER:4318");
  return m[1]!;
}

describe("the documented OTLP upload", () => {
  it("posts each line of a 1,200-request export whole", async (ctx) => {
    if (spawnSync("curl", ["--version"]).error) return ctx.skip("no curl on this machine");
    const pods = [{ namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", bootWallNs: 1_738_300_000_000_000_000n, pid: 4242, workers: 2 }];
    writeCollectLayout(join(dir, "in"), generateRequests({ pods, count: 1200, seed: 3 }));
    expect(runCli(["report", join(dir, "in"), "--format", "otlp", "-o", join(dir, "report.otlp.jsonl")]).code).toBe(0);
    const lines = readFileSync(join(dir, "report.otlp.jsonl"), "utf8").split("\n").filter(Boolean);

    const bodies: { path: string; type: string; body: string }[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        bodies.push({ path: req.url ?? "", type: req.headers["content-type"] ?? "", body: Buffer.concat(chunks).toString("utf8") });
        res.setHeader("content-type", "application/json");
        res.end("{}");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    // The shell runs asynchronously so this process's server can answer it.
    const code = await new Promise<number | null>((resolve) => {
      spawn("sh", ["-c", documentedCommand().replace("JAEGER:4318", `127.0.0.1:${port}`)], { cwd: dir, stdio: "ignore" }).on("exit", resolve);
    });
    server.close();
    expect(code).toBe(0);
    // 500 requests a line: 500, 500, 200; each line far past one argument's 128 KiB.
    expect(lines.map((l) => (JSON.parse(l) as { resourceSpans: { scopeSpans: { spans: { kind: number }[] }[] }[] }).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).filter((s) => s.kind === 2).length)).toEqual([500, 500, 200]);
    expect(lines[0]!.length).toBeGreaterThan(1_000_000);
    expect(bodies).toEqual(lines.map((body) => ({ path: "/v1/traces", type: "application/json", body })));
  });
});
