// Whether the HookpointPolicy CRD is installed, read from the CRD object itself
// (RBAC: get on that one CustomResourceDefinition): the API server may answer 404
// for the policies for a moment after it restarts, although the CRD exists.
import { ApiextensionsV1Api, type KubeConfig } from "@kubernetes/client-node";
import { POLICY_CRD_NAME } from "../policy/types.js";
import { httpStatus } from "./api-errors.js";

/** True when the CRD does not exist; false when it does; rejects when that cannot be known (403, network). */
export async function policyCrdAbsent(kubeConfig: KubeConfig): Promise<boolean> {
  try {
    await kubeConfig.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: POLICY_CRD_NAME });
    return false;
  } catch (err) {
    if (httpStatus(err) === 404) return true;
    throw err;
  }
}
