// One pod's part of `collect`: list the agent's records, bring the local copies in line
// (plan.ts), fetch what is new in ranges of at most the agent's answer size, and describe
// the copies for the manifest. A file that changes under the download (rotated between
// the listing and the request: If-Range answers with the whole file, or 404) sends the
// pod back to a fresh listing, a bounded number of times.
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rename, rmdir, stat, truncate } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { RECORDS_PATH, toRecordsListing, type RecordsListing } from "../records/listing.js";
import { PROGRAMS_DIR, recordFileKind } from "../records/names.js";
import { mayBeOutOfOrder, recordTimes, scanTimes } from "../records/times.js";
import { errnoText } from "../errno-text.js";
import { replaceFile } from "../replace-file.js";
import { getChecked, getPatiently, httpError } from "./agent-http.js";
import type { ManifestFile } from "./manifest.js";
import { traceRequestsOf } from "./status-rows.js";
import { planPod, type FetchStep, type PodPlan } from "./plan.js";
import { readPodState, writePodState } from "./state.js";
import type { AgentTarget, AgentTransport } from "./transport.js";

const MAX_LISTINGS = 3;
/** The system calls of writing a copy: their failures are this machine's. */
const FILE_CALLS = new Set(["open", "write", "close", "fsync"]);

export interface PodCollectOptions {
  transport: AgentTransport;
  target: AgentTarget;
  podDir: string;
  since: Date | null;
  /** Called with each chunk written, for the progress bar. */
  onBytes?: (n: number) => void;
}

export interface PodCollectResult {
  /** false when the agent's listing could not be read. */
  reachable: boolean;
  error?: string;
  /** The agent's /status `trace.requests` once the copy is done (ManifestPod's traceRequestsOverAgentLife); absent without the request trace. */
  traceRequests?: Record<string, number>;
  files: ManifestFile[];
  /** Bytes added to the copies in this run (a broken answer's are not kept, so not counted). */
  fetched: number;
  errors: string[];
}

class Changed extends Error {}

/** What a pod's run has come to so far. */
interface PodRun {
  /** The agent answered a listing. */
  listed: boolean;
  fetched: number;
  errors: string[];
}

/**
 * Never throws: the agent's failures and this machine's are the pod's own errors, and
 * anything else is named as an error of collect itself, with what is known of the agent
 * (it answered, or it was not asked yet), never as an agent that did not answer.
 */
