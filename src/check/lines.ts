// One diagnostic line per check, as `hookpoint check` prints them: "✔ name: what
// was found", or "✘ name: what is wrong" followed by "  fix: what to do".

export interface CheckLine {
  name: string;
  ok: boolean;
  /** What was found (ok) or what is wrong. */
  detail: string;
  /** What to do about a failed check. */
  fix?: string;
}

export const pass = (name: string, detail: string): CheckLine => ({ name, ok: true, detail });
export const fail = (name: string, detail: string, fix: string): CheckLine => ({ name, ok: false, detail, fix });

export function formatLines(lines: readonly CheckLine[]): string {
  return lines.map((l) => `${l.ok ? "✔" : "✘"} ${l.name}: ${l.detail}\n${l.ok || !l.fix ? "" : `  fix: ${l.fix}\n`}`).join("");
}

/** The summary after the lines: how many checks failed. */
export function summaryLine(lines: readonly CheckLine[]): string {
  const failed = lines.filter((l) => !l.ok).length;
  return failed === 0 ? `all ${lines.length} checks passed\n` : `${failed} of ${lines.length} checks failed\n`;
}
