// The event lines a per-event script prints (bpftrace `printf`, one line each), parsed by
// the script header's `events` declarations: the line's first word is the tag, then one
// word per declared field; the last field takes the rest of the line (a capture may hold
// spaces). Pure.
import type { ScriptEventInfo } from "../../catalog/header.js";

export interface EventLine {
  tag: string;
  /** Field name → the word as printed. */
  fields: Record<string, string>;
}

export class EventLineError extends Error {
  override name = "EventLineError";
}

export class EventParser {
  private readonly byTag = new Map<string, readonly string[]>();

  constructor(events: readonly ScriptEventInfo[]) {
    for (const e of events) this.byTag.set(e.tag, e.fields);
  }

  /** Fields each tag must have, checked once against the script's header. */
  require(needed: Readonly<Record<string, readonly string[]>>, script: string): void {
    for (const [tag, names] of Object.entries(needed)) {
      const have = this.byTag.get(tag);
      if (!have) throw new EventLineError(`${script}: the header declares no "${tag}" event`);
      const missing = names.filter((n) => !have.includes(n));
      if (missing.length > 0) throw new EventLineError(`${script}: event "${tag}" lacks field${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
    }
  }

  /** One printed line (its trailing newline allowed); throws EventLineError. */
  parse(text: string): EventLine {
    const line = text.endsWith("\n") ? text.slice(0, -1) : text;
    const sp = line.indexOf(" ");
    const tag = sp < 0 ? line : line.slice(0, sp);
    const names = this.byTag.get(tag);
    if (!names) throw new EventLineError(`unknown event "${tag.slice(0, 20)}"`);
    const fields: Record<string, string> = {};
    let rest = sp < 0 ? "" : line.slice(sp + 1);
    for (let i = 0; i < names.length; i++) {
      const last = i === names.length - 1;
      const cut = last ? -1 : rest.indexOf(" ");
      if (!last && cut < 0) throw new EventLineError(`event "${tag}" has ${i + 1} field(s), expected ${names.length}`);
      fields[names[i]!] = last ? rest : rest.slice(0, cut);
      rest = last ? "" : rest.slice(cut + 1);
    }
    return { tag, fields };
  }
}

/** A decimal field as a number (bpftrace prints u64/s64 in decimal); throws when it is not one. */
export function num(e: EventLine, name: string): number {
  const v = e.fields[name];
  if (v === undefined || !isDecimal(v)) throw new EventLineError(`event "${e.tag}": ${name} is not a number: ${JSON.stringify(v)}`);
  return Number(v);
}

/** An optional "-" then one or more ASCII digits (a char loop: this runs for every field of every event). */
function isDecimal(v: string): boolean {
  const start = v.charCodeAt(0) === 45 ? 1 : 0;
  if (v.length === start) return false;
  for (let i = start; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A hexadecimal field (no 0x) as a bigint. */
export function hex(e: EventLine, name: string): bigint {
  const v = e.fields[name];
  if (v === undefined || !/^[0-9a-f]{1,16}$/.test(v)) throw new EventLineError(`event "${e.tag}": ${name} is not hexadecimal: ${JSON.stringify(v)}`);
  return BigInt(`0x${v}`);
}

/**
 * bpftrace's `%r` text back to bytes: it prints printable bytes (0x20-0x7e, a backslash
 * too) as themselves and the others as \xNN, so `\x2d` in the text is those 4 bytes, never
 * a "-". (Only a literal `\x` before the code of a non-printable byte cannot be told apart.)
 */
export function unescapeR(text: string): Buffer {
  const out = Buffer.alloc(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text[i] === "\\" && text[i + 1] === "x" && /^[0-9a-f]{2}$/.test(text.slice(i + 2, i + 4)) ? parseInt(text.slice(i + 2, i + 4), 16) : -1;
    if (code >= 0 && (code < 0x20 || code > 0x7e)) {
      out[n++] = code;
      i += 3;
    } else {
      out[n++] = text.charCodeAt(i) & 0xff;
    }
  }
  return out.subarray(0, n);
}
