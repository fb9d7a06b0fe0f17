// `hookpoint version` and `hookpoint completion`: the versions it reports, and
// completion scripts loaded into the real shells and asked for completions
// through their own machinery (bash's COMP_WORDS/complete, fish's complete -C;
// zsh through bashcompinit, where zsh itself filters by the typed prefix).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../support/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "hookpoint-completion-"));
const scripts: Record<string, string> = {};
const has = (shell: string) => spawnSync("sh", ["-c", `command -v ${shell}`]).status === 0;

beforeAll(() => {
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = runCli(["completion", shell]);
    if (r.code !== 0) throw new Error(`completion ${shell}: ${r.stderr}`);
    scripts[shell] = join(tmp, `hookpoint.${shell}`);
    writeFileSync(scripts[shell] as string, r.stdout);
  }
}, 120_000);

describe("hookpoint version", () => {
  it("prints the CLI, webhook and agent versions and the Istio line of the tracing image", () => {
    expect(runCli(["version"])).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        "hookpoint 0.1.0",
        "webhook:  0.1.0, from this build: hookpoint webhook",
        "agent:    0.1.0, from this build: hookpoint agent, in the tracing image hookpoint/proxy-istio:0.1.0-istio1.28.0",
        "istio:    1.28.0, from the tracing image hookpoint/proxy-istio:0.1.0-istio1.28.0",
        "",
      ].join("\n"),
    });
    expect(JSON.parse(runCli(["version", "-o", "json"]).stdout)).toEqual({
      client: "0.1.0",
      webhook: { version: "0.1.0", source: "this build: hookpoint webhook" },
      agent: { version: "0.1.0", source: "this build: hookpoint agent, in the tracing image hookpoint/proxy-istio:0.1.0-istio1.28.0" },
      istio: { version: "1.28.0", source: "the tracing image hookpoint/proxy-istio:0.1.0-istio1.28.0" },
    });
  });
  it("a bad output format is a usage error", () => {
    expect(runCli(["version", "-o", "yaml"])).toEqual({ code: 2, stdout: "", stderr: 'hookpoint version: --output must be text or json, got "yaml"\n' });
  });
  it("an API server that cannot be reached: exit 1, the reason in words", () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const kubeconfig = join(tmp, "unreachable");
    writeFileSync(
      kubeconfig,
      "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:1', insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
    );
    expect(runCli(["version", "--kubeconfig", kubeconfig])).toEqual({
      code: 1,
      stdout: "",
      stderr: "hookpoint version: cannot list the traced pods (label hookpoint.dev/injected=true) on http://127.0.0.1:1: connection refused\n",
    });
  });
});

