// The rotation request annotation as the webhook reads it, and the Secret it writes back.
import { describe, expect, it } from "vitest";
import { materialToSecret, ROTATE_CA_ANNOTATION, rotateCaRequest } from "../../../src/k8s/tls-secret.js";

const secret = (value?: string) => ({ metadata: { name: "hookpoint-webhook-tls", ...(value === undefined ? {} : { annotations: { [ROTATE_CA_ANNOTATION]: value } }) } });

describe("rotateCaRequest", () => {
  it("reads an RFC 3339 time, with Z or an offset", () => {
    expect(ROTATE_CA_ANNOTATION).toBe("hookpoint.dev/rotate-ca-requested-at");
    expect(rotateCaRequest(secret("2026-12-06T05:00:00Z"))).toEqual({ at: new Date("2026-12-06T05:00:00Z") });
    expect(rotateCaRequest(secret("2026-12-06T07:00:00.5+02:00"))).toEqual({ at: new Date("2026-12-06T05:00:00.500Z") });
  });

  it("no annotation: no request", () => {
    expect(rotateCaRequest(secret())).toEqual({});
  });

  it("anything else is not acted on, and says why", () => {
    expect(rotateCaRequest(secret("now"))).toEqual({ problem: 'annotation hookpoint.dev/rotate-ca-requested-at is not an RFC 3339 time: "now"' });
    expect(rotateCaRequest(secret("2026-12-06"))).toEqual({ problem: 'annotation hookpoint.dev/rotate-ca-requested-at is not an RFC 3339 time: "2026-12-06"' });
    expect(rotateCaRequest(secret("2026-13-06T05:00:00Z")).problem).toBe('annotation hookpoint.dev/rotate-ca-requested-at is not an RFC 3339 time: "2026-13-06T05:00:00Z"');
  });
});

describe("materialToSecret", () => {
  const material = { caBundle: "CA", caKey: "CAKEY", tlsCert: "CRT", tlsKey: "KEY" };
  it("keeps the annotations it is given (kubectl's last-applied configuration among them)", () => {
    const s = materialToSecret(material, { name: "t", namespace: "ns", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" } });
    expect(s.metadata?.annotations).toEqual({ "kubectl.kubernetes.io/last-applied-configuration": "{}" });
    expect(materialToSecret(material, { name: "t", namespace: "ns", annotations: {} }).metadata).not.toHaveProperty("annotations");
  });
});
