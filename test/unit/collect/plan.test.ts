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

  it("forgets copies the user deleted", () => {
    const plan = planPod(state({ "a.ndjson": { etag: '"n-1-aa"', start: 0 } }), new Map(), listing([{ name: "a.ndjson", bytes: 10 }]), false);
    expect(plan.fetches.map((f) => [f.name, f.from, f.append])).toEqual([["a.ndjson", 0, false]]);
  });
});
