// Just enough of bpftrace's syntax to find probe blocks: the attach-point list, the
// predicate, and the braces of the action. Comments and string literals are skipped so a
// brace or slash inside them is not mistaken for structure. Pure.

export interface ProbeBlock {
  /** Offset of the first attach point. */
  start: number;
  /** Offset just after the closing brace of the action. */
  end: number;
  /** Offsets of the attach-point list (without the predicate). */
  attachStart: number;
  attachEnd: number;
  /** Attach points as written, trimmed, e.g. `uprobe:{{BINARY}}:_ZN5Envoy...`, `interval:s:{{INTERVAL}}`. */
  attachPoints: string[];
  /** The predicate text between its slashes, or null. */
  predicate: string | null;
  /** The action, between its braces. */
  action: string;
  /** 1-based line of `start`, for messages. */
  line: number;
}

export class ProgramSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
    this.name = "ProgramSyntaxError";
  }
}

/** The source with comments and string texts blanked (same length, same lines), so offsets still match. */
export function maskCommentsAndStrings(source: string, opts: { keepStrings?: boolean } = {}): string {
  let out = "";
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const nl = source.indexOf("\n", i);
      const stop = nl < 0 ? source.length : nl;
      out += " ".repeat(stop - i);
      i = stop;
    } else if (c === "/" && next === "*") {
      const close = source.indexOf("*/", i + 2);
      if (close < 0) throw new ProgramSyntaxError(i, "comment is not closed");
      out += source.slice(i, close + 2).replace(/[^\n]/g, " ");
      i = close + 2;
    } else if (c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== '"') {
        if (source[j] === "\\") j++;
        if (source[j] === "\n") throw new ProgramSyntaxError(i, "string literal is not closed on its line");
        j++;
      }
      if (j >= source.length) throw new ProgramSyntaxError(i, "string literal is not closed");
      // Keep the quotes so a masked string still reads as an expression; blank its text.
      out += opts.keepStrings ? source.slice(i, j + 1) : '"' + " ".repeat(j - i - 1) + '"';
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Finds every probe block of a bpftrace program. */
export function parseProgram(source: string): ProbeBlock[] {
  // Template placeholders ({{PID}}) are not braces of the program.
  const masked = maskCommentsAndStrings(source).replace(/\{\{[A-Z_]*\}\}/g, (p) => "_".repeat(p.length));
  const blocks: ProbeBlock[] = [];
  let i = 0;
  while (i < masked.length) {
    // Skip space between blocks.
    while (i < masked.length && /\s/.test(masked[i] ?? "")) i++;
    if (i >= masked.length) break;
    const start = i;
    const open = masked.indexOf("{", i);
    if (open < 0) throw new ProgramSyntaxError(start, `expected a probe block, found "${firstLine(source.slice(start))}" without "{"`);
    const head = masked.slice(start, open);
    // The predicate's slash follows white space; a slash inside an attach point (a path) does not.
    const slash = head.search(/(?<=\s)\//);
    let attachEnd = slash < 0 ? open : start + slash;
    let predicate: string | null = null;
    if (slash >= 0) {
      const last = head.lastIndexOf("/");
      if (last === slash) throw new ProgramSyntaxError(start + slash, "predicate is not closed with \"/\"");
      if (head.slice(last + 1).trim() !== "") throw new ProgramSyntaxError(start + last, "unexpected text between the predicate and \"{\"");
      predicate = source.slice(start + slash + 1, start + last).trim();
    }
    while (attachEnd > start && /\s/.test(masked[attachEnd - 1] ?? "")) attachEnd--;
    const attachText = source.slice(start, attachEnd);
    const attachPoints = attachText.split(",").map((s) => s.trim());
    if (attachPoints.some((a) => a === "")) throw new ProgramSyntaxError(start, `empty attach point in "${attachText}"`);
    // Match the action's braces.
    let depth = 0;
    let j = open;
    for (; j < masked.length; j++) {
      if (masked[j] === "{") depth++;
      else if (masked[j] === "}") {
        depth--;
        if (depth === 0) break;
      }
    }
    if (depth !== 0) throw new ProgramSyntaxError(open, "probe action is not closed with \"}\"");
    blocks.push({
      start,
      end: j + 1,
      attachStart: start,
      attachEnd,
      attachPoints,
      predicate,
      action: source.slice(open + 1, j),
      line: lineAt(source, start),
    });
    i = j + 1;
  }
  return blocks;
}

/** 1-based line number of an offset. */
export function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < source.length; k++) if (source[k] === "\n") line++;
  return line;
}

function firstLine(s: string): string {
  const line = s.split("\n")[0] ?? "";
  return line.length > 60 ? `${line.slice(0, 60)}...` : line;
}

/** Names of the maps a program uses (`@name`), outside comments and strings. */
export function mapsUsed(source: string): Set<string> {
  const masked = maskCommentsAndStrings(source);
  return new Set(masked.match(/@[A-Za-z_][A-Za-z0-9_]*/g) ?? []);
}

/**
 * How many key components each use of a map has (`@m` → 0, `@m[a, b]` → 2), outside
 * comments and strings. Used to check a header's `keys` against the program.
 */
export function mapKeyArities(source: string, name: string): Set<number> {
  const masked = maskCommentsAndStrings(source);
  const out = new Set<number>();
  const re = new RegExp(`${name.replace(/[$]/g, "\\$&")}(?![A-Za-z0-9_])`, "g");
  for (const m of masked.matchAll(re)) {
    const k = (m.index ?? 0) + name.length;
    if (masked[k] !== "[") {
      // `print(@m)` / `clear(@m)` name the whole map and say nothing about its key.
      const before = masked.slice(0, m.index).trimEnd();
      if (!/\b(print|clear|zero|delete)\($/.test(before)) out.add(0);
      continue;
    }
    out.add(keyComponents(masked, k).parts.length);
  }
  return out;
}

/**
 * The key of a map use whose `[` is at `open` in masked text (maskCommentsAndStrings):
 * the offset of its `]` (-1 when it never closes) and the [start, end) of each top-level
 * component.
 */
export function keyComponents(masked: string, open: number): { close: number; parts: Array<[number, number]> } {
  const parts: Array<[number, number]> = [];
  let depth = 0;
  let from = open + 1;
  for (let k = open; k < masked.length; k++) {
    const c = masked[k];
    if (c === "[" || c === "(") depth++;
    else if (c === "]" || c === ")") {
      depth--;
      if (depth === 0) {
        parts.push([from, k]);
        return { close: c === "]" ? k : -1, parts };
      }
    } else if (c === "," && depth === 1) {
      parts.push([from, k]);
      from = k + 1;
    }
  }
  parts.push([from, masked.length]);
  return { close: -1, parts };
}
