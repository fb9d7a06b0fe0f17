// Product defaults, in one place so README, deploy/ and code agree.
import { VERSION } from "./version.js";

/** Tracing proxy image used when no profile names one: the tag deploy/images/proxy-istio.Dockerfile documents (push it to your registry, or set a profile image). */
export const DEFAULT_IMAGE = `hookpoint/proxy-istio:${VERSION}-istio1.28.0`;
export const WEBHOOK_PORT = 8443;
export const WEBHOOK_NAMESPACE = "hookpoint-system";
