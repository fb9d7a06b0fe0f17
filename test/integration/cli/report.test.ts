// `hookpoint report` as a user runs it: a real process, its exit code, stderr and files.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, runCliAsync } from "../../support/cli.js";
import { fifoReader } from "../../support/fifo.js";
import { generateRequests, writeCollectLayout } from "../../support/request-records.js";

let dir: string;
let out: string;
const pods = [{ namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", bootWallNs: 1_738_300_000_000_000_000n, pid: 4242, workers: 2 }];
const records = generateRequests({ pods, count: 40, seed: 9 });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hookpoint-report-cli-"));
  out = mkdtempSync(join(tmpdir(), "hookpoint-report-out-"));
  // An id that tries to close the data's <script> element and open one of its own.
  records[0]!.id = '</script><script>document.title="pwned"</script>';
  writeCollectLayout(join(dir, "results"), records);
  writeFileSync(join(dir, "results/shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson.1"), '{"kind":"request","ts":"2025-01-31T12:00:00Z","protocol":"HTTP/1.1"}\n');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

describe("hookpoint report", () => {
  it("writes one HTML page, names each bad line on stderr and exits 0", () => {
    const file = join(out, "r.html");
    const r = runCli(["report", join(dir, "results"), "-o", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toBe(`hookpoint report: skipped ${join(dir, "results/shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson.1")}:1: script: expected a string, got undefined`);
    expect(lines[1]).toMatch(new RegExp(`^hookpoint report: wrote ${file} \\(html, \\d+\\.\\d MB\\) from 40 request records and 0 map records of 1 pod in \\d+\\.\\d s$`));
    const html = readFileSync(file, "utf8");
    // Exactly the page's own two script elements close; the id's "</script>" is escaped.
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    const data = html.slice(html.indexOf('id="hookpoint-data">') + 20, html.indexOf("</script>"));
    expect(JSON.parse(data).requests.id).toContain(records[0]!.id);
    expect(html).not.toMatch(/<(link|img|iframe)\b|src="http|href="http/);
    expect(readdirSync(out).filter((f) => f.includes("hookpoint-") || f.includes(".tmp-"))).toEqual([]);
  });

  it("writes the Perfetto and OTLP exports", () => {
    const perfetto = join(out, "t.json");
    expect(runCli(["report", join(dir, "results"), "--format", "perfetto", "-o", perfetto]).code).toBe(0);
    const trace = JSON.parse(readFileSync(perfetto, "utf8")) as { traceEvents: { ph: string; name: string }[] };
    expect(trace.traceEvents.filter((e) => e.ph === "X" && e.name.startsWith("request "))).toHaveLength(40);
    const otlp = join(out, "t.jsonl");
    expect(runCli(["report", join(dir, "results"), "--format", "otlp", "-o", otlp]).code).toBe(0);
    const lines = readFileSync(otlp, "utf8").trim().split("\n");
    expect(lines).toHaveLength(1);
    const spans = (JSON.parse(lines[0]!) as { resourceSpans: { scopeSpans: { spans: { kind: number }[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(spans.filter((s) => s.kind === 2)).toHaveLength(40);
  });

  it("-o - writes the export to standard output", () => {
    const r = runCli(["report", join(dir, "results"), "--format", "otlp", "-o", "-"]);
    expect(r.code).toBe(0);
    expect(r.stderr.split("\n").at(-2)).toMatch(/^hookpoint report: wrote standard output \(otlp, 0\.\d MB\) from 40 request records and 0 map records of 1 pod in \d+\.\d s$/);
    const lines = r.stdout.trim().split("\n");
    const spans = (JSON.parse(lines[0]!) as { resourceSpans: { scopeSpans: { spans: { kind: number }[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans;
    expect({ lines: lines.length, server: spans.filter((s) => s.kind === 2).length }).toEqual({ lines: 1, server: 40 });
  });

  it("writes an export into a FIFO a reader holds open, keeping the FIFO; where it cannot write, says so in words, exit 1", async () => {
    const fifo = join(out, "spans.fifo");
    const reader = fifoReader(fifo);
    const r = await runCliAsync(["report", join(dir, "results"), "--format", "otlp", "-o", fifo]);
    const read = await reader.read();
    expect(r.code).toBe(0);
    expect(r.stderr.split("\n").at(-2)).toMatch(new RegExp(`^hookpoint report: wrote ${fifo} \\(otlp\\) from 40 request records and 0 map records of 1 pod in \\d+\\.\\d s$`));
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    const spans = (JSON.parse(read.trim()) as { resourceSpans: { scopeSpans: { spans: { kind: number }[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(spans.filter((s) => s.kind === 2)).toHaveLength(40);

    for (const format of ["html", "perfetto"]) {
      const missing = join(out, "no/such/dir", `r.${format}`);
      const w = runCli(["report", join(dir, "results"), "--format", format, "-o", missing]);
      expect({ code: w.code, last: w.stderr.split("\n").at(-2) }).toEqual({ code: 1, last: `hookpoint report: cannot write ${missing}: no such directory` });
    }
    const folder = runCli(["report", join(dir, "results"), "-o", out]);
    expect({ code: folder.code, last: folder.stderr.split("\n").at(-2) }).toEqual({ code: 1, last: `hookpoint report: cannot write ${out}: is a directory` });
  });

  it("exits 1 when nothing is readable, saying why", () => {
    mkdirSync(join(dir, "empty/x"), { recursive: true });
    writeFileSync(join(dir, "empty/x/a.ndjson"), "nope\n");
    const r = runCli(["report", join(dir, "empty"), "-o", join(out, "none.html")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`hookpoint report: skipped ${join(dir, "empty/x/a.ndjson")}:1: not JSON (`);
    expect(r.stderr).toContain(`hookpoint report: no records found in ${join(dir, "empty")} (1 record file, 1 problem)\n`);
    expect(existsSync(join(out, "none.html"))).toBe(false);
  });

  it("says which record file it skipped as a symbolic link, and why", () => {
    mkdirSync(join(dir, "linked/shop/web-0"), { recursive: true });
    symlinkSync(join(dir, "results/shop/cart-7d9f8b6c5d-x2x4z/envoy-request-trace.ndjson"), join(dir, "linked/shop/web-0/envoy-request-trace.ndjson"));
    const r = runCli(["report", join(dir, "linked"), "-o", join(out, "linked.html")]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 1,
      stderr:
        `hookpoint report: skipped ${join(dir, "linked/shop/web-0/envoy-request-trace.ndjson")}: a symbolic link, which the report does not follow (copy the file in to include it)\n` +
        `hookpoint report: no records found in ${join(dir, "linked")} (0 record files, 1 problem)\n`,
    });
  });

  it("says how many traced requests have no record and why, from the manifest's counts, in total and per pod", () => {
    const manifest = (pods: Record<string, unknown>[]) => ({ version: 1, cluster: { server: "https://127.0.0.1", context: "test" }, collectedAt: "2026-03-01T12:00:00.000Z", since: null, until: "2026-03-01T12:00:01.000Z", pods });
    const cart = { namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z" };
    const counts = (c: Record<string, number>) => ({ recorded: 0, aborted: 0, timeout: 0, incomplete: 0, invalid: 0, overflow: 0, rate_capped: 0, unfinished: 0, lost: 0, ...c });
    const closing = (pods: Record<string, unknown>[]) => {
      const folder = join(dir, `outcomes-${pods.length}-${JSON.stringify(pods).length}`);
      writeCollectLayout(folder, records, manifest(pods));
      const r = runCli(["report", folder, "-o", join(out, "outcomes.html")]);
      expect(r.code).toBe(0);
      return r.stderr.trim().split("\n");
    };
    const wrote = expect.stringMatching(/^hookpoint report: wrote .* from 40 request records and 0 map records of \d pods? in \d+\.\d s$/);
    expect(closing([{ ...cart, traceRequestsOverAgentLife: counts({ recorded: 40, aborted: 1, timeout: 1 }) }])).toEqual([
      wrote,
      "hookpoint report: 2 traced requests have no record: 1 aborted, 1 timeout (the agent's counts over its life, at collect time)",
    ]);
    // A second pod whose agent wrote no record at all counts too, and each pod is named.
    expect(closing([{ ...cart, traceRequestsOverAgentLife: counts({ recorded: 40, aborted: 1, timeout: 1 }) }, { namespace: "shop", name: "db-0", traceRequestsOverAgentLife: counts({ aborted: 1 }) }])).toEqual([
      wrote,
      "hookpoint report: 3 traced requests have no record: 2 aborted, 1 timeout (the agent's counts over its life, at collect time): shop/cart-7d9f8b6c5d-x2x4z 1 aborted, 1 timeout; shop/db-0 1 aborted",
    ]);
    // Nothing when every traced request was recorded, or the manifest has no counts.
    expect(closing([{ ...cart, traceRequestsOverAgentLife: counts({ recorded: 40 }) }])).toEqual([wrote]);
    expect(closing([cart])).toEqual([wrote]);
  });

  it("exits 2 on usage errors", () => {
    const missing = runCli(["report", join(dir, "nowhere")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`hookpoint report: ${join(dir, "nowhere")}: cannot read: no such directory\n`);
    const file = join(dir, "results.yaml");
    writeFileSync(file, "");
    expect(runCli(["report", file])).toEqual({
      code: 2,
      stdout: "",
      stderr: `hookpoint report: ${file}: not a folder (give the folder \`hookpoint collect -o\` wrote, or any folder of agent NDJSON files)\n`,
    });
    const format = runCli(["report", join(dir, "results"), "--format", "pdf"]);
    expect(format.code).toBe(2);
    expect(format.stderr).toBe("hookpoint report: option '--format <format>' argument 'pdf' is invalid. Allowed choices are html, perfetto, otlp. (see hookpoint report --help)\n");
    expect(runCli(["report"]).code).toBe(2);
  });
});
