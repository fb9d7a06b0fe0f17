// AdmissionReview as the API server sends it (admission.k8s.io/v1 and v1beta1
// share this shape) and the answer it expects. Only the fields hookpoint reads
// or writes are typed; the route schema checks them.

export const ADMISSION_API_VERSIONS = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"] as const;
export type AdmissionApiVersion = (typeof ADMISSION_API_VERSIONS)[number];
export const ADMISSION_OPERATIONS = ["CREATE", "UPDATE", "DELETE", "CONNECT"] as const;

export interface GroupVersionKind {
  group?: string;
  version?: string;
  kind: string;
}

export interface GroupVersionResource {
  group?: string;
  version?: string;
  resource: string;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: (typeof ADMISSION_OPERATIONS)[number];
  dryRun?: boolean;
  object?: unknown;
  oldObject?: unknown;
  [key: string]: unknown;
}

export interface AdmissionReview {
  apiVersion: AdmissionApiVersion;
  kind: "AdmissionReview";
  request: AdmissionRequest;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: "JSONPatch";
  /** base64 of the JSON Patch. */
  patch?: string;
  warnings?: string[];
  /** The API server prefixes each key with the webhook's name in the audit log. */
  auditAnnotations?: Record<string, string>;
  status?: { code: number; message: string };
}

export interface AdmissionReviewAnswer {
  apiVersion: AdmissionApiVersion;
  kind: "AdmissionReview";
  response: AdmissionResponse;
}
