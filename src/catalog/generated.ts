// A script generated for one binary from a bundled template (hookpoint-pairs,
// envoy-http-filters): the template's header with the exact symbols it probes, and its
// repeat blocks expanded. Pure.
import type { BundledScript } from "./catalog.js";
import { formatHeaderComment, type ScriptHeader } from "./header.js";
import { expandTemplate, isTemplate, type TemplateItems } from "./template.js";

/** Throws when `template` has no repeat blocks to generate from. */
export function assertTemplate(template: BundledScript): void {
  if (!isTemplate(template.source)) throw new Error(`${template.header.name} is not a template (no "// hookpoint:each" lines)`);
}

/** The script for these items; its header lists `requires`, and `file` is null because it is generated. */
export function fromTemplate(template: BundledScript, requires: string[], items: TemplateItems): BundledScript {
  const header: ScriptHeader = { ...template.header, requires };
  const program = expandTemplate(template.body.replace(/^\n/, ""), items);
  // The body starts with the newline that ends the header comment, as a parsed file's does.
  return { header, source: formatHeaderComment(header) + program, body: `\n${program}`, file: null };
}
