// What --image, a profile's image and `hookpoint check` accept as an image reference.
import { describe, expect, it } from "vitest";
import { IMAGE_REFERENCE, imageParts } from "../../src/image-reference.js";

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

describe("imageParts", () => {
  it.each([
    ["hookpoint/proxy-istio:0.1.0", { repository: "hookpoint/proxy-istio", tag: "0.1.0" }],
    ["registry.example.com:5000/hookpoint/proxy-istio", { repository: "registry.example.com:5000/hookpoint/proxy-istio" }],
    ["registry.example.com:5000/hookpoint/proxy-istio:1.28.0", { repository: "registry.example.com:5000/hookpoint/proxy-istio", tag: "1.28.0" }],
    ["[fd00::1]:5000/proxy:1", { repository: "[fd00::1]:5000/proxy", tag: "1" }],
    ["[::1]/proxy", { repository: "[::1]/proxy" }],
    [`registry.example.com/proxy@sha256:${"a".repeat(64)}`, { repository: "registry.example.com/proxy", digest: `sha256:${"a".repeat(64)}` }],
    [`[fd00::1]:5000/proxy:1@sha384:${"b".repeat(96)}`, { repository: "[fd00::1]:5000/proxy", tag: "1", digest: `sha384:${"b".repeat(96)}` }],
    [`registry.example.com:443/proxy@sha512:${"c".repeat(128)}`, { repository: "registry.example.com:443/proxy", digest: `sha512:${"c".repeat(128)}` }],
    ["auto", { repository: "auto" }],
  ])("%s", (image, parts) => {
    expect(imageParts(image)).toEqual(parts);
  });
});
