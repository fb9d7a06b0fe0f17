// Product defaults, in one place so README, deploy/ and code agree.
import { VERSION } from "./version.js";

/** Tracing proxy image used when no profile names one (deploy/images builds it). */
export const DEFAULT_IMAGE = `docker.io/hookpoint/proxyv2:1.24.2-hookpoint-${VERSION}`;
export const WEBHOOK_PORT = 8443;
export const WEBHOOK_NAMESPACE = "hookpoint-system";
