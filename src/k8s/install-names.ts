// Names shared by the manifests in deploy/ and the code that manages the
// installation at run time. test/unit/deploy checks the manifests against them.
export { DEFAULT_SERVICE as WEBHOOK_SERVICE } from "../certs/names.js";
export { WEBHOOK_NAMESPACE } from "../defaults.js";
export { WEBHOOK_PATH } from "../names.js";

/** Kubernetes calls mutating webhook configurations in name order: "zz-" sorts after istio-sidecar-injector*. */
export const WEBHOOK_CONFIGURATION_NAME = "zz-hookpoint";
/** Same name and keys (tls.crt, tls.key, ca.crt) in the cert-manager and self-managed overlays. */
export const TLS_SECRET_NAME = "hookpoint-webhook-tls";
