// "1 file", "2 files": a count and its noun, in messages and progress lines.

/** `n` and the noun, plural unless `n` is 1 (nouns that take an s). */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
