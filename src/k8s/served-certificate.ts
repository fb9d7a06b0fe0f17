// The certificate chain a TLS server actually presents, read with a handshake
// that trusts nothing (it is verified afterwards, against the caBundle).
import { connect } from "node:tls";
import { isIP } from "node:net";
import { knownErrno } from "../errno-text.js";

/** The PEM chain (leaf first) served at host:port; rejects with the reason in words. */
export function fetchServedChain(host: string, port: number, servername: string | undefined, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ...(servername && isIP(servername) === 0 ? { servername } : {}), ALPNProtocols: ["http/1.1"] });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${timeoutMs / 1000} s`)), timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const pems: string[] = [];
      const seen = new Set<string>();
      let cert = socket.getPeerCertificate(true);
      while (cert?.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        pems.push(`-----BEGIN CERTIFICATE-----\n${cert.raw.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`);
        cert = cert.issuerCertificate;
      }
      socket.end();
      if (pems.length === 0) reject(new Error("the server presented no certificate"));
      else resolve(pems.join(""));
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(knownErrno(err) ?? err.message));
    });
  });
}
