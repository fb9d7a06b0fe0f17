// Usage errors are bad input too: exit 2 with commander's message in one line, as every error; help and version exit 0.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, runCli } from "../../support/cli.js";

describe("hookpoint usage", () => {
  it("an unknown option exits 2 and names it in one line, as every error is", () => {
    expect(runCli(["inject", "-f", "examples/bookinfo.yaml", "--bogus"])).toEqual({ code: 2, stdout: "", stderr: "hookpoint inject: unknown option '--bogus' (see hookpoint inject --help)\n" });
    expect(runCli(["inject", "-f", "examples/bookinfo.yaml", "--forse"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "hookpoint inject: unknown option '--forse' (Did you mean --force?) (see hookpoint inject --help)\n",
    });
    expect(runCli(["certs", "rotate-ca", "--bogus"]).stderr).toBe("hookpoint certs rotate-ca: unknown option '--bogus' (see hookpoint certs rotate-ca --help)\n");
    expect(runCli(["bogus"])).toEqual({ code: 2, stdout: "", stderr: "hookpoint: unknown command 'bogus' (see hookpoint --help)\n" });
  });
  it("a missing required option exits 2 and names it", () => {
    expect(runCli(["explain"])).toEqual({ code: 2, stdout: "", stderr: "hookpoint explain: required option '-f, --filename <file>' not specified (see hookpoint explain --help)\n" });
  });
  it("a reader that closes the pipe early (| head): no stack trace, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-epipe-"));
    const many = join(dir, "many.yaml");
    // Far more than a pipe's buffer (64 KiB) once injected.
    writeFileSync(many, Array.from({ length: 300 }, (_, i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: bookinfo}\nspec:\n  containers: [{name: istio-proxy, image: auto}]\n`).join("---\n"));
    const cli = `"${process.execPath}" --import tsx src/cli/main.ts inject -q -f ${many} --namespaces examples/namespaces.yaml`;
    const r = spawnSync("bash", ["-c", `${cli} 2>"${dir}/err" | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`], { cwd: repoRoot, encoding: "utf8" });
    expect({ code: r.stdout, stderr: readFileSync(join(dir, "err"), "utf8") }).toEqual({ code: "1\n", stderr: "" });
    rmSync(dir, { recursive: true, force: true });
  });
  it("no kubeconfig anywhere: every cluster command says so and how to give one, exit 2, not the client's http://localhost:8080 TLS refusal", () => {
    const home = mkdtempSync(join(tmpdir(), "hookpoint-nohome-"));
    const env = { HOME: home, KUBECONFIG: "", KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined };
    const why = "no kubeconfig: KUBECONFIG is unset, ~/.kube/config does not exist and this is not a pod with a service account; give one with --kubeconfig FILE or the KUBECONFIG environment variable";
    for (const cmd of [["status"], ["check"], ["certs", "rotate-ca"], ["explain", "-f", "examples/bookinfo.yaml", "--context", "kind"], ["enable", "-n", "bookinfo"]]) {
      expect(runCli(cmd, { env })).toEqual({ code: 2, stdout: "", stderr: `hookpoint ${cmd[0] === "certs" ? "certs rotate-ca" : cmd[0]}: ${why}\n` });
    }
    // A KUBECONFIG that names no file: the error names it.
    expect(runCli(["status"], { env: { ...env, KUBECONFIG: join(home, "none") } })).toEqual({ code: 2, stdout: "", stderr: `hookpoint status: ${join(home, "none")}: cannot read: no such file\n` });
    rmSync(home, { recursive: true });
  });
  it("enable and disable take --timeout as seconds or as a duration, as status, collect and check take it", () => {
    const home = mkdtempSync(join(tmpdir(), "hookpoint-nohome-"));
    const env = { HOME: home, KUBECONFIG: "", KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined };
    // Accepted: the command goes on to look for a kubeconfig.
    const noKubeconfig = (cmd: string) =>
      `hookpoint ${cmd}: no kubeconfig: KUBECONFIG is unset, ~/.kube/config does not exist and this is not a pod with a service account; give one with --kubeconfig FILE or the KUBECONFIG environment variable\n`;
    expect(runCli(["enable", "-n", "shop", "--timeout", "5m"], { env })).toEqual({ code: 2, stdout: "", stderr: noKubeconfig("enable") });
    expect(runCli(["disable", "-n", "shop", "--timeout", "300"], { env })).toEqual({ code: 2, stdout: "", stderr: noKubeconfig("disable") });
    const refused = (value: string) => `hookpoint enable: --timeout must be whole seconds (300) or a duration (5m, 1h30m) from 1s to 24h, got "${value}"\n`;
    for (const value of ["soon", "0", "25h", "1.5s", "500ms"]) expect(runCli(["enable", "-n", "shop", "--timeout", value], { env })).toEqual({ code: 2, stdout: "", stderr: refused(value) });
    rmSync(home, { recursive: true });
  });
  it("--version prints the version and exits 0", () => {
    const r = runCli(["--version"]);
    expect(r).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });
  });
  it("certs --help lists its rotate-ca subcommand, whose --help lists its options", () => {
    const certs = runCli(["certs", "--help"]);
    expect(certs.code).toBe(0);
    expect(certs.stdout.split("Commands:")[1]?.trim().split(/\s+/).slice(0, 2)).toEqual(["rotate-ca", "[options]"]);
    const rotate = runCli(["certs", "rotate-ca", "--help"]);
    expect(rotate.code).toBe(0);
    const options = rotate.stdout.split("Options:")[1]?.split("\n").filter((l) => /^ {2}-/.test(l)).map((l) => l.trim().split(/\s{2,}/)[0]);
    expect(options).toEqual(["--kubeconfig <file>", "--context <name>", "-n, --namespace <ns>", "-h, --help"]);
  });
  it("--help lists every command and exits 0", () => {
    const r = runCli(["--help"]);
    expect(r.code).toBe(0);
    const commands = r.stdout.split("Commands:")[1]?.split("\n").filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    expect(commands).toEqual(["webhook", "inject", "explain", "uninject", "enable", "disable", "certs", "agent", "scripts", "status", "collect", "report", "check", "version", "completion", "help"]);
  });
});
