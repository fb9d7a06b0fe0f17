// webhookDefaultPodSecurity: the --default-pod-security `hookpoint check` reads from the
// webhook's Deployment is the one the running webhook uses: the last flag (either
// spelling, in command or args), else the last HOOKPOINT_DEFAULT_POD_SECURITY entry
// (the one the kubelet passes), else privileged.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { V1Container, V1Deployment } from "@kubernetes/client-node";
import { webhookDefaultPodSecurity } from "../../../src/cli/webhook-pod-security.js";

const W = "Deployment hookpoint-system/hookpoint-webhook";
const FLAG = `--default-pod-security of ${W}`;
const ENV = `HOOKPOINT_DEFAULT_POD_SECURITY of ${W}`;
const read = (c: Partial<V1Container>) => webhookDefaultPodSecurity({ name: "webhook", ...c }, W);
const env = (...values: (string | undefined)[]) => values.map((value) => ({ name: "HOOKPOINT_DEFAULT_POD_SECURITY", ...(value === undefined ? {} : { value }) }));

describe("webhookDefaultPodSecurity", () => {
  it("the shipped Deployments: privileged, from the flag", () => {
    for (const golden of ["base", "self-managed", "cluster-wide"]) {
      const docs = parseAllDocuments(readFileSync(join(import.meta.dirname, "../deploy/golden", `${golden}.yaml`), "utf8")).map((d) => d.toJS() as { kind?: string });
      const deployment = docs.find((d) => d.kind === "Deployment") as V1Deployment;
      const container = deployment.spec?.template.spec?.containers.find((c) => c.name === "webhook");
      expect(webhookDefaultPodSecurity(container, W), golden).toEqual({ level: "privileged", from: FLAG });
    }
  });

  it("a repeated flag: the last one, as the webhook's option parser takes it, in either spelling", () => {
    expect(read({ args: ["webhook", "--default-pod-security", "baseline", "--default-pod-security", "restricted"] })).toEqual({ level: "restricted", from: FLAG });
    expect(read({ args: ["webhook", "--default-pod-security", "baseline", "--default-pod-security=restricted"] })).toEqual({ level: "restricted", from: FLAG });
    expect(read({ args: ["webhook", "--default-pod-security=restricted", "--port", "8443", "--default-pod-security", "baseline"] })).toEqual({ level: "baseline", from: FLAG });
    // A patch appending to the shipped args overrides its privileged.
    expect(read({ args: ["webhook", "--manage-routing", "--default-pod-security", "privileged", "--default-pod-security=baseline"] })).toEqual({ level: "baseline", from: FLAG });
  });

  it("the flag in command, and across command and args", () => {
    expect(read({ command: ["hookpoint", "webhook", "--default-pod-security=baseline"] })).toEqual({ level: "baseline", from: FLAG });
    expect(read({ command: ["node", "/opt/hookpoint/dist/cli/main.js", "webhook", "--default-pod-security", "restricted"], args: ["--default-pod-security", "baseline"] })).toEqual({
      level: "baseline",
      from: FLAG,
    });
  });

  it("a word that is another option's value is not the flag", () => {
    expect(read({ args: ["webhook", "--image", "--default-pod-security", "--default-pod-security", "baseline"] })).toEqual({ level: "baseline", from: FLAG });
    expect(read({ args: ["webhook", "--context", "--default-pod-security=restricted"] })).toEqual({ level: "privileged", from: `Kubernetes' default; ${W} sets no --default-pod-security` });
  });

  it("the flag wins over the environment, as in the webhook (the variable is only the flag's default)", () => {
    expect(read({ args: ["webhook", "--default-pod-security", "privileged"], env: env("restricted") })).toEqual({ level: "privileged", from: FLAG });
    expect(read({ args: ["webhook", "--default-pod-security=baseline"], env: env("restricted") })).toEqual({ level: "baseline", from: FLAG });
  });

  it("without the flag, the last entry of HOOKPOINT_DEFAULT_POD_SECURITY, the one the kubelet passes", () => {
    expect(read({ args: ["webhook"], env: env("baseline") })).toEqual({ level: "baseline", from: ENV });
    expect(read({ args: ["webhook"], env: [...env("baseline"), { name: "POD_NAMESPACE", value: "x" }, ...env("restricted")] })).toEqual({ level: "restricted", from: ENV });
    expect(read({ args: ["webhook"], env: env("restricted", "privileged") })).toEqual({ level: "privileged", from: ENV });
    // Empty is unset to the webhook (the API server drops an empty value).
    expect(read({ args: ["webhook"], env: env("restricted", undefined) })).toEqual({
      level: "privileged",
      from: `Kubernetes' default; ${W} sets no --default-pod-security, and HOOKPOINT_DEFAULT_POD_SECURITY empty`,
    });
  });

  it("neither flag nor variable: privileged, Kubernetes' default; also with no command or args (the image's CMD)", () => {
    expect(read({ args: ["webhook", "--manage-routing"] })).toEqual({ level: "privileged", from: `Kubernetes' default; ${W} sets no --default-pod-security` });
    expect(read({})).toEqual({ level: "privileged", from: `Kubernetes' default; ${W} sets no --default-pod-security` });
    expect(webhookDefaultPodSecurity(undefined, W)).toEqual({ level: "privileged", from: `Kubernetes' default; ${W} sets no --default-pod-security` });
  });

  it("a value known only when the pod starts, or one the webhook stops on: assumed, saying why", () => {
    expect(read({ args: ["webhook", "--default-pod-security", "$(LEVEL)"] })).toEqual({
      level: "privileged",
      from: `assumed: ${FLAG} is "$(LEVEL)", which the kubelet expands when the pod starts`,
    });
    expect(read({ args: ["webhook"], env: [{ name: "HOOKPOINT_DEFAULT_POD_SECURITY", valueFrom: { configMapKeyRef: { name: "c", key: "k" } } }] })).toEqual({
      level: "privileged",
      from: `assumed: ${ENV} comes from a valueFrom, read when the pod starts`,
    });
    expect(read({ args: ["webhook"], envFrom: [{ configMapRef: { name: "c" } }] })).toEqual({
      level: "privileged",
      from: `assumed: ${W} sets no --default-pod-security, and its envFrom may set HOOKPOINT_DEFAULT_POD_SECURITY`,
    });
    expect(read({ args: ["webhook", "--default-pod-security", "baseline", "--default-pod-security=Restricted"] })).toEqual({
      level: "privileged",
      from: `assumed: the webhook stops at start on ${FLAG}: --default-pod-security must be one of privileged, baseline, restricted, got "Restricted"`,
    });
    expect(read({ args: ["webhook"], env: env("baseline", "strict") })).toEqual({
      level: "privileged",
      from: `assumed: the webhook stops at start on ${ENV}: --default-pod-security must be one of privileged, baseline, restricted, got "strict"`,
    });
    expect(read({ args: ["webhook", "--default-pod-security=baseline", "--default-pod-security"] })).toEqual({
      level: "privileged",
      from: `assumed: the webhook of ${W} stops at start: option '--default-pod-security <level>' argument missing`,
    });
  });
});
