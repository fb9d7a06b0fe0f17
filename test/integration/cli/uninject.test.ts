// `hookpoint uninject` as a process: on every pod shape of the golden tests
// (test/fixtures/pods, the Job and CronJob templates), inject then uninject
// gives back the input byte for byte, as YAML and as JSON; a second uninject
// changes nothing.
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { runCli } from "../../support/cli.js";

const fixtures = new URL("../../fixtures/", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "hookpoint-uninject-"));

function copyFixtures(dir: string, asJson: boolean): Record<string, string> {
  const files: Record<string, string> = {};
  for (const sub of ["pods", "workloads"]) {
    for (const f of readdirSync(join(fixtures, sub)).filter((n) => n.endsWith(".yaml"))) {
      const src = join(fixtures, sub, f);
      const name = `${sub}-${f.replace(/\.yaml$/, asJson ? ".json" : ".yaml")}`;
      if (asJson) writeFileSync(join(dir, name), JSON.stringify(parse(readFileSync(src, "utf8")), null, 2) + "\n");
      else cpSync(src, join(dir, name));
      files[name] = readFileSync(join(dir, name), "utf8");
    }
  }
  return files;
}

describe("hookpoint uninject", () => {
  for (const format of ["yaml", "json"] as const) {
    it(`gives back every golden pod shape byte for byte (${format})`, () => {
      const dir = mkdtempSync(join(tmp, `${format}-`));
      const original = copyFixtures(dir, format === "json");
      const injected = runCli(["inject", "-f", dir, "--force", "--in-place"]);
      expect(injected.code).toBe(0);
      const changed = Object.keys(original).filter((f) => readFileSync(join(dir, f), "utf8") !== original[f]);
      // Every shape with a proxy container was injected (host-network and no-proxy are skipped).
      expect(changed.sort()).toEqual(
        Object.keys(original)
          .filter((f) => !/host-network|no-proxy/.test(f))
          .sort(),
      );
      const r = runCli(["uninject", "-f", dir, "--in-place"]);
      expect(r.code).toBe(0);
      for (const [f, text] of Object.entries(original)) expect(readFileSync(join(dir, f), "utf8"), f).toBe(text);
      expect(r.stderr.split("\n").filter((l) => l.endsWith(": uninjected"))).toHaveLength(changed.length);
      // Idempotent: nothing left to remove.
      const again = runCli(["uninject", "-f", dir, "--diff"]);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe("");
      expect(again.stderr.split("\n").filter((l) => l !== "").every((l) => l.endsWith("unchanged: not injected by hookpoint (no hookpoint.dev/status annotation)"))).toBe(true);
    });
  }
  it("reads standard input and writes standard output", () => {
    const text = readFileSync("examples/bookinfo.yaml", "utf8");
    const injected = runCli(["inject", "-f", "-", "--policy", "examples/policy.yaml", "--namespaces", "examples/namespaces.yaml", "-q"], { input: text });
    const r = runCli(["uninject", "-f", "-"], { input: injected.stdout });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(text);
    expect(r.stderr).toBe(
      [
        "stdin: document 1: Service bookinfo/reviews: passed through: Service has no pod template",
        "stdin: document 2: Deployment bookinfo/reviews-v1: uninjected",
        "stdin: document 3: Deployment perf/loadgen: uninjected",
        "stdin: document 4: Deployment payments/ledger: unchanged: not injected by hookpoint (no hookpoint.dev/status annotation)",
        "",
      ].join("\n"),
    );
  });
  it("a damaged record: exit 1, the field inside the record named, nothing written", () => {
    const status = '{"version":"0.1.0","container":"istio-proxy","location":"containers","original":{"fields":{},"env":{"names":5}}}';
    const text = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: edited\n  annotations:\n    hookpoint.dev/status: '${status}'\nspec:\n  containers: [{name: istio-proxy}]\n`;
    const r = runCli(["uninject", "-f", "-"], { input: text });
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "stdin: document 1: Pod edited: failed: metadata.annotations.hookpoint.dev/status: original.env.names: must be a list of strings (got number 5) (the record was edited or damaged; re-create the pod from its un-injected manifest)\n" +
        "hookpoint uninject: 1 resource could not be restored (see above): nothing written\n",
    });
  });
  it("a pod injected by a hookpoint that kept no record: exit 1, the field named, nothing written", () => {
    const text = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: old\n  annotations:\n    hookpoint.dev/status: \'{"version":"0.0.9","container":"istio-proxy","location":"containers"}\'\nspec:\n  containers: [{name: istio-proxy}]\n';
    const r = runCli(["uninject", "-f", "-"], { input: text });
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "stdin: document 1: Pod old: failed: metadata.annotations.hookpoint.dev/status: holds no record of the original pod (injected by hookpoint 0.0.9); re-create the pod from its un-injected manifest\n" +
        "hookpoint uninject: 1 resource could not be restored (see above): nothing written\n",
    });
  });
});
