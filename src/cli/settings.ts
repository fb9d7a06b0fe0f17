// Settings shared by the commands that decide (inject, explain, webhook).
import { POD_SECURITY_LEVELS, type PodSecurityLevel } from "../names.js";
import { DEFAULT_IMAGE } from "../defaults.js";
import { IMAGE_REFERENCE } from "../image-reference.js";
import { UsageError } from "./errors.js";
import type { Settings } from "../policy/effective.js";
import { DEFAULT_SCRIPT_NAMES, loadCatalog } from "../catalog/catalog.js";
import { VERSION } from "../version.js";

/** A Pod Security level from a flag, or an error naming the flag and the levels. */
export function parsePodSecurityLevel(flag: string, raw: string): PodSecurityLevel {
  if ((POD_SECURITY_LEVELS as readonly string[]).includes(raw)) return raw as PodSecurityLevel;
  throw new UsageError(`${flag} must be one of ${POD_SECURITY_LEVELS.join(", ")}, got ${JSON.stringify(raw)}`);
}

/** An image reference from a flag (the tracing image every injected pod pulls), or an error naming the flag. */
function parseImage(flag: string, raw: string): string {
  if (IMAGE_REFERENCE.test(raw)) return raw;
  throw new UsageError(`${flag} must be an image reference such as registry.example.com/hookpoint/proxy-istio:TAG, got ${JSON.stringify(raw)}`);
}

export async function loadSettings(opts: { image?: string; webhookNamespace?: string; defaultPodSecurity?: PodSecurityLevel } = {}): Promise<Settings> {
  if (opts.image !== undefined) parseImage("--image", opts.image);
  const catalog = await loadCatalog();
  const settings: Settings = {
    defaultImage: opts.image ?? DEFAULT_IMAGE,
    defaultScripts: [...DEFAULT_SCRIPT_NAMES],
    knownScripts: catalog.map((s) => s.header.name),
    version: VERSION,
  };
  if (opts.webhookNamespace) settings.webhookNamespace = opts.webhookNamespace;
  if (opts.defaultPodSecurity) settings.defaultPodSecurity = opts.defaultPodSecurity;
  return settings;
}
