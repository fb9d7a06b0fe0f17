// kubeconfig files for the local cluster (the usual kubectl format, one context).
import { stringify } from "yaml";

export type Credentials = { clientCertificatePem: string; clientKeyPem: string } | { token: string };

export interface KubeconfigInput {
  /** Name of the cluster, user and context entries. */
  name: string;
  server: string;
  caPem: string;
  credentials: Credentials;
  namespace?: string;
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

export function kubeconfigYaml(input: KubeconfigInput): string {
  const user =
    "token" in input.credentials
      ? { token: input.credentials.token }
      : { "client-certificate-data": b64(input.credentials.clientCertificatePem), "client-key-data": b64(input.credentials.clientKeyPem) };
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: input.name, cluster: { server: input.server, "certificate-authority-data": b64(input.caPem) } }],
    users: [{ name: input.name, user }],
    contexts: [{ name: input.name, context: { cluster: input.name, user: input.name, ...(input.namespace ? { namespace: input.namespace } : {}) } }],
    "current-context": input.name,
    preferences: {},
  });
}
