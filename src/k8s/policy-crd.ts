// Whether the HookpointPolicy CRD is installed, read from the CRD object itself
// (RBAC: get on that one CustomResourceDefinition): the API server may answer 404
// for the policies for a moment after it restarts, although the CRD exists.
import { ApiextensionsV1Api, type KubeConfig } from "@kubernetes/client-node";
import { POLICY_CRD_NAME } from "../policy/types.js";
import { httpStatus } from "./api-errors.js";
import { requestOptions, type ListOptions } from "./lists.js";

/** True when the CRD does not exist; false when it does; rejects when that cannot be known (403, network). */
export async function policyCrdAbsent(kubeConfig: KubeConfig, options: Pick<ListOptions, "signal" | "timeoutMs"> = {}): Promise<boolean> {
  try {
    // Bounded as a list is: an API server that never answers must not hold the watcher's retries.
    await kubeConfig.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: POLICY_CRD_NAME }, requestOptions(options));
    return false;
  } catch (err) {
    if (httpStatus(err) === 404) return true;
    throw err;
  }
}
