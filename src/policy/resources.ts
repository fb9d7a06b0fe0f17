// A profile's resources merged into the proxy container so that the API server
// accepts the pod (DESIGN.md, "Resources, quantities and the pods the API
// server accepts"): the profile's quantities win per resource and are written
// in canonical form; the container's other quantities stay. A merge that would
// break the API server's rules (requests above limits, or unequal for
// resources that cannot be overcommitted) is refused with the reason. Pure.
import { copyOf } from "../copy.js";
import type { ResourceRequirements } from "./types.js";
import { canonicalResourceQuantity, compareQuantities, parseQuantity, QuantityError, roundUpToMilli, type Quantity } from "../quantity.js";

export type ResourceMerge = { ok: true; resources: Record<string, unknown> } | { ok: false; problem: string };

/** Kubernetes' IsOvercommitAllowed: native resources (no domain, or a kubernetes.io one) except huge pages. */
export function overcommitAllowed(resource: string): boolean {
  const native = !resource.includes("/") || resource.includes("kubernetes.io/");
  return native && !resource.startsWith("hugepages-");
}

type Quantities = Record<string, unknown>;

function quantitiesOf(v: unknown): Quantities | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Quantities) : undefined;
}

/** Spelling → quantity (undefined: not one), for the few spellings a cluster's profiles and proxies use (cleared past 1,000). */
const parsed = new Map<string, Quantity | undefined>();

/** The API server reads JSON numbers as quantities too (inject reads raw manifests), and rounds resource lists up to 1m. */
function read(v: unknown): Quantity | undefined {
  if (typeof v !== "string" && typeof v !== "number") return undefined;
  const spelling = String(v);
  const hit = parsed.get(spelling);
  if (hit !== undefined || parsed.has(spelling)) return hit;
  let q: Quantity | undefined;
  try {
    q = roundUpToMilli(parseQuantity(spelling.trim()));
  } catch (e) {
    if (!(e instanceof QuantityError)) throw e;
  }
  if (parsed.size >= 1_000) parsed.clear();
  parsed.set(spelling, q);
  return q;
}

/** One resource's request against its limit, as the API server validates them; a sentence when they break its rule. */
export function requestLimitProblem(resource: string, request: unknown, limit: unknown): string | undefined {
  if (request === undefined) return undefined;
  const req = read(request);
  if (!req) return `requests.${resource} ${JSON.stringify(request)} is not a quantity`;
  if (req.mantissa < 0n) return `requests.${resource} ${String(request)} is negative`;
  if (limit === undefined) return overcommitAllowed(resource) ? undefined : `requests.${resource} ${String(request)} needs an equal limit (${resource} cannot be overcommitted)`;
  const lim = read(limit);
  if (!lim) return `limits.${resource} ${JSON.stringify(limit)} is not a quantity`;
  const cmp = compareQuantities(req, lim);
  if (!overcommitAllowed(resource) && cmp !== 0) return `requests.${resource} ${String(request)} must equal limits.${resource} ${String(limit)} (${resource} cannot be overcommitted)`;
  if (cmp > 0) return `requests.${resource} ${String(request)} exceeds limits.${resource} ${String(limit)}`;
  return undefined;
}

/**
 * The container's resources with the profile's merged in, or why no valid merge
 * exists. Merging (rather than replacing) keeps a re-run on the stored pod a
 * no-op: the API server adds requests equal to limits where a container sets
 * none. Only the resources the profile names are checked: the others are the
 * container's own.
 */
export function mergeResources(container: string, original: Record<string, unknown> | undefined, profile: ResourceRequirements): ResourceMerge {
  const canonical = canonicalProfile(profile);
  if (!canonical.ok) return canonical;
  const out: Record<string, unknown> = copyOf(original);
  for (const key of ["limits", "requests"] as const) {
    const wanted = canonical[key];
    if (wanted) out[key] = Object.assign({}, quantitiesOf(original?.[key]), wanted);
  }
  const requests = quantitiesOf(out.requests) ?? {};
  const limits = quantitiesOf(out.limits) ?? {};
  for (const resource of canonical.touched) {
    const problem = requestLimitProblem(resource, requests[resource], limits[resource]);
    if (problem) return { ok: false, problem: `container ${container}: ${problem} ${provenance(resource, profile)}` };
  }
  return { ok: true, resources: out };
}

/** A profile's quantities in the spelling hookpoint writes, and the resources it names; or the first that is not a quantity. */
type CanonicalProfile =
  | { ok: true; limits?: Quantities; requests?: Quantities; touched: ReadonlySet<string> }
  | { ok: false; problem: string };

/** Per profile object, which lives as long as its snapshot: mergeResources runs for every review. */
const canonicalProfiles = new WeakMap<ResourceRequirements, CanonicalProfile>();

function canonicalProfile(profile: ResourceRequirements): CanonicalProfile {
  let c = canonicalProfiles.get(profile);
  if (!c) {
    c = canonicalize(profile);
    canonicalProfiles.set(profile, c);
  }
  return c;
}

function canonicalize(profile: ResourceRequirements): CanonicalProfile {
  const out: { limits?: Quantities; requests?: Quantities } = {};
  const touched = new Set<string>();
  for (const key of ["limits", "requests"] as const) {
    const wanted = profile[key];
    if (!wanted) continue;
    const canonical: Quantities = {};
    for (const [resource, value] of Object.entries(wanted)) {
      try {
        canonical[resource] = canonicalResourceQuantity(value);
      } catch (e) {
        if (!(e instanceof QuantityError)) throw e;
        return { ok: false, problem: `the profile's ${key}.${resource} ${JSON.stringify(value)} is not a quantity (${e.message})` };
      }
      touched.add(resource);
    }
    out[key] = canonical;
  }
  return Object.assign({ ok: true as const }, out, { touched });
}

/** Which side came from the profile, for the warning. */
function provenance(resource: string, profile: ResourceRequirements): string {
  const sides = (["requests", "limits"] as const).filter((k) => profile[k]?.[resource] !== undefined);
  if (sides.length === 2) return "(both from the profile)";
  const other = sides[0] === "limits" ? "requests" : "limits";
  return `after merging the profile's ${sides[0]}.${resource} with the container's ${other}.${resource}; set both in the profile`;
}
