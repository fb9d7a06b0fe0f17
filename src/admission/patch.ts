import jsonpatch, { type Operation } from "fast-json-patch";
import type { Pod } from "./pod.js";

export type { Operation };

/**
 * RFC 6902 patch from the original to the mutated pod. managedFields are
 * dropped from both: the API server owns them and they are large.
 */
export function podPatch(original: Pod, mutated: Pod): Operation[] {
  return jsonpatch.compare(withoutManagedFields(original), withoutManagedFields(mutated));
}

function withoutManagedFields(pod: Pod): Pod {
  if (!pod.metadata || !("managedFields" in pod.metadata)) return pod;
  const { managedFields: _drop, ...metadata } = pod.metadata;
  return { ...pod, metadata };
}
