// The README's plain-manifest path, as a user types it:
//   istioctl kube-inject -f app.yaml | hookpoint inject -f -
// with Istio's real istioctl (scripts/istio/build.sh), its injection template, values and
// mesh configuration rendered offline by `istioctl manifest generate` (kube-inject reads
// them from a cluster otherwise; `--revision default` keeps it from looking for the
// cluster's default revision). hookpoint's output, uninjected again, must be exactly
// what istioctl wrote: the pipe adds hookpoint's changes and nothing else.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { findObject, meshConfig, parseYamlObjects } from "../../e2e/support/istio-manifests.js";
import { repoRoot, runCli } from "../../support/cli.js";

const printed = spawnSync("bash", [join(repoRoot, "scripts/istio/build.sh"), "--print-paths"], { encoding: "utf8" });
const istioctl = printed.status === 0 ? /^istioctl=(.*)$/m.exec(printed.stdout)?.[1] : undefined;
const UNAVAILABLE = "Istio's istioctl is not built on this machine: run scripts/setup/45-istio.sh (npm test does)";

const APP = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ratings-v1
  namespace: bookinfo
spec:
  replicas: 1
  selector:
    matchLabels: { app: ratings }
  template:
    metadata:
      labels: { app: ratings }
    spec:
      containers:
        - name: ratings
          image: docker.io/istio/examples-bookinfo-ratings-v1:1.20.2
          ports:
            - containerPort: 9080
`;

const dir = mkdtempSync(join(tmpdir(), "hookpoint-kube-inject-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Container {
  name: string;
  image: string;
  command?: string[];
}

describe("istioctl kube-inject -f app.yaml | hookpoint inject -f -", () => {
  it("traces the proxy istioctl added and changes nothing else", (ctx) => {
    if (!istioctl) return ctx.skip(UNAVAILABLE);
    const rendered = parseYamlObjects(spawnSync(istioctl, ["manifest", "generate"], { encoding: "utf8", maxBuffer: 64 << 20 }).stdout, "istioctl manifest generate");
    const injector = findObject(rendered, "ConfigMap", "istio-sidecar-injector") as { data?: Record<string, string> };
    writeFileSync(join(dir, "inject.yaml"), injector.data?.config ?? "");
    writeFileSync(join(dir, "values.json"), injector.data?.values ?? "");
    writeFileSync(join(dir, "mesh.yaml"), meshConfig(rendered));
    writeFileSync(join(dir, "app.yaml"), APP);

    const offline = `--revision default --injectConfigFile ${dir}/inject.yaml --valuesFile ${dir}/values.json --meshConfigFile ${dir}/mesh.yaml`;
    const hookpoint = `"${process.execPath}" --import tsx src/cli/main.ts`;
    const istioOnly = spawnSync("bash", ["-c", `"${istioctl}" kube-inject -f ${dir}/app.yaml ${offline}`], { cwd: repoRoot, encoding: "utf8", timeout: 60_000 });
    expect({ code: istioOnly.status, stderr: istioOnly.stderr }).toEqual({ code: 0, stderr: "" });
    const pipe = spawnSync(
      "bash",
      ["-o", "pipefail", "-c", `"${istioctl}" kube-inject -f ${dir}/app.yaml ${offline} | ${hookpoint} inject -f - --policy examples/policy.yaml --namespaces examples/namespaces.yaml`],
      { cwd: repoRoot, encoding: "utf8", timeout: 60_000 },
    );
    expect({ code: pipe.status, stderr: pipe.stderr }).toEqual({
      code: 0,
      stderr: "stdin: document 1: Deployment bookinfo/ratings-v1: injected (namespace bookinfo is labelled hookpoint.dev/inject=enabled)\n",
    });

    // istioctl added the proxy; hookpoint rewrote it.
    const containers = (parseDocument(pipe.stdout).toJS() as { spec: { template: { spec: { containers: Container[]; initContainers?: Container[] } } } }).spec.template.spec;
    const proxy = [...containers.containers, ...(containers.initContainers ?? [])].find((c) => c.name === "istio-proxy");
    expect(proxy?.image).toBe("hookpoint/proxy-istio:0.1.0-istio1.28.0");
    expect(proxy?.command?.slice(0, 2)).toEqual(["hookpoint", "agent"]);

    // Nothing else: uninjecting gives back istioctl's output byte for byte.
    writeFileSync(join(dir, "injected.yaml"), pipe.stdout);
    const back = runCli(["uninject", "-q", "-f", join(dir, "injected.yaml")]);
    expect(back.code).toBe(0);
    expect(back.stdout).toBe(istioOnly.stdout);
  }, 120_000);
});
