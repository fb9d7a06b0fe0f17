// `hookpoint webhook` without --host listens on "::" with IPv4 mapped (one
// socket answers 127.0.0.1 and ::1), and on 0.0.0.0 where the kernel refuses
// IPv6 sockets. That host is made real for one process with an LD_PRELOAD shim
// whose socket() fails AF_INET6 with EAFNOSUPPORT, as on a kernel booted with
// ipv6.disable=1. Flags that contradict each other are refused with exit 2.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runCli, serverListening } from "../../support/cli.js";
import { FakeKubeApi } from "../k8s/fake-kube-api.js";

const tmp = mkdtempSync(join(tmpdir(), "hookpoint-listen-"));
const EXAMPLES = ["--policy", "examples/policy.yaml", "--namespaces", "examples/namespaces.yaml"];
const children: ChildProcess[] = [];
let shim: string | undefined;
let shimSkip = "";

const SHIM_C = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>
int socket(int domain, int type, int protocol) {
  static int (*real)(int, int, int);
  if (domain == AF_INET6) { errno = EAFNOSUPPORT; return -1; }
  if (!real) real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
  return real(domain, type, protocol);
}
`;

beforeAll(() => {
  const certs = runCli(["certs", "--out", join(tmp, "certs")]);
  if (certs.code !== 0) throw new Error(`certs failed: ${certs.stderr}`);
  writeFileSync(join(tmp, "no-ipv6.c"), SHIM_C);
  const cc = spawnSync("cc", ["-shared", "-fPIC", "-o", join(tmp, "no-ipv6.so"), join(tmp, "no-ipv6.c"), "-ldl"], { encoding: "utf8" });
  if (cc.status === 0) shim = join(tmp, "no-ipv6.so");
  else shimSkip = `no C compiler to build the IPv6-refusing shim: ${cc.error?.message ?? cc.stderr}`;
}, 120_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

async function start(env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; host: string; port: number }> {
  const args = ["--import", "tsx", "src/cli/main.ts", "webhook", "--port", "0", "--cert", join(tmp, "certs/tls.crt"), "--key", join(tmp, "certs/tls.key"), ...EXAMPLES];
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.KUBERNETES_SERVICE_HOST;
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: e, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  // Fastify names "::" as [::], and lists 0.0.0.0 by its addresses, loopback first.
  const { host, port } = await serverListening(child, "webhook", { ms: 60_000, host: /\[::\]|127\.0\.0\.1/ });
  return { child, host, port };
}

/** GET /healthz over HTTPS, verifying the certificate against the dev CA; the status code or the connection error's code. */
function healthz(host: string, port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = https.get({ host, port, path: "/healthz", ca: readFileSync(join(tmp, "certs/ca.crt")), servername: "localhost", timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** GET a JSON path over HTTPS, verifying the certificate against the dev CA. */
function getJson(host: string, port: number, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host, port, path, ca: readFileSync(join(tmp, "certs/ca.crt")), servername: "localhost", timeout: 10_000 }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on("error", reject);
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

describe("hookpoint webhook listening", () => {
  it("by default answers on IPv4 and IPv6 loopback from one dual-stack socket", async () => {
    const s = await start();
    expect(s.host).toBe("[::]");
    expect(await healthz("127.0.0.1", s.port)).toBe(200);
    expect(await healthz("::1", s.port)).toBe(200);
    await stop(s.child);
  }, 120_000);

  it("falls back to 0.0.0.0 where IPv6 sockets are refused", async (ctx) => {
    if (!shim) return ctx.skip(shimSkip);
    const s = await start({ LD_PRELOAD: shim });
    expect(s.host).toBe("127.0.0.1");
    expect(await healthz("127.0.0.1", s.port)).toBe(200);
    expect(await healthz("::1", s.port)).toBe("ECONNREFUSED");
    await stop(s.child);
  }, 120_000);

  const refused: Array<[string, string[], string]> = [
    ["--policy with --kubeconfig", ["--policy", "examples/policy.yaml", "--kubeconfig", "kc.yaml"], "hookpoint webhook: --policy and --kubeconfig both say where policies come from: give one (files, or the cluster)\n"],
    ["--namespaces with --context", ["--namespaces", "examples/namespaces.yaml", "--context", "kind"], "hookpoint webhook: --namespaces and --context both say where policies come from: give one (files, or the cluster)\n"],
    ["a bad port", ["--port", "http", ...EXAMPLES], 'hookpoint webhook: --port must be a port number between 0 and 65535, got "http"\n'],
    [
      "--manage-routing with policy files",
      ["--manage-routing", ...EXAMPLES],
      "hookpoint webhook: --manage-routing follows the cluster's policies: pass --kubeconfig or run in a pod, without --policy/--namespaces\n",
    ],
    ["an --image that is no image reference", ["--image", "hookpoint/proxy istio:1", ...EXAMPLES], 'hookpoint webhook: --image must be an image reference such as registry.example.com/hookpoint/proxy-istio:TAG, got "hookpoint/proxy istio:1"\n'],
    ["a --policy file that is not there", ["--policy", "no/such/policy.yaml"], "hookpoint webhook: no/such/policy.yaml: cannot read: no such file\n"],
    ["a --namespaces path that is a directory", ["--policy", "examples/policy.yaml", "--namespaces", "examples"], "hookpoint webhook: examples: cannot read: is a directory\n"],
    ["standard input for --policy and --namespaces", ["--policy", "-", "--namespaces", "-"], "hookpoint webhook: --policy - and --namespaces -: standard input can be read only once\n"],
    ["an empty --image", ["--image", "", ...EXAMPLES], 'hookpoint webhook: --image must be an image reference such as registry.example.com/hookpoint/proxy-istio:TAG, got ""\n'],
  ];
  it("--context alone reads that context of the default kubeconfig (KUBECONFIG), as explain does", async () => {
    const api = new FakeKubeApi();
    await api.start();
    const kubeconfig = join(tmp, "fake.kubeconfig");
    writeFileSync(kubeconfig, api.kubeConfigYaml());
    const args = ["--import", "tsx", "src/cli/main.ts", "webhook", "--host", "127.0.0.1", "--port", "0", "--cert", join(tmp, "certs/tls.crt"), "--key", join(tmp, "certs/tls.key"), "--context", "fake"];
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig };
    delete env.KUBERNETES_SERVICE_HOST;
    const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    try {
      const { port } = await serverListening(child, "webhook", { ms: 60_000 });
      let ready: { status: number; body: unknown } = { status: 0, body: undefined };
      for (let i = 0; i < 100 && ready.status !== 200; i++) {
        ready = await getJson("127.0.0.1", port, "/readyz");
        if (ready.status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready).toEqual({ status: 200, body: { ready: true, source: `cluster ${api.url}`, problems: [] } });
    } finally {
      if (child.exitCode === null && child.signalCode === null) await stop(child);
      await api.stop();
    }
  }, 60_000);

  it.each(refused)("refuses %s with exit 2 and one line", (_what, args, stderr) => {
    expect(runCli(["webhook", ...args])).toEqual({ code: 2, stdout: "", stderr });
  });
});
