// `hookpoint check`'s usage errors exit 2 with one line naming the flag; its help lists its options.
import { describe, expect, it } from "vitest";
import { runCli } from "../../support/cli.js";

describe("hookpoint check usage", () => {
  it("--local does not go with the flags that choose a cluster", () => {
    expect(runCli(["check", "--local", "--kubeconfig", "k", "--context", "c"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "hookpoint check: --local checks this node, not a cluster: it cannot be combined with --kubeconfig, --context\n",
    });
  });
  it("--local does not take --timeout, which is for the API server and the TLS handshakes", () => {
    expect(runCli(["check", "--local", "--timeout", "1s"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "hookpoint check: --local checks this node, not a cluster: it cannot be combined with --timeout\n",
    });
  });
  it("an empty --bpftrace is a usage error naming the flag, not a failed check quoting spawn", () => {
    expect(runCli(["check", "--local", "--bpftrace", ""])).toEqual({ code: 2, stdout: "", stderr: 'hookpoint check: --bpftrace must name the bpftrace program (a path, or a name looked up in PATH), got ""\n' });
  });
  it("--bpftrace goes with --local", () => {
    expect(runCli(["check", "--bpftrace", "/usr/bin/bpftrace"])).toEqual({ code: 2, stdout: "", stderr: "hookpoint check: --bpftrace goes with --local\n" });
  });
  it("a bad output format, a bad timeout, a kubeconfig that is not there", () => {
    expect(runCli(["check", "-o", "yaml"])).toEqual({ code: 2, stdout: "", stderr: 'hookpoint check: --output must be text or json, got "yaml"\n' });
    expect(runCli(["check", "--timeout", "soon"]).stderr).toMatch(/^hookpoint check: --timeout: /);
    expect(runCli(["check", "--timeout", "soon"]).code).toBe(2);
    expect(runCli(["check", "--kubeconfig", "/nonexistent/kubeconfig"])).toEqual({ code: 2, stdout: "", stderr: "hookpoint check: /nonexistent/kubeconfig: cannot read: no such file\n" });
  });
  it("--help lists the options", () => {
    const r = runCli(["check", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("Usage: hookpoint check [options]");
    expect(r.stdout.match(/^ {2}(-\S+, )?--[a-z-]+/gm)?.map((o) => o.trim())).toEqual(["--kubeconfig", "--context", "--namespace", "--local", "--bpftrace", "--timeout", "-o, --output", "-h, --help"]);
  });
});
