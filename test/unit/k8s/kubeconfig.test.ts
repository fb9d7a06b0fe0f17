// loadKubeConfig: a kubeconfig the client cannot use is refused with a line naming the
// file and what is wrong in it, not the client's TypeError or its TLS refusal later.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../../src/input-error.js";
import { loadKubeConfig } from "../../../src/k8s/kubeconfig.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-kubeconfig-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (o: { current?: string; contextCluster?: string; server?: string; skip?: boolean }) =>
  [
    "apiVersion: v1",
    "kind: Config",
    ...(o.current ? [`current-context: ${o.current}`] : []),
    `contexts: [{name: a, context: {cluster: ${o.contextCluster ?? "c"}, user: u}}]`,
    `clusters: [{name: c, cluster: {server: "${o.server ?? "https://127.0.0.1:6443"}"${o.skip ? ", insecure-skip-tls-verify: true" : ""}}}]`,
    "users: [{name: u, user: {token: x}}]",
    "",
  ].join("\n");

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("loadKubeConfig", () => {
  it.each([
    ["an empty file", "", "not a valid kubeconfig: it is empty"],
    ["a file without contexts", "apiVersion: v1\nkind: Config\n", "it defines no contexts"],
    ["a current context that is not among its contexts", config({ current: "gone" }), 'its current context "gone" is not one of its contexts (contexts: a); pass --context'],
    ["a context naming a cluster it does not define", config({ current: "a", contextCluster: "nope" }), 'context "a" names cluster "nope", which it does not define (clusters: c)'],
    ["a plain-HTTP server without insecure-skip-tls-verify", config({ current: "a", server: "http://127.0.0.1:8001" }), 'cluster "c" is served over plain HTTP (http://127.0.0.1:8001), which the Kubernetes client refuses unless the cluster sets insecure-skip-tls-verify: true'],
  ])("%s: refused, naming the file and what is wrong", (what, text, detail) => {
    const p = file(what.replaceAll(" ", "-"), text);
    expect(() => loadKubeConfig({ file: p })).toThrow(new InputError(p, detail));
    expect(() => loadKubeConfig({ file: p })).toThrow(`${p}: ${detail}`);
  });

  it("a plain-HTTP server with insecure-skip-tls-verify, as kubectl proxy is reached, is used", () => {
    const p = file("http-skip", config({ current: "a", server: "http://127.0.0.1:8001", skip: true }));
    expect(loadKubeConfig({ file: p }).getCurrentCluster()?.server).toBe("http://127.0.0.1:8001");
  });
});
