// Glob patterns where `*` matches any run of characters and everything else is literal
// (bpftrace probe globs, allowedImages patterns).

/** An anchored RegExp for `glob`; pass "s" so `*` also matches newlines. */
export function globToRegExp(glob: string, flags = ""): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`, flags);
}