/** What bash's completion function offers for the words typed so far (the last one being completed). */
function bash(...words: string[]): string[] {
  const line = `source ${scripts.bash}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _hookpoint; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["-c", line], { encoding: "utf8", cwd: tmp });
  return r.stdout.split("\n").filter((l) => l !== "");
}

describe("hookpoint completion bash", () => {
  it("is registered with bash's complete", () => {
    const r = spawnSync("bash", ["-c", `source ${scripts.bash}; complete -p hookpoint`], { encoding: "utf8" });
    expect(r.stdout).toBe("complete -o default -F _hookpoint hookpoint\n");
  });
  it("completes commands, subcommands, options and their values", () => {
    expect(bash("hookpoint", "un")).toEqual(["uninject"]);
    expect(bash("hookpoint", "scripts", "")).toEqual(["list", "check", "show", "--help"]);
    expect(bash("hookpoint", "scripts", "check", "--s")).toEqual(["--script"]);
    expect(bash("hookpoint", "inject", "-f", "x.yaml", "--in")).toEqual(["--in-place"]);
    expect(bash("hookpoint", "completion", "")).toEqual(["bash", "zsh", "fish", "--help"]);
    // A value once typed is not offered again.
    expect(bash("hookpoint", "completion", "bash", "")).toEqual(["--help"]);
    expect(bash("hookpoint", "ch")).toEqual(["check"]);
    expect(bash("hookpoint", "check", "--l")).toEqual(["--local"]);
    expect(bash("hookpoint", "certs", "ro")).toEqual(["rotate-ca"]);
    expect(bash("hookpoint", "certs", "rotate-ca", "")).toEqual(["--kubeconfig", "--context", "-n", "--namespace", "--help"]);
    writeFileSync(join(tmp, "app.yaml"), "");
    expect(bash("hookpoint", "explain", "--policy", "ap")).toEqual(["app.yaml"]);
  });
  it("offers files and folders for report's folder argument, options once a dash is typed", () => {
    mkdirSync(join(tmp, "traces"), { recursive: true });
    expect(bash("hookpoint", "report", "tr")).toEqual(["traces"]);
    expect(bash("hookpoint", "report", "-")).toEqual(["-o", "--output", "--format", "--help"]);
  });
  it("offers the fixed values of the options each command checks itself", () => {
    expect(bash("hookpoint", "explain", "-o", "")).toEqual(["table", "json"]);
    expect(bash("hookpoint", "status", "--output", "")).toEqual(["table", "json"]);
    expect(bash("hookpoint", "check", "-o", "")).toEqual(["text", "json"]);
    expect(bash("hookpoint", "version", "-o", "j")).toEqual(["json"]);
    expect(bash("hookpoint", "inject", "--default-pod-security", "")).toEqual(["privileged", "baseline", "restricted"]);
    expect(bash("hookpoint", "webhook", "--default-pod-security", "b")).toEqual(["baseline"]);
    expect(bash("hookpoint", "webhook", "--log-level", "")).toEqual(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
    // The commands still refuse another value in one line of their own (usage text not repeated).
    expect(runCli(["explain", "-f", "examples/bookinfo.yaml", "-o", "xml"])).toEqual({ code: 2, stdout: "", stderr: 'hookpoint explain: --output must be table or json, got "xml"\n' });
  });
});

describe("hookpoint completion zsh and fish", () => {
  it("zsh: loads, and offers the words of the command typed so far", (ctx) => {
    if (!has("zsh")) return ctx.skip("zsh is not installed (scripts/setup/12-shells.sh installs it as root)");
    const run = (words: string[]) =>
      spawnSync("zsh", ["-c", `source ${scripts.zsh}; setopt ksharrays; COMP_WORDS=(${words.join(" ")} ''); COMP_CWORD=${words.length}; _hookpoint; print -l -- "\${COMPREPLY[@]}"`], { encoding: "utf8", cwd: tmp });
    const r = run(["hookpoint", "scripts"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n").filter(Boolean)).toEqual(["list", "check", "show", "--help"]);
    expect(run(["hookpoint"]).stdout.split("\n")).toContain("uninject");
  });
  it("fish: complete -C gives the completions of a command line", (ctx) => {
    if (!has("fish")) return ctx.skip("fish is not installed (scripts/setup/12-shells.sh installs it as root)");
    const complete = (line: string) => spawnSync("fish", ["-c", `source ${scripts.fish}; complete -C '${line}'`], { encoding: "utf8", cwd: tmp }).stdout.split("\n").filter(Boolean);
    expect(complete("hookpoint un")).toEqual(["uninject"]);
    expect(complete("hookpoint completion ")).toEqual(["bash", "fish", "zsh"]);
    expect(complete("hookpoint inject --in")).toEqual(["--in-place\trewrite each input file that changes (not with -f -)"]);
    expect(complete("hookpoint scripts ").map((l) => l.split("\t")[0])).toEqual(["check", "list", "show"]);
    // `hookpoint check` and `hookpoint scripts check` each get their own options.
    expect(complete("hookpoint check --").map((l) => l.split("\t")[0])).toEqual(["--bpftrace", "--context", "--kubeconfig", "--local", "--namespace", "--output", "--timeout"]);
    expect(complete("hookpoint scripts check --").map((l) => l.split("\t")[0])).toEqual(["--binary", "--output", "--script"]);
    expect(complete("hookpoint certs ro")).toEqual(["rotate-ca"]);
    // Once a subcommand (or an argument's value) is typed, the command's own words stop.
    expect(complete("hookpoint scripts show ")).toEqual([]);
    expect(complete("hookpoint certs rotate-ca --").map((l) => l.split("\t")[0])).toEqual(["--context", "--kubeconfig", "--namespace"]);
    expect(complete("hookpoint completion bash ")).toEqual([]);
    // report's folder argument completes as a path (file completion is off for every other word).
    mkdirSync(join(tmp, "traces"), { recursive: true });
    expect(complete("hookpoint report tr")).toEqual(["traces/"]);
    expect(complete("hookpoint inject tr")).toEqual([]);
  });
});
