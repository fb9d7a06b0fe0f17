// What --image, a profile's image and `hookpoint check` accept as an image reference.
import { describe, expect, it } from "vitest";
import { IMAGE_REFERENCE } from "../../src/image-reference.js";

describe("IMAGE_REFERENCE", () => {
  it("accepts what the kubelet pulls: IPv6 registries in brackets, sha384 and sha512 digests", () => {
    const ok = [
      "hookpoint/proxy-istio:0.1.0",
      "registry.example.com:5000/hookpoint/proxy-istio:1.28.0",
      "[fd00::1]:5000/hookpoint/proxy-istio:1.28.0",
      "[::1]/proxy",
      `registry.example.com/proxy@sha256:${"a".repeat(64)}`,
      `registry.example.com/proxy:1@sha384:${"b".repeat(96)}`,
      `registry.example.com/proxy@sha512:${"c".repeat(128)}`,
    ];
    expect(ok.filter((i) => !IMAGE_REFERENCE.test(i))).toEqual([]);
  });

  it("refuses what no runtime can pull", () => {
    const bad = [
      "registry.example.com/Hookpoint/proxy:1",
      "proxy istio:1",
      "[fd00::1/proxy",
      `registry.example.com/proxy@sha512:${"c".repeat(64)}`,
      `registry.example.com/proxy@md5:${"d".repeat(32)}`,
      `registry.example.com/proxy@sha256:${"A".repeat(64)}`,
    ];
    expect(bad.filter((i) => IMAGE_REFERENCE.test(i))).toEqual([]);
  });
});
