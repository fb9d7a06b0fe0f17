// What one `collect` run does in a pod's directory, from what the last run left (state and
// local copies) and the agent's listing. Pure.
//
// - A local copy whose ETag the agent still lists is the same file, maybe rotated to a new
//   name: it is renamed to that name and only its new bytes are fetched.
// - A copy whose file the agent no longer has (rotated away and deleted) is kept, renamed
//   past the agent's oldest rotated name of the same base so names stay unique.
// - A file without a copy is fetched from the start, or from its first record at or
//   after --since (a file with no such record is not fetched).
// - A program is fetched whole whenever its content changed.
import { isResumableEtag, type RecordFileInfo, type RecordsListing } from "../records/listing.js";
import { recordFileKind, rotatedName, rotationOf } from "../records/names.js";
import type { FileState, PodState } from "./state.js";

export interface FetchStep {
  name: string;
  etag: string;
  /** Remote byte range [from, to). */
  from: number;
  to: number;
  /** Append to the local copy (a resume) or write it afresh. */
  append: boolean;
  /** A program: one plain GET, no ranges. */
  whole: boolean;
}

export interface PodPlan {
  /** Local renames, to be applied as one step (through temporary names). */
  renames: [from: string, to: string][];
  fetches: FetchStep[];
  /** State once the renames are done, with an entry for every file about to be fetched. */
  state: PodState;
}

/** `local`: every local copy's size by name (relative to the pod's directory). */
export function planPod(state: PodState, local: ReadonlyMap<string, number>, listing: RecordsListing, useSince: boolean): PodPlan {
  // A rotation while the agent lists its files can show one file under two names (seen
  // as x.ndjson, then again as x.ndjson.1 once renamed): it is where it went last, the
  // higher index. The name it left holds a file the listing did not see; the next run
  // gets it. Fetching both would keep the file twice.
  const byEtag = new Map<string, RecordFileInfo>();
  for (const f of listing.files) {
    if (recordFileKind(f.name) !== "ndjson" || !isResumableEtag(f.etag)) continue;
    const seen = byEtag.get(f.etag);
    if (!seen || rotationOf(f.name)!.index > rotationOf(seen.name)!.index) byEtag.set(f.etag, f);
  }

  const next: Record<string, FileState> = {};
  const renames: [string, string][] = [];
  const claimed = new Map<string, number>(); // remote name → size of the local copy resumed into it
  const gone: string[] = [];
  for (const name of Object.keys(state.files).sort()) {
    const st = state.files[name]!;
    const size = local.get(name);
    const kind = recordFileKind(name);
    if (size === undefined || !kind) continue; // the copy was deleted: forget it
    if (kind === "program") {
      next[name] = st;
      continue;
    }
    const r = isResumableEtag(st.etag) ? byEtag.get(st.etag) : undefined;
    if (r && !claimed.has(r.name) && st.start + size <= r.bytes) {
      claimed.set(r.name, size);
      next[r.name] = st;
      if (r.name !== name) renames.push([name, r.name]);
    } else gone.push(name);
  }

  // Copies of deleted files move past every index the agent uses for their base.
  const remoteIndex = new Map<string, number>();
  for (const f of listing.files) {
    const rot = rotationOf(f.name);
    if (rot) remoteIndex.set(rot.base, Math.max(remoteIndex.get(rot.base) ?? -1, rot.index));
  }
  const byIndex = (a: string, b: string) => (rotationOf(a)?.index ?? 0) - (rotationOf(b)?.index ?? 0);
  const nextIndex = new Map<string, number>();
  for (const name of gone.sort(byIndex)) {
    const rot = rotationOf(name)!;
    const top = remoteIndex.get(rot.base);
    let to = name;
    if (top !== undefined) {
      const index = nextIndex.get(rot.base) ?? top + 1;
      nextIndex.set(rot.base, index + 1);
      to = rotatedName(rot.base, index);
    }
    next[to] = state.files[name]!;
    if (to !== name) renames.push([name, to]);
  }

  const fetches: FetchStep[] = [];
  for (const r of listing.files) {
    const kind = recordFileKind(r.name);
    if (kind === "program") {
      const st = state.files[r.name];
      if (st && st.etag === r.etag && local.get(r.name) === r.bytes) continue;
      next[r.name] = { etag: r.etag, start: 0 };
      fetches.push({ name: r.name, etag: r.etag, from: 0, to: r.bytes, append: false, whole: true });
      continue;
    }
    if (kind !== "ndjson") continue;
    if (isResumableEtag(r.etag) && byEtag.get(r.etag) !== r) continue; // listed again under its new name
    const have = claimed.get(r.name);
    if (have !== undefined) {
      const from = next[r.name]!.start + have;
      if (from < r.bytes) fetches.push({ name: r.name, etag: r.etag, from, to: r.bytes, append: true, whole: false });
      continue;
    }
    const from = useSince ? Math.min(r.offset ?? 0, r.bytes) : 0;
    if (useSince && from >= r.bytes) continue; // nothing at or after --since
    next[r.name] = { etag: r.etag, start: from };
    fetches.push({ name: r.name, etag: r.etag, from, to: r.bytes, append: false, whole: false });
  }
  return { renames, fetches, state: { version: 1, files: sortedKeys(next) } };
}

function sortedKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
