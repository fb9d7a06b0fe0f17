// Product defaults, in one place so README, deploy/ and code agree.
import { VERSION } from "./version.js";

/** Tracing proxy image used when no profile names one: the tag deploy/images/proxy-istio.Dockerfile documents (push it to your registry, or set a profile image). */
export const DEFAULT_IMAGE = `hookpoint/proxy-istio:${VERSION}-istio1.28.0`;
export const WEBHOOK_PORT = 8443;
export const WEBHOOK_NAMESPACE = "hookpoint-system";
/** Seconds between bpftrace map flushes (the agent's --interval and `scripts render`). */
export const DEFAULT_INTERVAL_SECONDS = 10;
/** The scripts run when a pod names none: those whose header says `default: true` (a test checks they agree). */
export const DEFAULT_SCRIPT_NAMES: readonly string[] = ["envoy-event-loop", "envoy-request-flow", "hookpoint-pairs"];
