// A warning about a pod, addressed to the pod's owner: what the webhook hands
// over (server/review-log.ts) and the Event writer takes (k8s/events.ts). A leaf,
// so the two edges need not import each other.

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export interface OwnerWarning {
  /** The pod's namespace, which is its owner's. */
  namespace: string;
  owner: OwnerRef;
  message: string;
}

/** Takes warnings at once and reports them later, off the request. */
export interface WarningSink {
  warn(warning: OwnerWarning): void;
}
