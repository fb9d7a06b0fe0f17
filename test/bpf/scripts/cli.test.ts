// `hookpoint scripts` as a user runs it, against the fixture binaries. Needs only the
// built fixture (no bpftrace): skipped, with the reason, when it is not built.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../src/catalog/catalog.js";
import { runCli } from "../../support/cli.js";
import { FIXTURE, ROOT, fixtureSkipReason } from "../agent/support.js";

const skip = fixtureSkipReason();
// Relative to the repository, as a user would type it; the fixture is staged outside
// the repository when the clone is not readable by the proxy's uid (then absolute).
const rel = (p: string): string => (p.startsWith(`${ROOT}/`) ? p.slice(ROOT.length + 1) : p);

describe("hookpoint scripts", () => {
  it("list -o json prints every script's header", async () => {
    const r = runCli(["scripts", "list", "-o", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual((await loadCatalog()).map((s) => s.header));
  });

  it("check says every script can run on the fixture Envoy, and what hookpoint-pairs will trace", (ctx) => {
    if (skip) return ctx.skip(skip);
    const r = runCli(["scripts", "check", "--binary", rel(FIXTURE.envoy)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(1)).toEqual([
      "ok       envoy-event-loop",
      "ok       envoy-filter-chain",
      "ok       envoy-http-filters",
      "ok       envoy-request-flow",
      "ok       envoy-request-trace",
      "ok       envoy-socket-io",
      "ok       hookpoint-pairs      7 pairs (CodecParse, Filters, Http::ConnectionManagerImpl::ActiveStream::Decode, Router, Router::Filter::Route, Router::UpstreamRequest::Upstream, UpstreamConnect), 1 counter (RequestSeen)",
      "",
    ]);
    expect(r.stdout.split("\n")[0]).toMatch(new RegExp(`^${rel(FIXTURE.envoy)}: \\d+ function symbols, build-id [0-9a-f]{40}$`));
  });

  it("check on the stripped binary names each script that needs symbols, and exits 1", (ctx) => {
    if (skip) return ctx.skip(skip);
    const bin = rel(FIXTURE.stripped);
    const r = runCli(["scripts", "check", "--binary", bin, "-o", "json"]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { stripped: boolean; scripts: { name: string; ok: boolean; reason?: string; message?: string }[] };
    expect(doc.stripped).toBe(true);
    expect(doc.scripts.map((s) => [s.name, s.ok, s.reason ?? null])).toEqual([
      ["envoy-event-loop", true, null],
      ["envoy-filter-chain", false, "stripped"],
      ["envoy-http-filters", false, "stripped"],
      ["envoy-request-flow", false, "stripped"],
      ["envoy-request-trace", false, "stripped"],
      ["envoy-socket-io", true, null],
      ["hookpoint-pairs", false, "stripped"],
    ]);
    expect(doc.scripts[1]?.message).toBe(`envoy-filter-chain: ${bin} is stripped (no symbol table), and the script probes symbols hookpointFiltersStart, hookpointFiltersEnd`);
  });

  it("check --script takes only known names and lists the available ones", (ctx) => {
    if (skip) return ctx.skip(skip);
    const ok = runCli(["scripts", "check", "--binary", rel(FIXTURE.envoy), "--script", "envoy-socket-io"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.split("\n").slice(1)).toEqual(["ok       envoy-socket-io", ""]);
    const bad = runCli(["scripts", "check", "--binary", rel(FIXTURE.envoy), "--script", "envoy-socket-io,envoy-tls"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'hookpoint scripts check: unknown script "envoy-tls"; available: envoy-event-loop, envoy-filter-chain, envoy-http-filters, envoy-request-flow, envoy-request-trace, envoy-socket-io, hookpoint-pairs\n',
    );
  });

  it("check on a file that is not there says so", () => {
    const r = runCli(["scripts", "check", "--binary", "no/such/envoy"]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: "hookpoint scripts check: no/such/envoy: cannot open: no such file\n" });
  });

  it("check on a FIFO or a device says so in words, exit 2, without waiting for a writer", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-scripts-fifo-"));
    try {
      const fifo = join(dir, "envoy");
      execFileSync("mkfifo", [fifo]);
      expect(runCli(["scripts", "check", "--binary", fifo])).toEqual({ code: 2, stdout: "", stderr: `hookpoint scripts check: ${fifo}: is a FIFO, not the Envoy binary\n` });
      expect(runCli(["scripts", "check", "--binary", "/dev/zero"])).toEqual({ code: 2, stdout: "", stderr: "hookpoint scripts check: /dev/zero: is a device, not the Envoy binary\n" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("check and show on a directory say so in words, exit 2", () => {
    expect(runCli(["scripts", "check", "--binary", "bpf"])).toEqual({ code: 2, stdout: "", stderr: "hookpoint scripts check: bpf: cannot read: is a directory\n" });
    expect(runCli(["scripts", "show", "envoy-event-loop", "--binary", "bpf", "--pid", "1"])).toEqual({ code: 2, stdout: "", stderr: "hookpoint scripts show: bpf: cannot read: is a directory\n" });
  });

  // /bin/ls as in the README: a binary with a symbol table and no hookpoint functions.
  it("check --script repeats, and a name given twice is checked once", () => {
    const r = runCli(["scripts", "check", "--binary", "/bin/ls", "--script", "envoy-event-loop", "--script", "hookpoint-pairs,hookpoint-pairs"]);
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n").slice(1)).toEqual([
      "ok       envoy-event-loop",
      "missing  hookpoint-pairs   /bin/ls has no hookpoint<Name> function (a modified Envoy exports e.g. hookpointFiltersStart/hookpointFiltersEnd)",
      "",
    ]);
  });

  it("show prints the bundled script, or the program for one process", async (ctx) => {
    const plain = runCli(["scripts", "show", "envoy-event-loop"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe((await loadCatalog()).find((s) => s.header.name === "envoy-event-loop")?.source);
    if (skip) return ctx.skip(skip);
    const rendered = runCli(["scripts", "show", "envoy-filter-chain", "--binary", FIXTURE.envoy, "--pid", "4321", "--interval", "2"]);
    expect(rendered.code).toBe(0);
    expect(rendered.stdout.split("\n")[0]).toBe(`// hookpoint envoy-filter-chain: pid 4321, ${FIXTURE.envoy}, flush every 2s`);
    expect(rendered.stdout.match(/^uprobe:.*$/gm)).toEqual([
      expect.stringMatching(new RegExp(`^uprobe:"${FIXTURE.envoy}":0x[0-9a-f]+ /pid == 4321/$`)),
      expect.stringMatching(new RegExp(`^uprobe:"${FIXTURE.envoy}":0x[0-9a-f]+ /pid == 4321/$`)),
    ]);
    const byName = runCli(["scripts", "show", "envoy-filter-chain", "--binary", FIXTURE.envoy, "--pid", "4321", "--by-name"]);
    expect(byName.stdout.match(/^uprobe:.*$/gm)).toEqual([
      `uprobe:"${FIXTURE.envoy}":hookpointFiltersStart /pid == 4321/`,
      `uprobe:"${FIXTURE.envoy}":hookpointFiltersEnd /pid == 4321/`,
    ]);
  });

  it("show refuses half a target and a bad pid", () => {
    const half = runCli(["scripts", "show", "envoy-event-loop", "--pid", "5"]);
    expect(half.code).toBe(2);
    expect(half.stderr).toBe("hookpoint scripts show: give both --binary and --pid to render a program, or neither to print the script\n");
    const bad = runCli(["scripts", "show", "envoy-event-loop", "--binary", "/x", "--pid", "-3"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--pid <pid>' argument '-3' is invalid. expected a positive whole number, got \"-3\"");
  });
});
