import { describe, expect, it } from "vitest";
import { planPod } from "../../../src/collect/plan.js";
import type { PodState } from "../../../src/collect/state.js";
import type { RecordFileInfo, RecordsListing } from "../../../src/records/listing.js";

const listing = (files: Partial<RecordFileInfo>[]): RecordsListing => ({
  version: 1,
  maxResponseBytes: 1000,
  since: null,
  files: files.map((f) => ({ name: "x", bytes: 0, first: null, last: null, etag: '"n-1-aa"', ...f })),
});
const state = (files: PodState["files"]): PodState => ({ version: 1, files });

describe("planPod", () => {
  it("fetches everything the first time", () => {
    const plan = planPod(state({}), new Map(), listing([{ name: "a.ndjson", bytes: 500, etag: '"n-1-aa"' }, { name: "programs/a.bt", bytes: 20, etag: '"p-1-20"' }]), false);
    expect(plan).toEqual({
      renames: [],
      fetches: [
        { name: "a.ndjson", etag: '"n-1-aa"', from: 0, to: 500, append: false, whole: false },
        { name: "programs/a.bt", etag: '"p-1-20"', from: 0, to: 20, append: false, whole: true },
      ],
      state: state({ "a.ndjson": { etag: '"n-1-aa"', start: 0 }, "programs/a.bt": { etag: '"p-1-20"', start: 0 } }),
    });
  });

  it("resumes the same file, follows it to its rotated name, and keeps copies of deleted files past the agent's names", () => {
    // Last run: a.ndjson (E2, 300 of its bytes) and a.ndjson.1 (E1, complete, 900). Since then the
    // agent rotated twice with keep=1: E2 is now a.ndjson.1, E1 was deleted, E3 is the live file.
    const before = state({ "a.ndjson": { etag: '"n-2-bb"', start: 0 }, "a.ndjson.1": { etag: '"n-1-aa"', start: 0 }, "programs/a.bt": { etag: '"p-1-20"', start: 0 } });
    const local = new Map([
      ["a.ndjson", 300],
      ["a.ndjson.1", 900],
      ["programs/a.bt", 20],
    ]);
    const now = listing([
      { name: "a.ndjson", bytes: 50, etag: '"n-3-cc"' },
      { name: "a.ndjson.1", bytes: 1000, etag: '"n-2-bb"' },
      { name: "programs/a.bt", bytes: 20, etag: '"p-1-20"' },
    ]);
    expect(planPod(before, local, now, false)).toEqual({
      renames: [
        ["a.ndjson", "a.ndjson.1"],
        ["a.ndjson.1", "a.ndjson.2"],
      ],
      fetches: [
        { name: "a.ndjson", etag: '"n-3-cc"', from: 0, to: 50, append: false, whole: false },
        { name: "a.ndjson.1", etag: '"n-2-bb"', from: 300, to: 1000, append: true, whole: false },
      ],
      state: state({
        "a.ndjson": { etag: '"n-3-cc"', start: 0 },
        "a.ndjson.1": { etag: '"n-2-bb"', start: 0 },
        "a.ndjson.2": { etag: '"n-1-aa"', start: 0 },
        "programs/a.bt": { etag: '"p-1-20"', start: 0 },
      }),
    });
  });

  it("fetches afresh what cannot be a prefix: a copy longer than the file, an inode-only ETag, a changed program", () => {
    const before = state({ "a.ndjson": { etag: '"n-2-bb"', start: 0 }, "b.ndjson": { etag: '"n-7-"', start: 0 }, "programs/a.bt": { etag: '"p-1-20"', start: 0 } });
    const local = new Map([
      ["a.ndjson", 600],
      ["b.ndjson", 10],
      ["programs/a.bt", 20],
    ]);
    const now = listing([
      { name: "a.ndjson", bytes: 500, etag: '"n-2-bb"' },
      { name: "b.ndjson", bytes: 300, etag: '"n-7-dd"' },
      { name: "programs/a.bt", bytes: 25, etag: '"p-2-25"' },
    ]);
    const plan = planPod(before, local, now, false);
    expect(plan.renames).toEqual([
      ["a.ndjson", "a.ndjson.1"],
      ["b.ndjson", "b.ndjson.1"],
    ]);
    expect(plan.fetches.map((f) => [f.name, f.from, f.to, f.append])).toEqual([
      ["a.ndjson", 0, 500, false],
      ["b.ndjson", 0, 300, false],
      ["programs/a.bt", 0, 25, false],
    ]);
  });

  it("with --since, starts a new file at its first record from then on and skips files without one", () => {
    const now = { ...listing([{ name: "a.ndjson", bytes: 500, offset: 120 }, { name: "a.ndjson.1", bytes: 900, etag: '"n-9-ee"', offset: 900 }]), since: "2026-03-01T10:00:00.000Z" };
    const plan = planPod(state({}), new Map(), now, true);
    expect(plan.fetches.map((f) => [f.name, f.from, f.to])).toEqual([["a.ndjson", 120, 500]]);
    expect(plan.state.files).toEqual({ "a.ndjson": { etag: '"n-1-aa"', start: 120 } });
    // The next run resumes after the 380 bytes it has, whatever --since says now.
    const next = planPod(plan.state, new Map([["a.ndjson", 380]]), { ...now, files: [{ ...now.files[0]!, bytes: 700, offset: 400 }] }, true);
    expect(next.fetches.map((f) => [f.name, f.from, f.to, f.append])).toEqual([["a.ndjson", 500, 700, true]]);
  });

  it("takes a file the listing shows twice (rotated while listed) under its new name only, so it is not kept twice", () => {
    // The agent listed a.ndjson (E), rotated it to a.ndjson.1, then listed a.ndjson.1 (E again).
    const racing = listing([
      { name: "a.ndjson", bytes: 300, etag: '"n-1-aa"' },
      { name: "a.ndjson.1", bytes: 500, etag: '"n-1-aa"' },
      { name: "a.ndjson.2", bytes: 900, etag: '"n-2-bb"' },
    ]);
    const fresh = planPod(state({}), new Map(), racing, false);
    expect(fresh.fetches.map((f) => [f.name, f.from, f.to, f.append])).toEqual([
      ["a.ndjson.1", 0, 500, false],
      ["a.ndjson.2", 0, 900, false],
    ]);
    expect(fresh.state.files).toEqual({ "a.ndjson.1": { etag: '"n-1-aa"', start: 0 }, "a.ndjson.2": { etag: '"n-2-bb"', start: 0 } });
    // With a copy of E from the last run: it follows E to a.ndjson.1 and resumes there.
    const resumed = planPod(state({ "a.ndjson": { etag: '"n-1-aa"', start: 0 } }), new Map([["a.ndjson", 100]]), racing, false);
    expect(resumed.renames).toEqual([["a.ndjson", "a.ndjson.1"]]);
    expect(resumed.fetches.map((f) => [f.name, f.from, f.to, f.append])).toEqual([
      ["a.ndjson.1", 100, 500, true],
      ["a.ndjson.2", 0, 900, false],
    ]);
  });

  it("keeps counting kept copies past .999, so a long collection neither forgets nor overwrites them", () => {
    // 996 copies of deleted files, .4 to .999, and the agent's own four: at a rotation every
    // 12 s (a busy envoy-request-trace) a collect every minute gets there in about 3 hours.
    const kept = Object.fromEntries(Array.from({ length: 996 }, (_, i) => [`a.ndjson.${i + 4}`, { etag: `"n-k${i}-aa"`, start: 0 }]));
    const agent = (ids: string[]) => listing(ids.map((id, i) => ({ name: i === 0 ? "a.ndjson" : `a.ndjson.${i}`, bytes: 10, etag: `"n-${id}-aa"` })));
    const before = state({ ...kept, "a.ndjson": { etag: '"n-13-aa"', start: 0 }, "a.ndjson.1": { etag: '"n-12-aa"', start: 0 }, "a.ndjson.2": { etag: '"n-11-aa"', start: 0 }, "a.ndjson.3": { etag: '"n-10-aa"', start: 0 } });
    const sizes = (s: PodState) => new Map(Object.keys(s.files).map((n) => [n, 10]));
    // Two rotations per run: two more deleted files to keep each time.
    const first = planPod(before, sizes(before), agent(["15", "14", "13", "12"]), false);
    const second = planPod(first.state, sizes(first.state), agent(["17", "16", "15", "14"]), false);
    const etags = (s: PodState) => new Set(Object.values(s.files).map((f) => f.etag));
    expect(etags(second.state)).toEqual(new Set([...etags(before), ...["15", "14", "16", "17"].map((id) => `"n-${id}-aa"`)]));
    expect(Object.keys(second.state.files)).toHaveLength(1004);
    expect(second.state.files["a.ndjson.1003"]).toEqual({ etag: '"n-k995-aa"', start: 0 });
    // No rename lands on a name another copy keeps.
    const sources = new Set(second.renames.map(([from]) => from));
    for (const [, to] of second.renames) expect(!sizes(first.state).has(to) || sources.has(to)).toBe(true);
  });

  it("forgets copies the user deleted", () => {
    const plan = planPod(state({ "a.ndjson": { etag: '"n-1-aa"', start: 0 } }), new Map(), listing([{ name: "a.ndjson", bytes: 10 }]), false);
    expect(plan.fetches.map((f) => [f.name, f.from, f.append])).toEqual([["a.ndjson", 0, false]]);
  });
});