export async function collectPod(o: PodCollectOptions): Promise<PodCollectResult> {
  const run: PodRun = { listed: false, fetched: 0, errors: [] };
  let unanswered: string | undefined;
  try {
    unanswered = await rounds(o, run);
  } catch (err) {
    const own = `an error in collect itself: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
    if (run.listed) run.errors.push(own);
    else unanswered = `not asked: ${own}`;
  }
  if (unanswered !== undefined) return unreachable(o.podDir, unanswered, run.fetched);
  const { errors, fetched } = run;
  const traceRequests = await traceRequestsAfter(o, errors);
  const copies = await describeCopies(o.podDir);
  // A copy that cannot be read fails the plan and its description alike: named once.
  errors.push(...copies.errors.filter((e) => !errors.includes(e)));
  return { reachable: true, ...(traceRequests ? { traceRequests } : {}), files: copies.files, fetched, errors };
}

/**
 * The agent's traced requests by outcome, asked once the copy is done (so they count at
 * least the requests whose records were copied); a /status that fails is one of the pod's
 * errors, and the copy stands.
 */
async function traceRequestsAfter(o: PodCollectOptions, errors: string[]): Promise<Record<string, number> | null> {
  try {
    // Only trace.requests is checked: the copy needs nothing else of /status.
    return await getChecked(o.transport, o.target, "/status", traceRequestsOf);
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
    return null;
  }
}

/** The listings and their fetches; the agent's failure to answer the first listing, else undefined. */
async function rounds(o: PodCollectOptions, run: PodRun): Promise<string | undefined> {
  const { errors } = run;
  const tally: Tally = { received: (n) => o.onBytes?.(n), kept: (n) => (run.fetched += n) };
  // Outside the catch below: what fails here is not the agent's answer.
  const listingPath = RECORDS_PATH + (o.since ? `?since=${encodeURIComponent(o.since.toISOString())}` : "");
  for (let round = 1; round <= MAX_LISTINGS; round++) {
    let listing: RecordsListing;
    try {
      listing = await getChecked(o.transport, o.target, listingPath, toRecordsListing);
    } catch (err) {
      const message = (err as Error).message;
      const off = message.includes("HTTP 404") ? " (the agent's records endpoint is off or absent: --records-endpoint)" : "";
      if (!run.listed) return `${message}${off}`;
      errors.push(message);
      break;
    }
    const first = !run.listed;
    run.listed = true;
    let plan: PodPlan;
    try {
      plan = await prepare(o.podDir, listing, o.since !== null, first);
    } catch (err) {
      // The agent answered: what failed is this machine's folder (read-only, full, a folder
      // where a file goes). Nothing is fetched: without its state, the next run could not resume.
      errors.push((err as Error).message);
      break;
    }
    let changed = false;
    for (const step of plan.fetches) {
      try {
        await fetchStep(o, step, listing.maxResponseBytes, tally);
      } catch (err) {
        if (err instanceof Changed) changed = true;
        else errors.push(`${step.name}: ${(err as Error).message}`);
      }
    }
    if (!changed) break;
    if (round === MAX_LISTINGS) errors.push(`files kept changing during ${MAX_LISTINGS} listings; run collect again`);
  }
  return undefined;
}

/** A pod whose agent did not answer (or was not asked: `error` says why): its copies as they are, any unreadable one named after the error. */
export async function unreachable(podDir: string, error: string, fetched = 0): Promise<PodCollectResult> {
  const copies = await describeCopies(podDir);
  return { reachable: false, error, files: copies.files, fetched, errors: [error, ...copies.errors] };
}

/**
 * The pod's folder brought in line with the listing, before any fetch: its copies renamed
 * and the state of what is about to be fetched written. A failure names the path.
 */
async function prepare(podDir: string, listing: RecordsListing, useSince: boolean, first: boolean): Promise<PodPlan> {
  if (first) await makeFolder(podDir);
  const plan = planPod(await readPodState(podDir), await localSizes(podDir), listing, useSince);
  await applyRenames(podDir, plan.renames);
  await writePodState(podDir, plan.state);
  return plan;
}

/** Bytes as they arrive (the progress bar), and bytes of whole answers kept in the copies. */
interface Tally {
  received(n: number): void;
  kept(n: number): void;
}

async function fetchStep(o: PodCollectOptions, step: FetchStep, maxBytes: number, tally: Tally): Promise<void> {
  const path = join(o.podDir, step.name);
  await makeFolder(dirname(path));
  const url = `${RECORDS_PATH}/${step.name.split("/").map(encodeURIComponent).join("/")}`;
  if (step.whole) {
    const res = await getPatiently(o.transport, o.target, url);
    if (res.status !== 200) throw await httpError(res, url);
    if (res.headers.etag !== step.etag) {
      res.body.resume();
      throw new Changed();
    }
    const got = counter(tally.received, maxBytes);
    const chunks: Buffer[] = [];
    try {
      await pipeline(res.body, got, async (body: AsyncIterable<Buffer>) => {
        for await (const chunk of body) chunks.push(chunk);
      });
    } catch (err) {
      throw brokeOff(err, `the answer broke off after ${got.seen} of ${step.to} bytes`);
    }
    // A program comes whole or not at all: written once all of it is here (programs are small).
    await replaceFile(path, Buffer.concat(chunks));
    tally.kept(got.seen);
    return;
  }
  if (!step.append) await local(() => open(path, "w").then((fh) => fh.close()), cannotWrite(path));
  let at = step.from;
  while (at < step.to) {
    const end = Math.min(step.to, at + maxBytes) - 1;
    const res = await getPatiently(o.transport, o.target, url, { range: `bytes=${at}-${end}`, "if-range": step.etag });
    if (res.status === 200 || res.status === 404 || res.status === 416) {
      res.body.resume();
      throw new Changed();
    }
    if (res.status !== 206) throw await httpError(res, url);
    const range = /^bytes (\d+)-(\d+)\/\d+$/.exec(String(res.headers["content-range"] ?? ""));
    if (!range || Number(range[1]) !== at || Number(range[2]) !== end) {
      res.body.destroy();
      throw new Error(`asked for bytes ${at}-${end}, got ${String(res.headers["content-range"])}`);
    }
    const before = await sizeOf(path);
    const received = counter(tally.received, end - at + 1);
    const copy = createWriteStream(path, { flags: "a" });
    // What the copy failed at itself (opening or writing the file), not an error of the
    // answer that the pipeline passed on to it.
    let copyFailed: unknown;
    copy.once("error", (err: NodeJS.ErrnoException) => {
      if (err.syscall !== undefined && FILE_CALLS.has(err.syscall)) copyFailed = err;
    });
    try {
      await pipeline(res.body, received, copy);
    } catch (err) {
      // Keep only whole answers' bytes, so the copy never holds a gap.
      await truncate(path, before).catch(() => undefined);
      // The copy's own failure is this machine's, not the answer's.
      if (copyFailed !== undefined) throw new Error(cannotWrite(path)(copyFailed));
      throw brokeOff(err, `bytes ${at}-${end}: the answer broke off after ${received.seen} bytes`);
    }
    const got = (await sizeOf(path)) - before;
    if (got !== end - at + 1) {
      await truncate(path, before);
      throw new Error(`bytes ${at}-${end}: the answer ended after ${got} bytes`);
    }
    tally.kept(got);
    at = end + 1;
  }
}

class TooLong extends Error {}

/** Counts what passes (`seen`), and refuses more than `limit` bytes (an agent sends no more than asked). */
function counter(count: (n: number) => void, limit: number): Transform & { seen: number } {
  const t = Object.assign(
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (t.seen + chunk.length > limit) return done(new TooLong(`the answer is longer than the ${limit} bytes asked for`));
        t.seen += chunk.length;
        count(chunk.length);
        done(null, chunk);
      },
    }),
    { seen: 0 },
  );
  return t;
}

/** A download that failed on the way: how far it got (the network's word alone, "aborted", says too little). */
function brokeOff(err: unknown, where: string): Error {
  if (err instanceof TooLong) return err;
  return new Error(`${where} (${(err as Error).message})`);
}

/** Sizes of the local copies (top-level NDJSON files and programs/). */
async function localSizes(podDir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of await localNames(podDir)) {
    const path = join(podDir, name);
    try {
      out.set(name, (await stat(path)).size);
    } catch (err) {
      throw new Error(cannotRead(path, err));
    }
  }
  return out;
}

async function localNames(podDir: string): Promise<string[]> {
  const names: string[] = [];
  for (const e of await readdir(podDir, { withFileTypes: true }).catch(() => [])) {
    if (e.isFile() && recordFileKind(e.name) === "ndjson") names.push(e.name);
  }
  for (const e of await readdir(join(podDir, PROGRAMS_DIR), { withFileTypes: true }).catch(() => [])) {
    const name = `${PROGRAMS_DIR}/${e.name}`;
    if (e.isFile() && recordFileKind(name) === "program") names.push(name);
  }
  return names.sort();
}

/**
 * Renames that may swap names, as one step: every copy first moves into a folder of this
 * run's own (mkdtemp: never one an earlier run left, whose copy a rename would replace),
 * then to its new name. A failure, named with the copy's own names, puts every copy back
 * under its old name, which the state on disk still describes, and the next run tries
 * again; a copy that cannot be put back is named where it is.
 */
async function applyRenames(podDir: string, renames: readonly [string, string][]): Promise<void> {
  if (renames.length === 0) return;
  const tmpDir = await local(() => mkdtemp(join(podDir, ".rename-")), (err) => `cannot create folder ${join(podDir, ".rename-XXXXXX")}: ${errnoText(err, "directory")}`);
  const copies = renames.map(([from, to], i) => ({ from: join(podDir, from), to: join(podDir, to), tmp: join(tmpDir, String(i)), at: join(podDir, from) }));
  const move = async (c: (typeof copies)[number], target: string) => {
    await rename(c.at, target);
    c.at = target;
  };
  let failed: string | undefined;
  for (const [source, target] of [["from", "tmp"], ["tmp", "to"]] as const) {
    for (const c of copies) {
      if (c.at !== c[source]) continue;
      try {
        await move(c, c[target]);
      } catch (err) {
        failed = `cannot rename ${c.from} to ${c.to}: ${errnoText(err)}`;
        break;
      }
    }
    if (failed !== undefined) break;
  }
  if (failed === undefined) {
    await rmdir(tmpDir).catch(() => undefined);
    return;
  }
  // Back through the folder, so that no copy takes an old name before its holder left it.
  for (const c of copies) if (c.at === c.to) await move(c, c.tmp).catch(() => undefined);
  const taken = new Set(copies.filter((c) => c.at === c.to).map((c) => c.to));
  for (const c of copies) if (c.at === c.tmp && !taken.has(c.from)) await move(c, c.from).catch(() => undefined);
  const stranded = copies.filter((c) => c.at !== c.from);
  if (stranded.length === 0) await rmdir(tmpDir).catch(() => undefined);
  throw new Error([failed, ...stranded.map((c) => `the copy of ${c.from} is left at ${c.at}`)].join("; "));
}

/** Runs a step on this machine's files; its failure is `words(err)`, not Node's message. */
async function local<T>(step: () => Promise<T>, words: (err: unknown) => string): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw new Error(words(err));
  }
}

/** A folder for a copy (programs/), made as the pod's own is, named in words when it cannot be. */
function makeFolder(dir: string): Promise<unknown> {
  return local(() => mkdir(dir, { recursive: true }), (err) => `cannot create folder ${dir}: ${(err as NodeJS.ErrnoException).code === "EEXIST" ? "a file of that name is in the way" : errnoText(err, "directory")}`);
}

function sizeOf(path: string): Promise<number> {
  return local(async () => (await stat(path)).size, (err) => cannotRead(path, err));
}

function cannotWrite(path: string): (err: unknown) => string {
  return (err) => `cannot write ${path}: ${errnoText(err, "directory")}`;
}

function cannotRead(path: string, err: unknown): string {
  return `cannot read ${path}: ${errnoText(err, "file")}`;
}

/**
 * The manifest's view of the pod's directory: every copy with its size and record times.
 * A copy that cannot be read is left out and named in `errors`. The times of a copy of
 * request records are read from all of it, so exact however far out of time order the
 * agent wrote them (the 5 s window of the agent's own reads does not hold for a request
 * held up to 120 s), and kept in the pod's state: a copy only appended to since is read
 * on from where that read ended. Map records are written in time order: their ends' own.
 */
export async function describeCopies(podDir: string): Promise<{ files: ManifestFile[]; errors: string[] }> {
  const files: ManifestFile[] = [];
  const errors: string[] = [];
  const state = await readPodState(podDir);
  let noted = false;
  for (const name of await localNames(podDir)) {
    const path = join(podDir, name);
    try {
      const fh = await open(path, "r");
      try {
        const { size } = await fh.stat();
        if (recordFileKind(name) !== "ndjson") {
          files.push({ name, bytes: size, first: null, last: null });
          continue;
        }
        const entry = state.files[name];
        // A copy shorter than what was read of it was not only appended to: read afresh.
        const known = entry?.times && entry.times.end <= size ? entry.times : undefined;
        if (!known && !(await mayBeOutOfOrder(fh, size))) {
          files.push({ name, bytes: size, ...(await recordTimes(fh, size)) });
          continue;
        }
        const times = await scanTimes(fh, known?.end ?? 0, size, known);
        files.push({ name, bytes: size, first: times.first, last: times.last });
        if (entry && times.end !== known?.end) {
          entry.times = times;
          noted = true;
        }
      } finally {
        await fh.close();
      }
    } catch (err) {
      errors.push(cannotRead(path, err));
    }
  }
  // Only a speed-up for the next run: a state that cannot be written was named when the run wrote it.
  if (noted) await writePodState(podDir, state).catch(() => undefined);
  return { files, errors };
}
