import { describe, expect, it } from "vitest";
import { checkDnsLabel, serviceDnsNames, servingSubjectAltNames } from "../../../src/certs/names.js";

describe("serving certificate names", () => {
  it("are the Service's four DNS forms, then localhost, 127.0.0.1 and ::1", () => {
    expect(servingSubjectAltNames("hookpoint-webhook", "hookpoint-system")).toEqual({
      dnsNames: [
        "hookpoint-webhook",
        "hookpoint-webhook.hookpoint-system",
        "hookpoint-webhook.hookpoint-system.svc",
        "hookpoint-webhook.hookpoint-system.svc.cluster.local",
        "localhost",
      ],
      ipAddresses: ["127.0.0.1", "::1"],
    });
  });

  it("follow the cluster domain", () => {
    expect(serviceDnsNames("wh", "ops", "corp.internal")).toEqual(["wh", "wh.ops", "wh.ops.svc", "wh.ops.svc.corp.internal"]);
  });

  it.each([
    ["service name", "Hookpoint", () => serviceDnsNames("Hookpoint", "ns")],
    ["namespace", "a.b", () => serviceDnsNames("svc", "a.b")],
    ["namespace", "-ns", () => serviceDnsNames("svc", "-ns")],
    ["service name", "", () => serviceDnsNames("", "ns")],
  ])("refuse a %s that is no DNS-1123 label (%j)", (what, value, call) => {
    expect(call).toThrow(
      `${what} must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit), got ${JSON.stringify(value)}`,
    );
  });

  it("refuse a 64-character label and a bad cluster domain", () => {
    expect(() => checkDnsLabel("namespace", "a".repeat(64))).toThrow(/^namespace must be a DNS-1123 label/);
    expect(() => serviceDnsNames("svc", "ns", "Cluster_Local")).toThrow('cluster domain must be a DNS-1123 subdomain such as "cluster.local", got "Cluster_Local"');
  });
});
