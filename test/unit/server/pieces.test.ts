// The small pure pieces of the server edge.
import { describe, expect, it } from "vitest";
import { createCertificateAuthority, createServingCertificate } from "../../../src/certs/generate.js";
import { clientErrorAnswer } from "../../../src/server/client-errors.js";
import { checkLogLevel } from "../../../src/server/logger.js";
import { deeperThan, MAX_OBJECT_DEPTH } from "../../../src/server/pod-shape.js";
import { servingPair } from "../../../src/server/tls-state.js";

const nest = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? { k: v } : [v];
  return v;
};

describe("deeperThan", () => {
  it("counts containers, not scalars", () => {
    expect([deeperThan("x", 0), deeperThan({}, 0), deeperThan({}, 1), deeperThan({ a: [1] }, 1), deeperThan({ a: [1] }, 2)]).toEqual([false, true, false, true, false]);
  });
  it("accepts exactly the limit and refuses one more", () => {
    expect([deeperThan(nest(MAX_OBJECT_DEPTH), MAX_OBJECT_DEPTH), deeperThan(nest(MAX_OBJECT_DEPTH + 1), MAX_OBJECT_DEPTH)]).toEqual([false, true]);
  });
});

describe("clientErrorAnswer", () => {
  it("says what the HTTP parser rejected", () => {
    const answer = (code: string) => clientErrorAnswer(Object.assign(new Error("x"), { code }));
    expect([answer("HPE_INVALID_EOF_STATE"), answer("ERR_HTTP_REQUEST_TIMEOUT"), answer("HPE_HEADER_OVERFLOW"), answer("HPE_INVALID_METHOD")]).toEqual([
      { statusCode: 400, error: "Bad Request", message: "the connection was closed before the request was complete" },
      { statusCode: 408, error: "Request Timeout", message: "the request was not received in time" },
      { statusCode: 431, error: "Request Header Fields Too Large", message: "the request headers are too large" },
      { statusCode: 400, error: "Bad Request", message: "malformed HTTP request (HPE_INVALID_METHOD)" },
    ]);
  });
});

describe("servingPair", () => {
  const ca = createCertificateAuthority();
  const a = createServingCertificate({ ca, commonName: "localhost", dnsNames: ["localhost"], now: new Date("2026-03-01T00:00:00Z"), days: 10 });
  const b = createServingCertificate({ ca, commonName: "localhost", dnsNames: ["localhost"] });
  const where = { cert: "s/tls.crt", key: "s/tls.key" };

  it("returns the pair with its expiry", () => {
    expect(servingPair(a.certPem, a.keyPem, where).notAfter).toEqual(new Date("2026-03-11T00:00:00Z"));
  });
  it("names the file that is wrong", () => {
    expect(() => servingPair(a.certPem, b.keyPem, where)).toThrow(new Error("s/tls.key is not the private key of s/tls.crt"));
    expect(() => servingPair(a.certPem, "junk", where)).toThrow(/^s\/tls\.key is not a PEM private key: /);
    expect(() => servingPair("junk", a.keyPem, where)).toThrow(/^s\/tls\.crt is not a PEM certificate: /);
  });
});

describe("checkLogLevel", () => {
  it("accepts pino's levels and names the flag otherwise", () => {
    expect(checkLogLevel("debug")).toBe("debug");
    expect(() => checkLogLevel("verbose")).toThrow(new Error('--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'));
  });
});
