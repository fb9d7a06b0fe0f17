// The serving certificate in use. Whoever obtains a new pair (the file poller,
// or the self-managed certificate manager) sets it here; the HTTPS server
// subscribes and swaps its secure context. New connections get the new pair,
// open ones keep theirs: nothing is dropped.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { createSecureContext } from "node:tls";

export interface ServingPair {
  cert: string;
  key: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
}

export type PairListener = (pair: ServingPair) => void;

export class TlsState {
  #pair: ServingPair | undefined;
  readonly #listeners = new Set<PairListener>();

  constructor(initial?: ServingPair) {
    this.#pair = initial;
  }

  current(): ServingPair | undefined {
    return this.#pair;
  }

  loaded(): boolean {
    return this.#pair !== undefined;
  }

  set(pair: ServingPair): void {
    this.#pair = pair;
    for (const l of this.#listeners) l(pair);
  }

  /** Calls `listener` on every later set(); returns the unsubscribe function. */
  subscribe(listener: PairListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * Checks a PEM certificate and key the way the TLS server will use them, and
 * returns the pair. Throws an error naming `source` and what is wrong.
 */
export function servingPair(certPem: string, keyPem: string, source: { cert: string; key: string }): ServingPair {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch (err) {
    throw new Error(`${source.cert} is not a PEM certificate: ${reason(err)}`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new Error(`${source.key} is not a PEM private key: ${reason(err)}`);
  }
  if (!x509.checkPrivateKey(key)) {
    throw new Error(`${source.key} is not the private key of ${source.cert}`);
  }
  try {
    createSecureContext({ cert: certPem, key: keyPem });
  } catch (err) {
    throw new Error(`${source.cert} and ${source.key} cannot serve TLS: ${reason(err)}`);
  }
  return { cert: certPem, key: keyPem, notBefore: new Date(x509.validFrom), notAfter: new Date(x509.validTo), fingerprint256: x509.fingerprint256 };
}

/**
 * Why `pair` (read from `certPath`) must not be served at `now`, or undefined: clients
 * refuse an expired or not yet valid certificate, so serving it would fail every call.
 */
export function validityProblem(pair: Pick<ServingPair, "notBefore" | "notAfter">, now: Date, certPath: string): string | undefined {
  if (now < pair.notBefore) return `${certPath} is not valid before ${pair.notBefore.toISOString()}`;
  if (now > pair.notAfter) return `${certPath} expired at ${pair.notAfter.toISOString()}`;
  return undefined;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
