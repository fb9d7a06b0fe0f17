// `npm start` (scripts/start.sh) run twice: the first run makes the dev
// certificates, the second keeps them, and both print the caBundle that really
// verifies the certificate being served, then answer the example review.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot, serverListening } from "../../support/cli.js";

const certs = join(mkdtempSync(join(tmpdir(), "hookpoint-start-")), "certs");
const review = readFileSync(join(repoRoot, "examples/admission-review.json"), "utf8");
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

interface Run {
  child: ChildProcess;
  port: number;
  stderr: string;
}

/** scripts/start.sh on port 0, until the webhook listens (the first run may build dist/). */
async function start(): Promise<Run> {
  const child = spawn("bash", ["scripts/start.sh", "--port", "0"], { cwd: repoRoot, env: { ...process.env, HOOKPOINT_START_CERTS: certs, KUBERNETES_SERVICE_HOST: "" }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const { port, stderr } = await serverListening(child, "npm start", { ms: 400_000 });
  return { child, port, stderr };
}

/** The caBundle the run printed, decoded to PEM. */
function printedCa(r: Run): string {
  const m = /caBundle \(base64 of it, for a MutatingWebhookConfiguration\): (\S+)\n/.exec(r.stderr);
  if (!m?.[1]) throw new Error(`no caBundle printed: ${r.stderr}`);
  return Buffer.from(m[1], "base64").toString("utf8");
}

/** POSTs the example review, trusting only `ca`; the HTTP status and whether a patch came back. */
function mutate(port: number, ca: string): Promise<[number, boolean]> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, path: "/mutate", method: "POST", ca, headers: { "content-type": "application/json" } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve([res.statusCode ?? 0, typeof (JSON.parse(body) as { response?: { patch?: unknown } }).response?.patch === "string"]));
    });
    req.on("error", reject);
    req.end(review);
  });
}

async function stop(r: Run): Promise<number | null> {
  const exited = new Promise<number | null>((res) => r.child.once("exit", (code) => res(code)));
  r.child.kill("SIGTERM");
  return exited;
}

describe("npm start", () => {
  it("works again on a second run: the same certificates, the caBundle that verifies them", async () => {
    const first = await start();
    expect(first.stderr).toContain(`wrote ${certs}/ca.crt`);
    const ca = printedCa(first);
    expect(ca).toBe(readFileSync(join(certs, "ca.crt"), "utf8"));
    expect(await mutate(first.port, ca)).toEqual([200, true]);
    expect(await stop(first)).toBe(0);

    const second = await start();
    expect(second.stderr).toContain(`kept ${certs}/tls.crt and ${certs}/ca.crt`);
    expect(printedCa(second)).toBe(ca);
    expect(await mutate(second.port, ca)).toEqual([200, true]);
    expect(await stop(second)).toBe(0);
  }, 900_000);
});
