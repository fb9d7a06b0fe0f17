// `kubectl auth can-i` for an identity: a SelfSubjectAccessReview sent with its credentials.
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest, ok } from "./kube-http.js";

export interface Access {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  /** One object, for grants limited by resourceNames. */
  name?: string;
}

export async function canI(kc: KubeConfig, a: Access): Promise<boolean> {
  const res = ok(
    await kubeRequest<{ status?: { allowed?: boolean } }>(kc, {
      method: "POST",
      path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: a } },
    }),
    "SelfSubjectAccessReview",
  );
  return res.body.status?.allowed === true;
}

/** "verb group/resource[/sub] [in ns]", as a table row in a test's expectation. */
export function describeAccess(a: Access): string {
  const res = `${a.group === "" ? "core" : a.group}/${a.resource}${a.subresource ? `/${a.subresource}` : ""}`;
  return `${a.verb} ${res}${a.name ? ` ${a.name}` : ""}${a.namespace ? ` in ${a.namespace}` : ""}`;
}
