// `GET /records` (listing) and `GET /records/<name>` (download, HTTP Range with If-Range)
// on the agent's metrics port. Bounded so that a collector can never starve the proxy it
// shares the container with: at most `concurrency` requests at once (429 beyond), at most
// `maxResponseBytes` per answer (an open-ended range is cut there, anything else larger
// gets 413), and a connection idle for `idleTimeoutMs` is closed.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import parseRange from "range-parser";
import { RECORDS_PATH, type RecordFileInfo, type RecordsListing } from "../../records/listing.js";
import { recordTimes, sinceOffset, type WrittenOrderOf } from "../../records/times.js";
import { fileEtag, listOutputNames, openOutputFile, type OpenedFile } from "./files.js";

/** Refusals are JSON whatever file was asked for (a JSON body under a text type fails Fastify's serializer). */
const JSON_TYPE = "application/json; charset=utf-8";

export interface RecordsOptions {
  dir: string;
  maxResponseBytes: number;
  concurrency: number;
  idleTimeoutMs: number;
  /** Called with every chunk's size as it is sent (the agent's metrics count them). */
  onServed?: (bytes: number) => void;
  /** Called with the status code of every records request. */
  onAnswered?: (code: number) => void;
  /**
   * How far out of time order the running agent wrote the file with this inode (null: not
   * its file): listings take its late records on their own and read the rest with the
   * window it saw when larger than the records' own (src/records/times.ts), so `first`,
   * `last` and `offset` are exact.
   */
  writtenOrder?: (ino: number) => WrittenOrderOf | null;
}

const OPEN_ENDED = /^bytes=\s*\d+\s*-\s*$/;

export function registerRecordsRoutes(app: FastifyInstance, o: RecordsOptions): void {
  let active = 0;
  const admit = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    // Returning the reply ends the request here: the handler does no work for it.
    if (active >= o.concurrency) return reply.code(429).header("retry-after", "1").send({ error: `at most ${o.concurrency} records requests at a time; retry later` });
    active += 1;
    let released = false;
    reply.raw.once("close", () => {
      if (!released) active -= 1;
      released = true;
    });
    reply.raw.setTimeout(o.idleTimeoutMs, () => req.raw.socket.destroy());
    return undefined;
  };
  const answered = async (_req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    o.onAnswered?.(reply.statusCode);
  };

  app.get(RECORDS_PATH, { onRequest: admit, onResponse: answered }, async (req, reply) => {
    const raw = (req.query as Record<string, unknown>).since;
    let sinceMs: number | null = null;
    if (raw !== undefined) {
      sinceMs = typeof raw === "string" ? Date.parse(raw) : NaN;
      if (!Number.isFinite(sinceMs)) return reply.code(400).send({ error: `since: expected an ISO 8601 time, got ${JSON.stringify(raw)}` });
    }
    const files: RecordFileInfo[] = [];
    for (const name of await listOutputNames(o.dir)) {
      const f = await openOutputFile(o.dir, name);
      if (!f) continue; // gone (rotated away) since it was listed
      try {
        files.push(await describe(f, sinceMs, o.maxResponseBytes, o.writtenOrder));
      } finally {
        await f.fh.close();
      }
    }
    const listing: RecordsListing = { version: 1, maxResponseBytes: o.maxResponseBytes, since: sinceMs === null ? null : new Date(sinceMs).toISOString(), files };
    return listing;
  });

  app.get(`${RECORDS_PATH}/*`, { onRequest: admit, onResponse: answered, exposeHeadRoute: false }, async (req, reply) => {
    const name = (req.params as Record<string, string>)["*"] ?? "";
    const f = await openOutputFile(o.dir, name);
    if (!f) return reply.code(404).send({ error: `no record file ${JSON.stringify(name)}` });
    let handedOver = false;
    try {
      const etag = await fileEtag(f, o.maxResponseBytes);
      reply.header("etag", etag).header("accept-ranges", "bytes").header("cache-control", "no-cache");
      reply.type(f.kind === "program" ? "text/plain; charset=utf-8" : "application/x-ndjson");
      let start = 0;
      let end = f.size - 1;
      let partial = false;
      let openEnded = false;
      const range = req.headers.range;
      const ifRange = req.headers["if-range"];
      // If-Range: the range holds only for the same file; otherwise the whole file is the answer.
      if (range !== undefined && (ifRange === undefined || ifRange === etag)) {
        const r = parseRange(f.size, range, { combine: true });
        if (r === -1) return reply.code(416).type(JSON_TYPE).header("content-range", `bytes */${f.size}`).send({ error: `range ${range} is outside the file's ${f.size} bytes` });
        if (r !== -2 && r.type === "bytes" && r.length === 1 && r[0]) {
          ({ start, end } = r[0]);
          partial = true;
          openEnded = OPEN_ENDED.test(range);
        }
      }
      if (end - start + 1 > o.maxResponseBytes) {
        if (!openEnded) {
          return reply.code(413).type(JSON_TYPE).send({ error: `the answer would be ${end - start + 1} bytes, more than ${o.maxResponseBytes}: ask for an open-ended range (Range: bytes=N-) or one of at most ${o.maxResponseBytes} bytes`, maxResponseBytes: o.maxResponseBytes });
        }
        end = start + o.maxResponseBytes - 1;
      }
      reply.code(partial ? 206 : 200);
      if (partial) reply.header("content-range", `bytes ${start}-${end}/${f.size}`);
      const length = Math.max(0, end - start + 1);
      reply.header("content-length", String(length));
      if (length === 0) return reply.send("");
      const stream = f.fh.createReadStream({ start, end, highWaterMark: 64 * 1024, autoClose: true });
      handedOver = true;
      if (o.onServed) stream.on("data", (chunk) => o.onServed!((chunk as Buffer).length));
      return reply.send(stream);
    } finally {
      if (!handedOver) await f.fh.close();
    }
  });
}

async function describe(f: OpenedFile, sinceMs: number | null, maxProgramBytes: number, writtenOrder: RecordsOptions["writtenOrder"]): Promise<RecordFileInfo> {
  const etag = await fileEtag(f, maxProgramBytes);
  if (f.kind === "program") return { name: f.name, bytes: f.size, first: null, last: null, etag, ...(sinceMs === null ? {} : { offset: 0 }) };
  // Taken after the file's size: it covers every record up to there (it only grows; the
  // readers leave out late records past that size).
  const written = writtenOrder?.(f.ino);
  const { first, last } = await recordTimes(f.fh, f.size, written);
  const info: RecordFileInfo = { name: f.name, bytes: f.size, first, last, etag };
  if (sinceMs !== null) info.offset = await sinceOffset(f.fh, f.size, sinceMs, written);
  return info;
}
