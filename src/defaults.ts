// Product defaults, in one place so README, deploy/ and code agree.
import type { LevelWithSilent } from "pino";
import { VERSION } from "./version.js";

/** Tracing proxy image used when no profile names one: the tag deploy/images/proxy-istio.Dockerfile documents (push it to your registry, or set a profile image). */
export const DEFAULT_IMAGE = `hookpoint/proxy-istio:${VERSION}-istio1.28.0`;
export const WEBHOOK_PORT = 8443;
/** The webhook's --log-level values (pino's levels and silent), here so that the CLI lists them without loading the logger. */
export const LOG_LEVELS: readonly LevelWithSilent[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
export const WEBHOOK_NAMESPACE = "hookpoint-system";
/** Seconds between bpftrace map flushes (the agent's --interval and `scripts render`). */
export const DEFAULT_INTERVAL_SECONDS = 10;
/** Request tracing (envoy-request-trace): trace 1 request in N (the agent's --trace-sample). */
export const DEFAULT_TRACE_SAMPLE = 100;
/** Request tracing: at most N traced requests per second (the agent's --trace-rate). */
export const DEFAULT_TRACE_RATE = 1000;
/** Largest --termination-grace-seconds the agent takes (a day; its stop timer must fit setTimeout's 24.8 days). Kubernetes sets no limit: the webhook writes a longer grace period as this. */
export const MAX_TERMINATION_GRACE_SECONDS = 86_400;
/** Largest --proxy-uid / --proxy-gid the agent takes: Kubernetes' own limit for runAsUser and runAsGroup. */
export const MAX_PROXY_ID = 2 ** 31 - 1;
/** Largest --trace-sample / --trace-rate (bpftrace compares them as 32-bit-safe constants). */
export const MAX_TRACE_SETTING = 1_000_000_000;
/** The scripts run when a pod names none: those whose header says `default: true` (a test checks they agree). */
export const DEFAULT_SCRIPT_NAMES: readonly string[] = ["envoy-event-loop", "envoy-request-flow", "hookpoint-pairs"];
/** The script whose events become request records, in a file of their own besides its map records. */
export const REQUEST_TRACE_SCRIPT = "envoy-request-trace";

const MiB = 1024 * 1024;
/**
 * The one constant behind the agent's disk use: the size of the hookpoint-tmp emptyDir
 * (its sizeLimit; the kubelet evicts a pod whose emptyDir grows past it). Everything else
 * derives from it: the agent's output budget leaves TMP_HEADROOM for others in /tmp, and
 * the default file size lets MAX_SCRIPTS scripts keep their live file and
 * DEFAULT_KEEP_FILES rotated ones each: (512 − 64) MiB / (8 × 4) = 14 MiB.
 */
export const TMP_VOLUME_BYTES = 512 * MiB;
/** What the agent leaves in /tmp for the proxy and its own rendered programs. */
export const TMP_HEADROOM_BYTES = 64 * MiB;
/** The agent's output budget: the sum of its NDJSON files stays under it. */
export const MAX_OUTPUT_BYTES = TMP_VOLUME_BYTES - TMP_HEADROOM_BYTES;
export const DEFAULT_KEEP_FILES = 3;
/** How many scripts the default file size makes room for (5 are bundled). */
export const MAX_SCRIPTS = 8;
export const DEFAULT_MAX_FILE_BYTES = Math.floor(MAX_OUTPUT_BYTES / (MAX_SCRIPTS * (DEFAULT_KEEP_FILES + 1)));
/** The smallest size an NDJSON file is rotated at (the least --max-file-bytes, and what --max-output-bytes must leave each file). */
export const MIN_FILE_BYTES = 4096;
/** The emptyDir's sizeLimit as the API server stores it. */
export const TMP_SIZE_LIMIT = `${TMP_VOLUME_BYTES / MiB}Mi`;

