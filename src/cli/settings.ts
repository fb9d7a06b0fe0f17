// Settings shared by the commands that decide (inject, explain, webhook).
import { DEFAULT_IMAGE } from "../defaults.js";
import type { Settings } from "../policy/effective.js";
import { DEFAULT_SCRIPT_NAMES, loadCatalog } from "../scripts/catalog.js";
import { VERSION } from "../version.js";

export async function loadSettings(opts: { image?: string; webhookNamespace?: string } = {}): Promise<Settings> {
  const catalog = await loadCatalog();
  const settings: Settings = {
    defaultImage: opts.image ?? DEFAULT_IMAGE,
    defaultScripts: [...DEFAULT_SCRIPT_NAMES],
    knownScripts: catalog.map((s) => s.header.name),
    version: VERSION,
  };
  if (opts.webhookNamespace) settings.webhookNamespace = opts.webhookNamespace;
  return settings;
}
