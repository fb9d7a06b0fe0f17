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
