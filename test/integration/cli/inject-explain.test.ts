// `hookpoint inject` and `hookpoint explain` as processes: output, exit codes,
// and no half-written output on bad input.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectGoldenText } from "../../support/golden.js";
import { runCli } from "../../support/cli.js";

const inputs = ["--policy", "examples/policy.yaml", "--namespaces", "examples/namespaces.yaml"];
const golden = (f: string) => new URL(`./golden/${f}`, import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "hookpoint-cli-"));
const write = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

describe("hookpoint inject", () => {
  it("rewrites the example and writes it to stdout", () => {
    const r = runCli(["inject", "-f", "examples/bookinfo.yaml", ...inputs]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expectGoldenText(golden("bookinfo-injected.yaml"), r.stdout);
  });
  it("reads standard input with -f - and is idempotent", () => {
    const first = runCli(["inject", "-f", "examples/bookinfo.yaml", ...inputs]);
    const again = runCli(["inject", "-f", "-", ...inputs], { input: first.stdout });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(first.stdout);
  });
  it("prints warnings on stderr, naming the workload", () => {
    const f = write("opt-in.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: solo\n  namespace: web\n  annotations: {hookpoint.dev/inject: \"true\"}\nspec:\n  containers: [{name: istio-proxy, image: auto}]\n");
    const r = runCli(["inject", "-f", f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('Pod web/solo: hookpoint: annotation hookpoint.dev/inject="true" ignored: namespace web is not labelled hookpoint.dev/inject=enabled and the built-in default policy has no allowPodOptIn selecting it\n');
  });

  const bad: Array<[string, string[], string]> = [
    ["malformed YAML", ["inject", "-f", "@bad.yaml"], "hookpoint inject: @bad.yaml: document 2: malformed YAML at line 7, column 1: Map keys must be unique\n"],
    ["pod template without containers", ["inject", "-f", "@nocontainers.yaml"], "hookpoint inject: @nocontainers.yaml: document 2: spec.template.spec.containers: missing or empty\n"],
    ["unknown --policy field", ["inject", "-f", "examples/bookinfo.yaml", "--policy", "@policy.yaml"], "hookpoint inject: @policy.yaml: document 1: spec.mdoe: unknown field (known: mode, priority, namespaceSelector, podSelector, excludedNamespaces, allowPodOptIn, targetContainers, allowedImages, defaultProfile, profiles)\n"],
    ["missing file", ["inject", "-f", "@missing.yaml"], "hookpoint inject: @missing.yaml: cannot read: ENOENT\n"],
    ["explain: bad output format", ["explain", "-f", "examples/bookinfo.yaml", "-o", "xml"], 'hookpoint explain: --output: must be table or json, got "xml"\n'],
  ];
  const files: Record<string, string> = {
    "bad.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: a}]}\n---\nkind: Pod\nkind: Pod\n",
    "nocontainers.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: []\n",
    "policy.yaml": "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: p}\nspec:\n  mdoe: Enabled\n",
  };
  for (const [what, args, message] of bad) {
    it(`exit 2 and nothing on stdout: ${what}`, () => {
      const resolved = args.map((a) => (a.startsWith("@") ? (files[a.slice(1)] !== undefined ? write(a.slice(1), files[a.slice(1)] as string) : join(tmp, a.slice(1))) : a));
      const r = runCli(resolved);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(message.replace(/@([\w.]+)/g, (_m, f: string) => join(tmp, f)));
    });
  }
});

describe("hookpoint explain", () => {
  it("-o json gives one object per workload", () => {
    const r = runCli(["explain", "-f", "examples/bookinfo.yaml", ...inputs, "-o", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { kind: "Deployment", namespace: "bookinfo", name: "reviews-v1", inject: true, decidedBy: "namespace-label", reason: "namespace-enabled", message: "namespace bookinfo is labelled hookpoint.dev/inject=enabled", policy: "default", warnings: [] },
      { kind: "Deployment", namespace: "perf", name: "loadgen", inject: true, decidedBy: "pod-annotation", reason: "pod-opt-in", message: 'pod annotation hookpoint.dev/inject="true", allowed in namespace perf', policy: "default", warnings: [] },
      { kind: "Deployment", namespace: "payments", name: "ledger", inject: false, decidedBy: "namespace-label", reason: "namespace-disabled", message: "namespace payments is labelled hookpoint.dev/inject=disabled", policy: "default", warnings: [] },
    ]);
  });
  it("prints a table by default", () => {
    const r = runCli(["explain", "-f", "examples/bookinfo.yaml", ...inputs]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(0, 4)).toEqual([
      "KIND        NAMESPACE  NAME        INJECT  DECIDED BY       REASON              POLICY",
      "Deployment  bookinfo   reviews-v1  yes     namespace-label  namespace-enabled   default",
      "Deployment  perf       loadgen     yes     pod-annotation   pod-opt-in          default",
      "Deployment  payments   ledger      no      namespace-label  namespace-disabled  default",
    ]);
  });
});
