// Checks a bundled script's program against its header and the house rules, so a drift
// between what a script declares and what it does fails when the catalog loads (and in
// the unit tests), not on a user's node. Pure.
import { alternatives, ScriptFileError, type ScriptEventInfo, type ScriptHeader } from "./header.js";
import { lineAt, mapKeyArities, mapsUsed, maskCommentsAndStrings, parseProgram, ProgramSyntaxError, type ProbeBlock } from "./program.js";
import { expandTemplate, GLOBAL_PLACEHOLDERS, isTemplate, placeholders, TemplateError, type TemplateItems } from "./template.js";

/** What a generated script is checked with: one pair and one lone function. */
export const SAMPLE_ITEMS: TemplateItems = {
  pair: [{ NAME: "Sample", LABEL: "Sample", START: "hookpointSampleStart", END: "hookpointSampleEnd", VAR: "Sample", KEY: "arg0" }],
  lone: [{ NAME: "SampleSeen", SYMBOL: "hookpointSampleSeen" }],
  filter: [{ FILTER: "sample", METHOD: "decodeHeaders", SYMBOL: "_ZN5Envoy10Extensions11HttpFilters6Sample6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb", ID: "1" }],
};

const UPROBE_RE = /^(uprobe|uretprobe):\{\{BINARY\}\}:(\S+)$/;
const KERNEL_PREFIX_RE = /^(tracepoint|kprobe|kretprobe|rawtracepoint|kfunc|kretfunc|fentry|fexit):/;
const FLUSH_PROBE = "interval:s:{{INTERVAL}}";
// Output belongs in the interval flush, never in a per-event probe.
/** The aggregation each map kind is filled with: the running totals the agent differences. */
const AGGREGATION_OF: Record<ScriptHeader["maps"][number]["kind"], string[] | null> = {
  hist: ["hist", "lhist"],
  count: ["count"],
  sum: ["sum"],
  stats: ["stats"],
  avg: ["avg"],
  value: null,
};
const PER_EVENT_FORBIDDEN = ["printf", "print", "time", "system", "cat", "exit", "join"];

/** An ELF requirement (symbol or glob, maybe `A | B`) as opposed to a kernel probe. */
export function isKernelRequirement(r: string): boolean {
  return KERNEL_PREFIX_RE.test(r);
}

/** The symbol pattern of a `uprobe:{{BINARY}}:PATTERN` attach point, or null. */
export function uprobePattern(attachPoint: string): { type: "uprobe" | "uretprobe"; pattern: string } | null {
  const m = UPROBE_RE.exec(attachPoint);
  return m ? { type: m[1] as "uprobe" | "uretprobe", pattern: m[2] ?? "" } : null;
}

/**
 * Throws ScriptFileError for the first problem: syntax, placeholders, probes that are not
 * filtered by pid or print per event, requirements that no probe uses, maps the header
 * and the program disagree on, output maps that are not printed or that are reset (they keep
 * running totals), state maps that leak at exit.
 */
