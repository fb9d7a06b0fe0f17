// `hookpoint certs` run as a real process: the files it writes (and their
// modes), what it prints, how it refuses, and that a TLS client trusting the
// printed caBundle really accepts the certificate under the Service's names.
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterAll, describe, expect, it } from "vitest";
import { certificateInfo } from "../../../src/certs/inspect.js";
import { servingSubjectAltNames } from "../../../src/certs/names.js";
import { issueMaterial } from "../../../src/certs/renewal.js";
import { WEBHOOK_NAMESPACE } from "../../../src/defaults.js";
import { NOBODY, nobodySkipReason, runCliAsync } from "../../support/cli.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "hookpoint-certs-"));
  dirs.push(d);
  return d;
}

const mode = (p: string) => statSync(p).mode & 0o777;

describe("hookpoint certs", () => {
  it("writes ca.crt, ca.key, tls.crt and tls.key (keys 0600), prints the caBundle on stdout and what it wrote on stderr", async () => {
    const out = join(tempDir(), "certs");
    const r = await runCliAsync(["certs", "--out", out, "--service", "hookpoint-webhook", "--namespace", "hookpoint-system"]);
    expect(r.code).toBe(0);
    const ca = readFileSync(join(out, "ca.crt"), "utf8");
    expect(r.stdout).toBe(`${Buffer.from(ca).toString("base64")}\n`);
    const tls = certificateInfo(new X509Certificate(readFileSync(join(out, "tls.crt"))));
    const caInfo = certificateInfo(new X509Certificate(ca));
    const day = (d: Date) => d.toISOString().slice(0, 10);
    expect(r.stderr.split("\n")).toEqual([
      `wrote ${out}/ca.crt (CA, valid until ${day(caInfo.notAfter)})`,
      `wrote ${out}/ca.key (CA key, mode 0600)`,
      `wrote ${out}/tls.crt (serving certificate for hookpoint-webhook, hookpoint-webhook.hookpoint-system, hookpoint-webhook.hookpoint-system.svc, hookpoint-webhook.hookpoint-system.svc.cluster.local, localhost, 127.0.0.1, ::1; valid until ${day(tls.notAfter)})`,
      `wrote ${out}/tls.key (serving key, mode 0600)`,
      "stdout: the caBundle (base64 of ca.crt) for the MutatingWebhookConfiguration",
      "",
    ]);
    expect([mode(join(out, "ca.crt")), mode(join(out, "ca.key")), mode(join(out, "tls.crt")), mode(join(out, "tls.key"))]).toEqual([0o644, 0o600, 0o644, 0o600]);
    expect(Math.round((tls.notAfter.getTime() - tls.notBefore.getTime()) / 86_400_000)).toBe(365);
  });

  it("serves TLS that a client trusting ca.crt accepts under the Service's names and loopback, and rejects under another name", async () => {
    const out = tempDir();
    expect((await runCliAsync(["certs", "--out", out, "--service", "wh", "--namespace", "ops", "--days", "30"])).code).toBe(0);
    const server: Server = createServer({ cert: readFileSync(join(out, "tls.crt")), key: readFileSync(join(out, "tls.key")) }, (_req, res) => res.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    const ca = readFileSync(join(out, "ca.crt"));
    const handshake = (servername: string | undefined) =>
      new Promise<string>((resolve) => {
        const s = connect({ host: "127.0.0.1", port, ca, ...(servername ? { servername } : {}) }, () => {
          resolve("authorized");
          s.end();
        });
        s.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
    try {
      for (const name of ["wh", "wh.ops", "wh.ops.svc", "wh.ops.svc.cluster.local", "localhost"]) expect(await handshake(name), name).toBe("authorized");
      expect(await handshake(undefined)).toBe("authorized"); // checked against IP 127.0.0.1
      expect(await handshake("wh.other.svc")).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("refuses to overwrite existing files without --force, and leaves them untouched", async () => {
    const out = tempDir();
    expect((await runCliAsync(["certs", "--out", out])).code).toBe(0);
    const before = readFileSync(join(out, "tls.key"), "utf8");
    const r = await runCliAsync(["certs", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `hookpoint certs: refusing to overwrite ${out}/ca.crt, ${out}/ca.key, ${out}/tls.crt, ${out}/tls.key (pass --force to replace them)\n`,
    );
    expect(readFileSync(join(out, "tls.key"), "utf8")).toBe(before);
  });

  it("replaces them with --force, restoring 0600 on a key someone made readable", async () => {
    const out = tempDir();
    writeFileSync(join(out, "tls.key"), "old");
    chmodSync(join(out, "tls.key"), 0o644);
    const r = await runCliAsync(["certs", "--out", out, "--force"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "tls.key"), "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(mode(join(out, "tls.key"))).toBe(0o600);
  });

  it.each([
    [["--days", "0"], "hookpoint certs: --days must be a whole number of days between 1 and 3650, got 0\n"],
    [["--days", "ten"], 'hookpoint certs: --days must be a whole number of days, got "ten"\n'],
    [
      ["--namespace", "Hookpoint_System"],
      "hookpoint certs: namespace must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit), got \"Hookpoint_System\"\n",
    ],
    [["--force", "--reuse"], "hookpoint certs: --force and --reuse: --force replaces every file, --reuse keeps a valid set; give one\n"],
  ])("refuses %j with exit 2 and a message naming the option", async (extra, message) => {
    const out = tempDir();
    const r = await runCliAsync(["certs", "--out", join(out, "c"), ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(message);
    expect(r.stdout).toBe("");
  });

  it("fails at once, in words, where it cannot create or write the directory", async (ctx) => {
    const proc = await runCliAsync(["certs", "--out", "/proc/hookpoint-nope"]);
    expect(proc).toEqual({ code: 1, stdout: "", stderr: "hookpoint certs: cannot create the directory /proc/hookpoint-nope: the file system of /proc does not allow new directories\n" });
    const file = join(tempDir(), "file");
    writeFileSync(file, "x");
    const under = await runCliAsync(["certs", "--out", join(file, "c")]);
    expect(under).toEqual({ code: 1, stdout: "", stderr: `hookpoint certs: cannot create the directory ${join(file, "c")}: a part of the path is not a directory\n` });
    // Root writes anywhere: an unwritable directory needs another user.
    const asRoot = process.getuid?.() === 0;
    const why = asRoot ? nobodySkipReason() : null;
    if (why !== null) return ctx.skip(`the unwritable-directory case: ${why}`);
    const locked = tempDir();
    chmodSync(locked, 0o555);
    const r = await runCliAsync(["certs", "--out", locked], asRoot ? NOBODY : {});
    expect(r).toEqual({ code: 1, stdout: "", stderr: `hookpoint certs: cannot write ${locked}/ca.crt: permission denied\n` });
  });

  it("--reuse keeps a valid set and prints its caBundle; replaces a set that does not hold together", async () => {
    const out = tempDir();
    const first = await runCliAsync(["certs", "--out", out, "--reuse"]);
    expect(first.code).toBe(0);
    const files = ["ca.crt", "ca.key", "tls.crt", "tls.key"].map((f) => readFileSync(join(out, f), "utf8"));
    const again = await runCliAsync(["certs", "--out", out, "--reuse"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(again.stderr.split("\n")[0]).toMatch(new RegExp(`^kept ${out}/tls.crt and ${out}/ca.crt: they match their keys, tls.crt is issued by ca.crt, names hookpoint-webhook, .*, ::1 and is valid until \\d{4}-\\d\\d-\\d\\d$`));
    expect(["ca.crt", "ca.key", "tls.crt", "tls.key"].map((f) => readFileSync(join(out, f), "utf8"))).toEqual(files);
    // A serving certificate from another CA: renewed with this CA, so the caBundle stays the same.
    const other = tempDir();
    expect((await runCliAsync(["certs", "--out", other])).code).toBe(0);
    writeFileSync(join(out, "tls.crt"), readFileSync(join(other, "tls.crt")));
    writeFileSync(join(out, "tls.key"), readFileSync(join(other, "tls.key")));
    const fixed = await runCliAsync(["certs", "--out", out, "--reuse"]);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toBe(first.stdout);
    expect(fixed.stderr.split("\n")[0]).toBe(`replacing the certificates in ${out}: tls.crt was not issued by ca.crt`);
    const ca = new X509Certificate(readFileSync(join(out, "ca.crt")));
    expect(new X509Certificate(readFileSync(join(out, "tls.crt"))).checkIssued(ca)).toBe(true);
  });

  it("--reuse into an empty folder says it writes new certificates, not that it replaces any", async () => {
    const out = tempDir();
    const r = await runCliAsync(["certs", "--out", out, "--reuse"]);
    expect({ code: r.code, first: r.stderr.split("\n")[0], second: r.stderr.split("\n")[1]?.replace(/\d{4}-\d\d-\d\d/, "DATE") }).toEqual({
      code: 0,
      first: `writing new certificates into ${out}: none is there yet`,
      second: `wrote ${out}/ca.crt (CA, valid until DATE)`,
    });
  });

  it("--reuse with a serving key lost keeps the CA (the caBundle in the cluster stays valid); a lost CA key makes a new CA", async () => {
    const out = tempDir();
    const first = await runCliAsync(["certs", "--out", out]);
    expect(first.code).toBe(0);
    const caKey = readFileSync(join(out, "ca.key"), "utf8");
    rmSync(join(out, "tls.key"));
    const renewed = await runCliAsync(["certs", "--out", out, "--reuse"]);
    expect(renewed.code).toBe(0);
    expect(renewed.stdout).toBe(first.stdout);
    expect(renewed.stderr.split("\n")[0]).toBe(`replacing the certificates in ${out}: tls.key is missing`);
    // The CA files are not rewritten, and the output does not say they were (a user would hand out the caBundle again).
    expect(renewed.stderr.split("\n")[1]).toMatch(new RegExp(`^kept ${out}/ca.crt and ${out}/ca.key \\(CA, valid until \\d{4}-\\d\\d-\\d\\d\\): the caBundle is unchanged$`));
    expect(readFileSync(join(out, "ca.key"), "utf8")).toBe(caKey);
    const ca = new X509Certificate(readFileSync(join(out, "ca.crt")));
    const tls = new X509Certificate(readFileSync(join(out, "tls.crt")));
    expect(tls.checkIssued(ca) && tls.verify(ca.publicKey)).toBe(true);
    expect(mode(join(out, "tls.key"))).toBe(0o600);
    rmSync(join(out, "ca.key"));
    rmSync(join(out, "tls.crt"));
    const fresh = await runCliAsync(["certs", "--out", out, "--reuse"]);
    expect(fresh.code).toBe(0);
    expect(fresh.stderr.split("\n")[0]).toBe(`replacing the certificates in ${out}: ca.key and tls.crt are missing`);
    expect(fresh.stdout).not.toBe(first.stdout);
    expect(fresh.stdout).toBe(`${readFileSync(join(out, "ca.crt")).toString("base64")}\n`);
  });

  it("--reuse with a CA in its last third rotates it in two steps, saying so: first the bundle, then tls.crt on the next run", async () => {
    const out = tempDir();
    const names = servingSubjectAltNames("hookpoint-webhook", WEBHOOK_NAMESPACE);
    const at = (daysAgo: number) => ({ now: new Date(Date.now() - daysAgo * 86_400_000), commonName: `hookpoint-webhook.${WEBHOOK_NAMESPACE}.svc`, ...names });
    // A CA issued 8 of its 10 years ago, and a serving certificate from it issued yesterday.
    const old = issueMaterial({ action: "create", reason: "test" }, undefined, at(8 * 365));
    const material = issueMaterial({ action: "renew-serving", reason: "test" }, old, at(1));
    for (const [f, text] of [["ca.crt", material.caBundle], ["ca.key", material.caKey], ["tls.crt", material.tlsCert], ["tls.key", material.tlsKey]] as const) writeFileSync(join(out, f), text, { mode: 0o600 });
    const oldCa = new X509Certificate(material.caBundle);

    const step1 = await runCliAsync(["certs", "--out", out, "--reuse"]);
    expect(step1.code).toBe(0);
    const until = certificateInfo(new X509Certificate(material.tlsCert)).notAfter.toISOString().slice(0, 10);
    expect(step1.stderr.split("\n").slice(0, 1).concat(step1.stderr.split("\n").slice(3, 5))).toEqual([
      `replacing the certificates in ${out}: the CA expires at ${certificateInfo(oldCa).notAfter.toISOString()}`,
      `kept ${out}/tls.crt and ${out}/tls.key: issued by the previous CA, which the new caBundle still holds, valid until ${until}`,
      `once every client has the new caBundle, run hookpoint certs --reuse again: it moves ${out}/tls.crt to the new CA`,
    ]);
    expect(readFileSync(join(out, "tls.crt"), "utf8")).toBe(material.tlsCert);
    const bundle = readFileSync(join(out, "ca.crt"), "utf8");
    expect(bundle.endsWith(material.caBundle)).toBe(true);
    expect(bundle.length).toBeGreaterThan(material.caBundle.length);

    const step2 = await runCliAsync(["certs", "--out", out, "--reuse"]);
    expect(step2.code).toBe(0);
    expect(step2.stderr.split("\n")[0]).toBe(`replacing the certificates in ${out}: tls.crt is from the previous CA (the CA was rotated)`);
    expect(readFileSync(join(out, "ca.crt"), "utf8")).toBe(bundle);
    expect(new X509Certificate(readFileSync(join(out, "tls.crt"))).checkIssued(new X509Certificate(bundle))).toBe(true);
  });

  it("requires --out", async () => {
    const r = await runCliAsync(["certs"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hookpoint certs: --out <dir> is required: the directory to write the certificates into\n");
  });
});

describe("hookpoint certs on a machine whose clock runs ahead of the cluster's", () => {
  const CLUSTER_NOW = new Date("2026-03-01T10:00:00.000Z");
  const MINUTE = 60_000;
  /** runCerts on this machine's clock `now`: stderr, and what the webhook's own check says of tls.crt on the cluster's clock. */
  async function certsAt(now: Date): Promise<{ out: string; stderr: string; caFrom: string; tlsFrom: string; webhook: string | undefined }> {
    const { runCerts } = await import("../../../src/cli/certs-run.js");
    const { servingPair, validityProblem } = await import("../../../src/server/tls-state.js");
    const out = tempDir();
    let stderr = "";
    runCerts({ out, service: "hookpoint-webhook", namespace: WEBHOOK_NAMESPACE, clusterDomain: "cluster.local", days: "365" }, { stdout: () => {}, stderr: (t) => void (stderr += t) }, now);
    const [tlsCert, tlsKey] = [readFileSync(join(out, "tls.crt"), "utf8"), readFileSync(join(out, "tls.key"), "utf8")];
    const pair = servingPair(tlsCert, tlsKey, { cert: join(out, "tls.crt"), key: join(out, "tls.key") });
    return {
      out,
      stderr,
      caFrom: certificateInfo(new X509Certificate(readFileSync(join(out, "ca.crt")))).notBefore.toISOString(),
      tlsFrom: pair.notBefore.toISOString(),
      webhook: validityProblem(pair, CLUSTER_NOW, join(out, "tls.crt")),
    };
  }

  it("30 minutes ahead: the certificates are valid from an hour before this clock, so the webhook and the API server accept them at once", async () => {
    const r = await certsAt(new Date(CLUSTER_NOW.getTime() + 30 * MINUTE));
    expect([r.caFrom, r.tlsFrom, r.webhook]).toEqual(["2026-03-01T09:30:00.000Z", "2026-03-01T09:30:00.000Z", undefined]);
    expect(r.stderr.split("\n").slice(0, 3)).toEqual([
      `wrote ${r.out}/ca.crt (CA, valid until 2036-02-27)`,
      `wrote ${r.out}/ca.key (CA key, mode 0600)`,
      `wrote ${r.out}/tls.crt (serving certificate for hookpoint-webhook, hookpoint-webhook.hookpoint-system, hookpoint-webhook.hookpoint-system.svc, hookpoint-webhook.hookpoint-system.svc.cluster.local, localhost, 127.0.0.1, ::1; valid until 2027-03-01)`,
    ]);
  });

  it("more than an hour ahead: still not valid on the cluster's clock, which the webhook says naming the file and the time", async () => {
    const r = await certsAt(new Date(CLUSTER_NOW.getTime() + 90 * MINUTE));
    expect(r.webhook).toBe(`${r.out}/tls.crt is not valid before 2026-03-01T10:30:00.000Z`);
  });

  /** runCerts --reuse on the cluster's clock over the set in `out`: stdout, stderr, and what the webhook's own check says of tls.crt then. */
  async function reuseAtClusterNow(out: string): Promise<{ stdout: string; stderr: string; tlsFrom: string; webhook: string | undefined }> {
    const { runCerts } = await import("../../../src/cli/certs-run.js");
    const { servingPair, validityProblem } = await import("../../../src/server/tls-state.js");
    let stdout = "";
    let stderr = "";
    runCerts(
      { out, service: "hookpoint-webhook", namespace: WEBHOOK_NAMESPACE, clusterDomain: "cluster.local", days: "365", reuse: true },
      { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) },
      CLUSTER_NOW,
    );
    const pair = servingPair(readFileSync(join(out, "tls.crt"), "utf8"), readFileSync(join(out, "tls.key"), "utf8"), { cert: join(out, "tls.crt"), key: join(out, "tls.key") });
    return { stdout, stderr, tlsFrom: pair.notBefore.toISOString(), webhook: validityProblem(pair, CLUSTER_NOW, join(out, "tls.crt")) };
  }

  it("--reuse on a clock in step with the cluster replaces a set written more than an hour ahead, saying why, and the webhook loads the new one", async () => {
    const written = await certsAt(new Date(CLUSTER_NOW.getTime() + 90 * MINUTE));
    const before = readFileSync(join(written.out, "ca.crt"), "utf8");
    const r = await reuseAtClusterNow(written.out);
    expect(r.stderr.split("\n").slice(0, 2)).toEqual([
      `replacing the certificates in ${written.out}: ca.crt is not valid before 2026-03-01T10:30:00.000Z`,
      `wrote ${written.out}/ca.crt (CA, valid until 2036-02-27)`,
    ]);
    expect(r.stdout).not.toBe(`${Buffer.from(before).toString("base64")}\n`);
    expect(r.stdout).toBe(`${readFileSync(join(written.out, "ca.crt")).toString("base64")}\n`);
    expect([r.tlsFrom, r.webhook]).toEqual(["2026-03-01T09:00:00.000Z", undefined]);
  });

  it("--reuse renews a serving certificate that is not valid yet from the CA that is (an older hookpoint's 5-minute backdating, 30 minutes ahead): the caBundle stays", async () => {
    const out = tempDir();
    const names = servingSubjectAltNames("hookpoint-webhook", WEBHOOK_NAMESPACE);
    const at = (now: Date) => ({ now, commonName: `hookpoint-webhook.${WEBHOOK_NAMESPACE}.svc`, ...names });
    const ca = issueMaterial({ action: "create", reason: "test" }, undefined, at(new Date(CLUSTER_NOW.getTime() - 24 * 60 * MINUTE)));
    const material = issueMaterial({ action: "renew-serving", reason: "test" }, ca, at(new Date(CLUSTER_NOW.getTime() + 30 * MINUTE)));
    for (const [f, text] of [["ca.crt", material.caBundle], ["ca.key", material.caKey], ["tls.crt", material.tlsCert], ["tls.key", material.tlsKey]] as const) writeFileSync(join(out, f), text, { mode: 0o600 });
    const r = await reuseAtClusterNow(out);
    expect(r.stderr.split("\n")[0]).toBe(`replacing the certificates in ${out}: tls.crt is not valid before 2026-03-01T10:25:00.000Z`);
    expect(r.stdout).toBe(`${Buffer.from(material.caBundle).toString("base64")}\n`);
    expect(readFileSync(join(out, "ca.key"), "utf8")).toBe(material.caKey);
    expect([r.tlsFrom, r.webhook]).toEqual(["2026-03-01T09:00:00.000Z", undefined]);
  });

  it("--reuse keeps a set written 50 minutes ahead: valid on this clock (from 09:10), as the webhook on it finds", async () => {
    const written = await certsAt(new Date(CLUSTER_NOW.getTime() + 50 * MINUTE));
    const r = await reuseAtClusterNow(written.out);
    expect(r.stderr.split("\n")[0]).toBe(
      `kept ${written.out}/tls.crt and ${written.out}/ca.crt: they match their keys, tls.crt is issued by ca.crt, names hookpoint-webhook, hookpoint-webhook.hookpoint-system, hookpoint-webhook.hookpoint-system.svc, hookpoint-webhook.hookpoint-system.svc.cluster.local, localhost, 127.0.0.1, ::1 and is valid until 2027-03-01`,
    );
    expect([r.tlsFrom, r.webhook]).toEqual(["2026-03-01T09:50:00.000Z", undefined]);
  });
});

describe("writeServingFiles (self-managed mode → the webhook's TLS reload)", () => {
  it("replaces the certificate and key in place, key 0600, creating the directory", async () => {
    const { writeServingFiles } = await import("../../../src/certs/files.js");
    const dir = join(tempDir(), "tls");
    const paths = { certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") };
    writeServingFiles(paths, { cert: "CERT 1\n", key: "KEY 1\n" });
    writeServingFiles(paths, { cert: "CERT 2\n", key: "KEY 2\n" });
    expect([readFileSync(paths.certFile, "utf8"), readFileSync(paths.keyFile, "utf8")]).toEqual(["CERT 2\n", "KEY 2\n"]);
    expect([mode(paths.certFile), mode(paths.keyFile)]).toEqual([0o644, 0o600]);
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(dir).sort()).toEqual(["tls.crt", "tls.key"]);
  });

  it("says which file it could not write", async () => {
    const { writeServingFiles } = await import("../../../src/certs/files.js");
    const dir = tempDir();
    writeFileSync(join(dir, "blocker"), "a file where a directory should be");
    const keyFile = join(dir, "blocker", "tls.key");
    expect(() => writeServingFiles({ certFile: join(dir, "blocker", "tls.crt"), keyFile }, { cert: "c", key: "k" })).toThrow(`cannot write ${keyFile}: cannot create the directory ${join(dir, "blocker")}: a file of that name exists`);
  });
});
