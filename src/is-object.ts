// A plain object (not null, not an array): shared by modules that must not pull in
// each other's dependencies (the admission core has no yaml import).
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