export function lintScript(header: ScriptHeader, body: string, file: string, bodyLine: number): void {
  const template = isTemplate(body);
  const where = (line: number | null, problem: string): ScriptFileError =>
    new ScriptFileError(file, line === null ? null : bodyLine + line - 1, template ? `${problem} (in the template expanded for one sample item of each kind)` : problem);

  let program = body;
  if (template) {
    try {
      program = expandTemplate(body, SAMPLE_ITEMS);
    } catch (err) {
      if (err instanceof TemplateError) throw new ScriptFileError(file, bodyLine + err.line - 1, err.message);
      throw err;
    }
  }
  for (const p of placeholders(maskCommentsAndStrings(program, { keepStrings: true }))) {
    if (!(GLOBAL_PLACEHOLDERS as readonly string[]).includes(p)) {
      throw where(null, `unknown placeholder {{${p}}} (known: ${GLOBAL_PLACEHOLDERS.map((g) => `{{${g}}}`).join(", ")})`);
    }
  }
  let blocks: ProbeBlock[];
  try {
    blocks = parseProgram(program);
  } catch (err) {
    if (err instanceof ProgramSyntaxError) throw where(lineAt(program, err.offset), err.message);
    throw err;
  }

  const elfRequired = new Set(header.requires.filter((r) => !isKernelRequirement(r)).flatMap(alternatives));
  const kernelRequired = new Set(header.requires.filter(isKernelRequirement));
  const uprobePatterns = new Set<string>();
  const kernelProbes = new Set<string>();
  const alwaysPresent: ProbeBlock[] = [];
  let flush: ProbeBlock | null = null;
  const usedTags = new Set<string>();

  for (const b of blocks) {
    let hasUprobe = false;
    let hasRequiredUprobe = false;
    let isEvent = false;
    for (const a of b.attachPoints) {
      if (a.startsWith("cpp:") || a.includes(":cpp:")) throw where(b.line, `"${a}": probe by mangled name, glob or address, never "cpp:" (bpftrace 0.17 lacks it)`);
      const up = uprobePattern(a);
      if (up) {
        hasUprobe = true;
        isEvent = true;
        uprobePatterns.add(up.pattern);
        if (template || elfRequired.has(up.pattern)) hasRequiredUprobe = true;
        continue;
      }
      if (/^u(ret)?probe:/.test(a) || a.includes("{{BINARY}}")) {
        throw where(b.line, `"${a}": a uprobe must target the traced binary as "uprobe:{{BINARY}}:SYMBOL"`);
      }
      if (KERNEL_PREFIX_RE.test(a) || /^(usdt|software|hardware|profile|watchpoint):/.test(a)) {
        isEvent = true;
        kernelProbes.add(a);
        if (!kernelRequired.has(a)) throw where(b.line, `"${a}" is not listed in the header's requires`);
        continue;
      }
      if (a.startsWith("interval:")) {
        if (a !== FLUSH_PROBE) throw where(b.line, `"${a}": flush on "${FLUSH_PROBE}" so the agent sets the interval`);
        if (flush) throw where(b.line, `a second "${FLUSH_PROBE}" block`);
        flush = b;
        continue;
      }
      if (a !== "BEGIN" && a !== "END") throw where(b.line, `unexpected attach point "${a}"`);
    }
    if (isEvent) {
      if (!b.predicate || !/\bpid == \{\{PID\}\}/.test(b.predicate)) {
        throw where(b.line, `probe ${b.attachPoints[0]} must filter on "pid == {{PID}}" (uprobes and tracepoints fire for every process)`);
      }
      const action = maskCommentsAndStrings(b.action);
      for (const f of PER_EVENT_FORBIDDEN) {
        if (f === "printf" && header.events) continue;
        if (new RegExp(`\\b${f}\\s*\\(`).test(action)) {
          throw where(b.line, `probe ${b.attachPoints[0]} calls ${f}() per event; aggregate in maps and print them on "${FLUSH_PROBE}"${f === "printf" ? ' (a script that prints sampled events declares them under "events")' : ""}`);
        }
      }
      if (header.events) for (const tag of eventLines(header.events, b, program, where)) usedTags.add(tag);
    }
    if (!hasUprobe || hasRequiredUprobe) alwaysPresent.push(b);
  }

  for (const [script, symbols] of Object.entries(header.with ?? {})) {
    for (const sym of symbols) {
      if (!uprobePatterns.has(sym)) throw where(null, `with.${script} lists "${sym}" but no "uprobe:{{BINARY}}:${sym}" probe uses it`);
      if (elfRequired.has(sym)) throw where(null, `with.${script} lists "${sym}", which requires also lists: a probe that runs only beside ${script} must be optional`);
    }
  }
  if (!template) {
    for (const r of header.requires) {
      if (isKernelRequirement(r)) {
        if (!kernelProbes.has(r)) throw where(null, `requires "${r}" but no probe attaches to it`);
      } else {
        for (const alt of alternatives(r)) {
          if (!uprobePatterns.has(alt)) throw where(null, `requires "${alt}" but no "uprobe:{{BINARY}}:${alt}" probe uses it`);
        }
      }
    }
  }

  for (const e of header.events ?? []) {
    if (!usedTags.has(e.tag)) throw where(null, `header lists event "${e.tag}" but no probe prints it`);
  }
  if (!flush) throw where(null, `no "${FLUSH_PROBE}" block flushes the maps`);
  const flushAction = maskCommentsAndStrings(flush.action);
  const used = mapsUsed(program);
  const declared = new Map(header.maps.map((m) => [m.name, m]));
  for (const m of header.maps) {
    if (!used.has(m.name)) throw where(null, `header lists ${m.name} but the program never uses it`);
    const arities = [...mapKeyArities(program, m.name)];
    const want = m.keys?.length ?? 0;
    const bad = arities.find((n) => n !== want);
    if (bad !== undefined) {
      throw where(null, `${m.name} is used with ${bad} key component(s) but the header's keys has ${want} (${(m.keys ?? []).join(", ") || "none"})`);
    }
    const wanted = AGGREGATION_OF[m.kind];
    for (const a of maskCommentsAndStrings(program).matchAll(new RegExp(`${escape(m.name)}(?:\\[[^\\]]*\\])?\\s*=(?!=)\\s*([A-Za-z_]\\w*)?`, "g"))) {
      if (wanted && !wanted.includes(a[1] ?? "")) {
        throw where(lineAt(program, a.index ?? 0), `${m.name} is a ${m.kind} map: assign it with ${wanted.map((f) => `${f}()`).join(" or ")}`);
      }
    }
    if (!new RegExp(`\\bprint\\(${escape(m.name)}\\)`).test(flushAction)) {
      throw where(flush.line, `the flush block must print(${m.name})`);
    }
    // A clear between two prints loses the updates that land in between (bpftrace #277):
    // output maps keep running totals and the agent subtracts the previous dump.
    const reset = blocks.find((b) => new RegExp(`\\b(clear|zero|delete)\\(\\s*${escape(m.name)}\\s*[)[]`).test(maskCommentsAndStrings(b.action)));
    if (reset) {
      throw where(reset.line, `${m.name} is an output map: keep its running total (no clear, zero or delete); the agent computes each interval from the difference`);
    }
  }
  const ends = blocks.filter((b) => b.attachPoints.includes("END")).map((b) => maskCommentsAndStrings(b.action)).join("\n");
  for (const name of used) {
    if (!name.startsWith("@_")) {
      if (!declared.has(name)) throw where(null, `${name} is output (no "@_" prefix) but the header does not list it; state maps start with "@_"`);
    } else if (!new RegExp(`\\bclear\\(${escape(name)}\\)`).test(ends)) {
      throw where(null, `state map ${name} must be cleared in an END block, or bpftrace prints it at exit`);
    }
    const assigned = new RegExp(`${escape(name)}(\\[[^\\]]*\\])?\\s*=(?!=)`);
    if (!alwaysPresent.some((b) => assigned.test(maskCommentsAndStrings(b.action)))) {
      throw where(null, `${name} is only assigned in optional probes; assign it in BEGIN too, or bpftrace rejects the program when they are left out`);
    }
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The tags of the event lines a probe prints. Each printf must print one declared line:
 * a literal format that starts with the tag and has one word per declared field.
 */
function eventLines(events: readonly ScriptEventInfo[], b: ProbeBlock, program: string, where: (line: number | null, problem: string) => ScriptFileError): string[] {
  const action = maskCommentsAndStrings(b.action, { keepStrings: true });
  const tags: string[] = [];
  for (const call of action.matchAll(/\bprintf\s*\(\s*("?)((?:[^"\\\n]|\\.)*)/g)) {
    // The action ends just before the block's closing brace.
    const line = lineAt(program, b.end - 1 - b.action.length + (call.index ?? 0));
    if (call[1] !== '"') throw where(line, `probe ${b.attachPoints[0]}: printf's format must be a string literal (one declared event line)`);
    const format = call[2] ?? "";
    if (!format.endsWith("\\n")) throw where(line, `probe ${b.attachPoints[0]}: an event line ends with "\\n", got "${format}"`);
    const words = format.slice(0, -2).split(" ");
    const event = events.find((e) => e.tag === words[0]);
    if (!event) throw where(line, `probe ${b.attachPoints[0]} prints "${words[0]} ...", which the header's events do not declare (declared: ${events.map((e) => e.tag).join(", ")})`);
    if (words.length - 1 !== event.fields.length) {
      throw where(line, `probe ${b.attachPoints[0]}: event "${event.tag}" has ${words.length - 1} field(s) but the header declares ${event.fields.length} (${event.fields.join(", ")})`);
    }
    tags.push(event.tag);
  }
  return tags;
}
