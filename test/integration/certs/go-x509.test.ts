// kube-apiserver and etcd are Go programs: Go's x509 is stricter than OpenSSL
// (it refuses an "@" in a PrintableString name, for one). Parse our
// certificates with it for real.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority, createServingCertificate } from "../../../src/certs/generate.js";
import { servingSubjectAltNames } from "../../../src/certs/names.js";

const program = `package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func main() {
	pool := x509.NewCertPool()
	var certs []*x509.Certificate
	for _, f := range os.Args[1:] {
		data, _ := os.ReadFile(f)
		block, _ := pem.Decode(data)
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			fmt.Println("parse:", err)
			os.Exit(1)
		}
		certs = append(certs, c)
	}
	pool.AddCert(certs[0])
	_, err := certs[1].Verify(x509.VerifyOptions{Roots: pool, DNSName: "hookpoint-webhook.hookpoint-system.svc"})
	if err != nil {
		fmt.Println("verify:", err)
		os.Exit(1)
	}
	fmt.Println("ok", certs[0].Subject.CommonName)
}
`;

describe("Go's crypto/x509 accepts the certificates", () => {
  it("parses the CA and verifies the serving certificate for the Service name", (ctx) => {
    const go = spawnSync("go", ["version"], { encoding: "utf8" });
    if (go.status !== 0) ctx.skip("Go is not installed: cannot check the certificates with Go's x509");
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-gox509-"));
    const ca = createCertificateAuthority({ now: new Date("2026-11-01T00:00:00Z") });
    const serving = createServingCertificate({ ca, commonName: "hookpoint-webhook.hookpoint-system.svc", ...servingSubjectAltNames("hookpoint-webhook", "hookpoint-system"), now: new Date() });
    writeFileSync(join(dir, "main.go"), program);
    writeFileSync(join(dir, "ca.crt"), ca.certPem);
    writeFileSync(join(dir, "tls.crt"), serving.certPem);
    const r = spawnSync("go", ["run", "main.go", "ca.crt", "tls.crt"], { cwd: dir, encoding: "utf8", env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "", GO111MODULE: "off" }, timeout: 120_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`ok hookpoint-webhook-ca@${Date.parse("2026-11-01T00:00:00Z") / 1000}\n`);
  });
});
