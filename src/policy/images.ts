// allowedImages patterns: `*` matches any run of characters (including `/` and `:`),
// everything else is literal. "registry.example.com/hookpoint/*" allows any image
// in that repository path; "*" allows all images.
import { globToRegExp } from "../glob.js";

const cache = new Map<string, RegExp>();

export function imagePatternToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    re = globToRegExp(pattern);
    cache.set(pattern, re);
  }
  return re;
}

export function imageAllowed(image: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => imagePatternToRegExp(p).test(image));
}

/** Why a pattern can never match a valid image reference, or undefined if it can. */
export function imagePatternProblem(pattern: string): string | undefined {
  if (pattern.trim() === "") return "is empty";
  if (/\s/.test(pattern)) return "contains white space, which no image reference has";
  if (/[A-Z]/.test(repositoryPath(pattern))) return "has upper-case letters in the repository path, which no image reference has";
  if (/[^A-Za-z0-9._\-/:@*]/.test(pattern)) return "contains characters that no image reference has";
  if (pattern.startsWith("/") || pattern.endsWith("/") || pattern.includes("//"))
    return "has an empty path component";
  return undefined;
}

/** The repository path of a reference: without the registry host, the tag and the digest. */
function repositoryPath(ref: string): string {
  const parts = ref.split("/");
  const first = parts[0] ?? "";
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")) parts.shift();
  return parts.join("/").replace(/@.*$/, "").replace(/:[^/]*$/, "");
}
