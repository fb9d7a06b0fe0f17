// Plain aligned columns, as kubectl prints them: two spaces apart, the last one unpadded.
export function renderTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ") + "\n";
  return line(header) + body.map(line).join("");
}
