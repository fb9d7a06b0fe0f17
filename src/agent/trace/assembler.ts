// Request records from envoy-request-trace's event lines. Pure: events and the wall
// clock come in, finished records and counters go out; no I/O.
//
// bpftrace reads its output per CPU, so the lines of one request can arrive out of order:
// a request is written once it is complete and no event of it came for `graceMs`. Events
// are joined by the request's id (thread id and sequence number) and, for writes, by
// socket fd and CLOCK_MONOTONIC time; nothing is guessed: a request that cannot be
// completed is dropped and counted, as are events that belong to no request.
import { REQUEST_PHASES, toRequestRecord, type FilterSubPhase, type RequestPhase, type RequestPhaseName, type RequestRecord, type SocketEnds } from "../../records/request-record.js";
import { formatAddress } from "./addresses.js";
import { hex, num, unescapeR, type EventLine } from "./events.js";
import { parseRequestHead, type RequestHead } from "./http-head.js";

/** The fields the assembler reads, per event tag (checked against the script header). */
export const NEEDED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Q: ["tid", "seq", "ts", "comm", "fd", "proto", "read_start", "read_end", "codec_start", "round", "stream", "peer", "peer6a", "peer6b", "local", "local6a", "local6b", "capture"],
  K: ["tid", "seq", "part", "bytes"],
  R: ["tid", "seq", "ts", "round"],
  C: ["tid", "seq", "ts", "fd", "round"],
  P: ["tid", "seq", "ts", "fd", "round", "end", "last", "peer", "peer6a", "peer6b", "local", "local6a", "local6b"],
  I: ["tid", "seq", "ts", "fd", "round", "end", "last"],
  F: ["tid", "seq", "ts", "kind", "round"],
  X: ["tid", "seq", "ts", "round"],
  Y: ["tid", "seq", "ts", "round"],
  D: ["tid", "seq", "ts", "reason", "round"],
  U: ["tid", "seq", "ts", "fd", "round"],
  H: ["tid", "seq", "ts", "fd", "round", "end", "last"],
  O: ["tid", "seq", "ts", "fd", "round", "end", "last"],
  E: ["tid", "seq", "ts", "fd", "round", "last"],
  G: ["tid", "seq", "ts", "round"],
  T: ["tid", "fd", "enter", "exit", "count", "ret", "round"],
  Z: ["tid", "fd", "ts"],
};

/** Optional per-filter events (the filter probes run only beside envoy-http-filters). */
export const FILTER_FIELDS: Readonly<Record<string, readonly string[]>> = {
  L: ["tid", "seq", "enter", "exit", "probe", "round"],
  A: ["tid", "seq", "ts", "round"],
};

export const OUTCOMES = ["recorded", "aborted", "timeout", "incomplete", "invalid", "overflow", "rate_capped", "unfinished", "lost"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface AssemblerOptions {
  script: string;
  pid: number;
  pod: string | null;
  /** At most this many records per second of the requests' sampling time (--trace-rate). */
  rate: number;
  /** Unix time in ns for a CLOCK_MONOTONIC ns value. */
  unixNs(monotonicNs: number): bigint;
  /** Prefix of the ids the agent makes for requests whose x-request-id it cannot read. */
  idPrefix: string;
  /** A filter probe ("uretprobe:PATH:ADDR") → "filter method", or null when unknown. */
  filterName?: (probe: string) => string | null;
  /**
   * Quiet time after a request's last event before it is written (default 500 ms). With
   * SETTLE_MS and the sweep's period it sets how far out of time order the records file
   * is, which its readers bound by MAX_DISORDER_MS (src/records/times.ts): keep within it.
   */
  graceMs?: number;
  /** How long a request may stay unfinished before it is dropped (default 120 s). */
  timeoutMs?: number;
  /** Requests held at most; beyond, the oldest is dropped (default 4096). */
  maxPending?: number;
  /** Counters to add to (they outlive one assembler: one per traced Envoy). */
  counters?: AssemblerCounters;
}

export interface AssemblerCounters {
  /** Event lines by tag. */
  events: Record<string, number>;
  /** Event lines that belonged to no request (late, or whose request was dropped), by tag. */
  unattributed: Record<string, number>;
  /** Sampled requests by what became of them. */
  requests: Record<Outcome, number>;
  /** Requests held now. */
  pending: number;
}

/** Counters at zero: every outcome listed, so /status and /metrics show each from the start. */
export function blankCounters(): AssemblerCounters {
  return { events: {}, unattributed: {}, requests: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>, pending: 0 };
}

interface Ev {
  tag: string;
  ts: number;
  round: number;
  fd: number;
  end: boolean;
  last: number;
  kind: number;
  receivedMs: number;
  line: EventLine;
}

interface Req {
  key: string;
  tid: number;
  q: Ev | null;
  r: Ev | null;
  /** Connects, pool readies, failures and response headers of every try (see latestTry). */
  tries: Ev[];
  /** The router's latest retry (Router::Filter::doRetry): the try after it is the one recorded. */
  y: Ev | null;
  /** The router's latest reset of an upstream request. */
  x: Ev | null;
  /** Envoy's reset of the downstream stream (ActiveStream::onResetStream). */
  d: Ev | null;
  h: Ev | null;
  /** Response ends (H or O with end, or its trailers: E), and request ends handed upstream (I with end). */
  downEnds: Ev[];
  upEnds: Ev[];
  rounds: Set<number>;
  captures: Map<number, Buffer>;
  filters: { enter: number; exit: number; name: string }[];
  checkDone: number[];
  eventsByTag: Record<string, number>;
  firstMs: number;
  lastMs: number;
}

interface Write {
  tid: number;
  enter: number;
  exit: number;
  count: number;
  ret: number;
  round: number;
  receivedMs: number;
}

interface FdLog {
  writes: Write[];
  /** `ts`: the close's time (as the events'); `receivedMs`: when it came. */
  closes: { ts: number; receivedMs: number }[];
}

const WAIT = Symbol("wait");
type Resolved = { end: number; firstAfterArm: Write | null } | typeof WAIT;

const DONE_KEYS = 16_384;
const EXT_AUTHZ_DECODE = "ext_authz decodeHeaders";
/** The sub-phase of ext_authz's wait for its authorization check. */
export const EXT_AUTHZ_CHECK = "ext_authz check";
/** Http::StreamResetReason::LocalReset (the first of Envoy's reasons, in every version): a D's `reason`. */
const LOCAL_RESET = 0;
/** A drained socket's last write counts as a response's end once no write followed for this long (within MAX_DISORDER_MS, see graceMs). */
const SETTLE_MS = 1_000;

export class RequestAssembler {
  private readonly pending = new Map<string, Req>();
  private readonly fds = new Map<number, FdLog>();
  private readonly maxRound = new Map<number, number>();
  private readonly done = new Set<string>();
  private readonly doneOrder: string[] = [];
  private readonly perSecond = new Map<number, number>();
  private ownIds = 0;
  private readonly graceMs: number;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  readonly counters: AssemblerCounters;

  constructor(private readonly opts: AssemblerOptions) {
    this.counters = opts.counters ?? blankCounters();
    this.graceMs = opts.graceMs ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.maxPending = opts.maxPending ?? 4096;
  }

  /** Takes one event line; throws EventLineError when a field is malformed. */
  add(line: EventLine, nowMs: number): void {
    const tag = line.tag;
    const tid = num(line, "tid");
    if (tag === "T" || tag === "Z") {
      this.fdEvent(line, tid, nowMs);
      this.count(this.counters.events, tag);
      return;
    }
    const key = `${tid}:${num(line, "seq")}`;
    if (this.done.has(key)) {
      this.count(this.counters.events, tag);
      this.count(this.counters.unattributed, tag);
      return;
    }
    const ev = toEv(line, nowMs);
    this.count(this.counters.events, tag);
    let req = this.pending.get(key);
    if (!req) {
      req = newReq(key, tid, nowMs);
      this.pending.set(key, req);
      this.counters.pending = this.pending.size;
      if (this.pending.size > this.maxPending) this.dropOldest();
    }
    req.lastMs = nowMs;
    req.eventsByTag[tag] = (req.eventsByTag[tag] ?? 0) + 1;
    if (ev.round > (this.maxRound.get(tid) ?? -1)) this.maxRound.set(tid, ev.round);
    if (tag !== "K") req.rounds.add(ev.round);
    switch (tag) {
      case "Q":
        req.q = ev;
        break;
      case "K":
        req.captures.set(num(line, "part"), unescapeR(line.fields.bytes ?? ""));
        break;
      case "R":
        req.r ??= ev;
        break;
      case "C":
      case "F":
      case "U":
        req.tries.push(ev);
        break;
      case "P":
        req.tries.push(ev);
        if (ev.end) req.upEnds.push(ev);
        break;
      case "I":
        if (ev.end) req.upEnds.push(ev);
        break;
      case "X":
        req.x = ev;
        break;
      case "Y":
        if (!req.y || ev.ts > req.y.ts) req.y = ev;
        break;
      case "D":
        req.d ??= ev;
        break;
      case "H":
        req.h ??= ev;
        if (ev.end) req.downEnds.push(ev);
        break;
      case "O":
        if (ev.end) req.downEnds.push(ev);
        break;
      case "E":
        // Trailers always end the response (the body before them had no end).
        ev.end = true;
        req.downEnds.push(ev);
        break;
      case "L": {
        const name = this.opts.filterName?.(line.fields.probe ?? "") ?? null;
        if (name) req.filters.push({ enter: num(line, "enter"), exit: num(line, "exit"), name });
        else this.count(this.counters.unattributed, tag);
        break;
      }
      case "A":
        req.checkDone.push(ev.ts);
        break;
      default:
        break;
    }
  }

  /**
   * A new bpftrace process (the last one died): its request sequence numbers and wake-up
   * rounds start from zero again, so the keys seen so far would catch its requests. Like
   * flush, what can be completed is written and the rest counted unfinished; then every
   * key is forgotten. The rate windows stay: they count seconds of one clock.
   */
  restart(nowMs: number): RequestRecord[] {
    const out = this.flush(nowMs);
    this.done.clear();
    this.doneOrder.length = 0;
    this.maxRound.clear();
    return out;
  }

  /** Records that are complete and quiet, in end order; drops what timed out. */
  sweep(nowMs: number): RequestRecord[] {
    const out: RequestRecord[] = [];
    for (const req of [...this.pending.values()]) {
      const quiet = nowMs - req.lastMs >= this.graceMs;
      if (!quiet) continue;
      const built = req.q ? this.build(req, nowMs) : WAIT;
      if (built === WAIT) {
        if (this.aborted(req, nowMs)) this.finish(req, "aborted");
        else if (nowMs - req.firstMs > this.timeoutMs) this.finish(req, "timeout");
        continue;
      }
      if (typeof built === "string") {
        this.finish(req, built);
        continue;
      }
      if (!this.underRate(req)) {
        this.finish(req, "rate_capped");
        continue;
      }
      this.finish(req, "recorded");
      out.push(built);
    }
    this.prune(nowMs);
    return out.sort((a, b) => a.end_ns - b.end_ns);
  }

  /** At the end of tracing: what can be completed is written, the rest counted unfinished. */
  flush(nowMs: number): RequestRecord[] {
    const out = this.sweep(nowMs + this.graceMs);
    for (const req of [...this.pending.values()]) this.finish(req, "unfinished");
    this.fds.clear();
    return out;
  }

  private build(req: Req, nowMs: number): RequestRecord | Outcome | typeof WAIT {
    const q = req.q!;
    // The last end: an encoder filter that held the end (e.g. ext_proc on trailers) passes it
    // on in a later wake-up, where the chain's resumption prints the end again.
    const down = this.resolveArm(q.fd, latest(req.downEnds), req.tid, nowMs);
    if (down === WAIT) return WAIT;
    const h = req.h;
    if (!h) return "incomplete";

    const phases: RequestPhase[] = [];
    const add = (name: RequestPhaseName, start: number, end: number): void => {
      if (end >= start) phases.push({ name, start_ns: start, end_ns: end });
    };
    if (q.line.fields.read_start !== "0") add("downstream_read", num(q.line, "read_start"), num(q.line, "read_end"));
    add("codec", num(q.line, "codec_start"), q.ts);
    add("filters", q.ts, req.r?.ts ?? h.ts);

    const { c, p, f: failure, u, upEnds } = latestTry(req);
    let upstream: SocketEnds | null = null;
    const writeRounds: number[] = [];
    if (req.r) {
      const routerEnd = c?.ts ?? p?.ts ?? failure?.ts ?? h.ts;
      add("router", req.r.ts, routerEnd);
    }
    if (c) add("upstream_connect", c.ts, p?.ts ?? (failure?.kind === 1 ? failure.ts : h.ts));
    // The request head as forwarded is read from the first upstream write.
    let firstUpstreamWrite: Write | undefined;
    if (p) {
      if (p.fd < 0) return "incomplete";
      upstream = { fd: p.fd, local: address(p, "local"), peer: address(p, "peer") };
      const ws = this.writesAfter(p.fd, p.ts);
      const first = ws[0];
      firstUpstreamWrite = first;
      const stop = u?.ts ?? (failure && failure.kind !== 1 ? failure.ts : null);
      if (!first || (stop !== null && first.enter > stop)) {
        // Never written: only a failure explains that.
        if (u) return "incomplete";
      } else {
        let end: number | null = null;
        const arm = upEnds[0];
        if (arm) {
          const r = this.resolveArm(p.fd, arm, req.tid, nowMs);
          if (r === WAIT && stop === null) return WAIT;
          if (r !== WAIT) end = r.end;
        }
        if (end === null || (stop !== null && end > stop)) end = stop;
        if (end === null) return WAIT;
        add("upstream_write", first.enter, end);
        for (const w of ws) if (w.enter <= end) writeRounds.push(w.round);
        if (stop !== null && stop > end) add("upstream_wait", end, stop);
      }
    }
    if (u) add("upstream_read", u.ts, h.ts);
    add("downstream_write", h.ts, down.end);
    const downWrites = this.writesAfter(q.fd, h.ts).filter((w) => w.exit <= down.end);
    for (const w of downWrites) writeRounds.push(w.round);

    const filtersPhase = phases.find((x) => x.name === "filters");
    if (filtersPhase && (req.filters.length > 0 || req.checkDone.length > 0)) {
      const children: FilterSubPhase[] = req.filters.map((f) => ({ name: f.name, start_ns: f.enter, end_ns: f.exit }));
      // ext_authz's check: from its decodeHeaders' return (it stopped the chain) to the answer.
      for (const answered of req.checkDone) {
        const stopped = req.filters.filter((f) => f.name === EXT_AUTHZ_DECODE && f.exit <= answered).pop();
        if (stopped) children.push({ name: EXT_AUTHZ_CHECK, start_ns: stopped.exit, end_ns: answered });
      }
      children.sort((a, b) => a.start_ns - b.start_ns || a.end_ns - b.end_ns);
      filtersPhase.children = children;
    }

    const head = this.head(req, firstUpstreamWrite);
    const start = phases[0]!.start_ns;
    const proto = num(q.line, "proto") === 2 ? "HTTP/2" : "HTTP/1.1";
    const stream = num(q.line, "stream");
    let bytesOut = 0;
    for (const w of downWrites) {
      if (down.firstAfterArm && w === down.firstAfterArm) {
        bytesOut += w.count;
        break;
      }
      bytesOut += Math.max(w.ret, 0);
    }
    const record: RequestRecord = {
      kind: "request",
      ts: isoMicro(this.opts.unixNs(down.end)),
      script: this.opts.script,
      pod: this.opts.pod,
      pid: this.opts.pid,
      worker: q.line.fields.comm ?? "",
      id: head?.requestId ?? this.ownId(),
      protocol: proto,
      stream: proto === "HTTP/2" && stream > 0 ? stream : null,
      downstream: { fd: q.fd, local: address(q, "local"), peer: address(q, "peer") },
      upstream,
      start_ns: start,
      end_ns: down.end,
      wakeups: new Set([...req.rounds, ...writeRounds]).size,
      // 0 when not known: the head or a chunked body's end was not in the captured read.
      bytes_in: head?.headBytes != null && head.bodyBytes !== null && proto === "HTTP/1.1" ? head.headBytes + head.bodyBytes : 0,
      bytes_out: bytesOut,
      phases: orderPhases(phases),
    };
    if (head?.traceparent) record.traceparent = head.traceparent;
    // The record's own parser checks it (phase order, spans inside the request): what a
    // reader of the file would refuse is never written.
    try {
      return toRequestRecord(record);
    } catch {
      return "invalid";
    }
  }

  /**
   * Where the bytes queued on `fd` up to an event (`arm`) were all written: the first
   * write after it is `count` bytes long; the write whose return completes that many bytes
   * ends them. When nothing was queued (the socket was drained and no write followed in
   * the event's wake-up round), they ended with the socket's last write (`last`).
   */
  private resolveArm(fd: number, arm: Ev | undefined, tid: number, nowMs: number): Resolved {
    if (!arm) return WAIT;
    const ws = this.writesAfter(fd, arm.ts);
    const first = ws[0];
    const movedOn = (this.maxRound.get(tid) ?? -1) > arm.round || (this.fds.get(fd)?.closes.some((c) => c.ts > arm.ts) ?? false);
    if (!first) {
      if (arm.last > 0 && (movedOn || nowMs - arm.receivedMs >= SETTLE_MS)) return { end: arm.last, firstAfterArm: null };
      return WAIT;
    }
    if (first.round !== arm.round && arm.last > 0) return { end: arm.last, firstAfterArm: null };
    let done = 0;
    for (const w of ws) {
      done += Math.max(w.ret, 0);
      if (done >= first.count) return { end: w.exit, firstAfterArm: first };
    }
    return WAIT;
  }

  /**
   * A request still waiting for its response's end that can never get it: its downstream
   * connection was closed after the request came, its upstream connection was closed or
   * its upstream request reset by the router before any answer or failure, or its
   * upstream request failed (reset, response timeout) after the response had started
   * downstream, which makes Envoy reset the downstream stream, or Envoy reset the
   * downstream stream (a client's RST_STREAM, wherever the request was). Asked once the
   * request is quiet, so its own events are all in; a close counts once it is as old as the
   * grace, so the writes before it are in too. Once the response's end entered the encoder
   * chain, only what stops its writing counts (a close, or a reset other than the one below).
   */
  private aborted(req: Req, nowMs: number): boolean {
    const q = req.q;
    if (!q) return false;
    const closed = (fd: number, after: number): boolean => {
      const log = this.fds.get(fd);
      return log?.closes.some((c) => c.ts > after && nowMs - c.receivedMs >= this.graceMs) ?? false;
    };
    if (closed(q.fd, q.ts)) return true;
    const ended = req.downEnds[0];
    // Envoy reset its downstream stream: whatever the request waited for (a filter's check,
    // the router, the upstream) will not go downstream any more, e.g. an HTTP/2 client's
    // RST_STREAM while ext_authz held the request, before the router saw it. Not so the
    // local reset of a stream whose whole response Envoy has while its request body is still
    // coming (ConnectionManagerImpl::doEndStream): the response goes out, and a slow reader's
    // writes may well outlast the grace. doEndStream resets in the call that hands the
    // response's end to the codec, so in that end's wake-up round; a LocalReset in a later
    // round is a timer's (stream idle timeout, max stream duration, a filter's callout) while
    // an encoder filter held the end, and HTTP/2 then drops what the codec had not sent.
    const d = req.d;
    const endReset = d !== null && num(d.line, "reason") === LOCAL_RESET && req.downEnds.some((e) => e.round === d.round && d.ts >= e.ts);
    if (d && !endReset) return true;
    // The response is whole: the upstream side no longer matters (the router resets an
    // upstream request that answered before the request's end, as doEndStream the stream).
    if (ended) return false;
    // Envoy closed the upstream connection itself, the only way to cancel an HTTP/1.1
    // upstream request (the client reset its stream): an upstream that closed or reset
    // before answering would have given an F (then a 503).
    // Only the latest upstream request counts: a retry (after a per-try timeout or a
    // retriable status, which reset the one before and close its HTTP/1.1 connection)
    // carries the request on; one the router started (Y) has no pool ready before it.
    const { f, u } = latestTry(req);
    const yTs = req.y?.ts ?? -Infinity;
    // The latest upstream request's pool ready (a retry's after the first).
    const pLast = req.tries.findLast((e) => e.tag === "P");
    const p = pLast && pLast.ts > yTs ? pLast : null;
    if (p && p.fd >= 0 && !u && !f && closed(p.fd, p.ts)) return true;
    // The router reset its upstream request with no failure of it (a timeout comes with
    // one) and started none after: the downstream went away, e.g. an HTTP/2 client reset
    // its stream. A reset before a retry was that try's end (a per-try timeout).
    if (req.x && req.x.ts > yTs && !f && !(p && p.ts > req.x.ts)) return true;
    return f !== null && req.h !== null && f.ts > req.h.ts;
  }

  /** Writes on `fd` that entered after `ts`, in order. */
  private writesAfter(fd: number, ts: number): Write[] {
    const log = this.fds.get(fd);
    if (!log) return [];
    const w = log.writes;
    let lo = 0;
    let hi = w.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (w[mid]!.enter > ts) hi = mid;
      else lo = mid + 1;
    }
    return w.slice(lo);
  }

  /** The request head from the upstream write (as forwarded) or else the downstream read. */
  private head(req: Req, firstUpstreamWrite: Write | undefined): RequestHead | null {
    const up = capture(req.captures, 2, firstUpstreamWrite ? Math.min(firstUpstreamWrite.ret, 512) : 0);
    const fromUp = up ? parseRequestHead(up) : null;
    const down = capture(req.captures, 0, req.q ? num(req.q.line, "capture") : 0);
    const fromDown = down ? parseRequestHead(down) : null;
    if (fromUp?.requestId) return { ...fromUp, headBytes: fromDown?.headBytes ?? null, contentLength: fromDown?.contentLength ?? null, bodyBytes: fromDown?.bodyBytes ?? null };
    return fromDown ?? (fromUp ? { ...fromUp, headBytes: null, contentLength: null, bodyBytes: null } : null);
  }

  private fdEvent(line: EventLine, tid: number, nowMs: number): void {
    const fd = num(line, "fd");
    let log = this.fds.get(fd);
    if (!log) this.fds.set(fd, (log = { writes: [], closes: [] }));
    if (line.tag === "Z") {
      log.closes.push({ ts: num(line, "ts"), receivedMs: nowMs });
      return;
    }
    const w: Write = { tid, enter: num(line, "enter"), exit: num(line, "exit"), count: num(line, "count"), ret: num(line, "ret"), round: num(line, "round"), receivedMs: nowMs };
    if (w.round > (this.maxRound.get(tid) ?? -1)) this.maxRound.set(tid, w.round);
    const ws = log.writes;
    let i = ws.length;
    while (i > 0 && ws[i - 1]!.enter > w.enter) i--;
    ws.splice(i, 0, w);
  }

  private underRate(req: Req): boolean {
    const second = Math.floor(req.q!.ts / 1e9);
    const n = this.perSecond.get(second) ?? 0;
    if (n >= this.opts.rate) return false;
    this.perSecond.set(second, n + 1);
    return true;
  }

  /**
   * bpftrace reported events lost (its output buffer overflowed): any request in flight may
   * miss some, and a record joined from what is left would be a guess. Each one is dropped
   * and counted as "lost", and the socket write logs start over.
   */
  lost(): void {
    for (const r of [...this.pending.values()]) this.finish(r, "lost");
    this.fds.clear();
  }

  private finish(req: Req, outcome: Outcome): void {
    this.pending.delete(req.key);
    this.counters.pending = this.pending.size;
    if (req.q) this.counters.requests[outcome]++;
    // Events of a request whose start never came belong to nothing we know.
    else for (const [tag, n] of Object.entries(req.eventsByTag)) this.counters.unattributed[tag] = (this.counters.unattributed[tag] ?? 0) + n;
    this.done.add(req.key);
    this.doneOrder.push(req.key);
    if (this.doneOrder.length > DONE_KEYS) this.done.delete(this.doneOrder.shift()!);
  }

  private dropOldest(): void {
    let oldest: Req | null = null;
    for (const r of this.pending.values()) if (!oldest || r.firstMs < oldest.firstMs) oldest = r;
    if (oldest) this.finish(oldest, "overflow");
  }

  /**
   * Forgets socket events no held request can need, and old rate windows. A pending request
   * needs only its own connections' events from its start; any other event is kept while
   * recent (the request it belongs to may not have shown up yet). Keeping every connection's
   * events since the oldest pending request started would grow with all traffic while one
   * request waits for its timeout.
   */
  private prune(nowMs: number): void {
    const from = new Map<number, number>();
    const need = (fd: number | undefined, start: number): void => {
      if (fd !== undefined && fd >= 0 && start < (from.get(fd) ?? Infinity)) from.set(fd, start);
    };
    for (const r of this.pending.values()) {
      // A request whose start has not come yet: all of its connections' events.
      const start = r.q ? num(r.q.line, "codec_start") : -Infinity;
      for (const ev of [r.q, ...r.tries, r.h, ...r.downEnds, ...r.upEnds]) need(ev?.fd, start);
    }
    const recent = (receivedMs: number): boolean => nowMs - receivedMs < 4 * this.graceMs;
    for (const [fd, log] of this.fds) {
      const since = from.get(fd) ?? Infinity;
      log.writes = log.writes.filter((w) => recent(w.receivedMs) || w.exit >= since);
      log.closes = log.closes.filter((c) => recent(c.receivedMs) || c.ts >= since);
      if (log.writes.length === 0 && log.closes.length === 0) this.fds.delete(fd);
    }
    if (this.perSecond.size > 8) {
      const keys = [...this.perSecond.keys()].sort((a, b) => a - b);
      for (const k of keys.slice(0, keys.length - 8)) this.perSecond.delete(k);
    }
  }

  /** Socket writes and closes held for pending requests (what prune keeps). */
  heldSocketEvents(): number {
    let n = 0;
    for (const log of this.fds.values()) n += log.writes.length + log.closes.length;
    return n;
  }

  private ownId(): string {
    return `${this.opts.idPrefix}-${(++this.ownIds).toString(16).padStart(8, "0")}`;
  }

  private count(m: Record<string, number>, tag: string): void {
    m[tag] = (m[tag] ?? 0) + 1;
  }
}

function newReq(key: string, tid: number, nowMs: number): Req {
  return { key, tid, q: null, r: null, tries: [], y: null, x: null, d: null, h: null, downEnds: [], upEnds: [], rounds: new Set(), captures: new Map(), filters: [], checkDone: [], eventsByTag: {}, firstMs: nowMs, lastMs: nowMs };
}

/**
 * The upstream request that counts: the first connect, pool ready, failure and response
 * headers after the router's latest retry (all of them when it never retried), and the
 * request ends handed to it. The earlier tries and the backoffs lie inside the router phase.
 */
function latestTry(req: Req): { c: Ev | null; p: Ev | null; f: Ev | null; u: Ev | null; upEnds: Ev[] } {
  const yTs = req.y?.ts ?? -Infinity;
  const first = (tag: string): Ev | null => req.tries.find((e) => e.tag === tag && e.ts > yTs) ?? null;
  return { c: first("C"), p: first("P"), f: first("F"), u: first("U"), upEnds: req.upEnds.filter((e) => e.ts > yTs) };
}

/** The latest of events by their time (lines from several CPUs may come out of order). */
function latest(evs: readonly Ev[]): Ev | undefined {
  let out: Ev | undefined;
  for (const e of evs) if (!out || e.ts > out.ts) out = e;
  return out;
}

function toEv(line: EventLine, receivedMs: number): Ev {
  const f = line.fields;
  const n = (name: string): number => (f[name] === undefined ? 0 : num(line, name));
  return { tag: line.tag, ts: n("ts"), round: n("round"), fd: n("fd"), end: f.end === "1", last: n("last"), kind: n("kind"), receivedMs, line };
}

function address(ev: Ev, which: "peer" | "local"): string | null {
  return formatAddress(hex(ev.line, which), hex(ev.line, `${which}6a`), hex(ev.line, `${which}6b`));
}

/** Parts `first` and `first + 1` (256 bytes each) joined, cut to `length`. */
function capture(parts: Map<number, Buffer>, first: number, length: number): Buffer | null {
  const a = parts.get(first);
  if (!a || length <= 0) return null;
  const b = parts.get(first + 1);
  return Buffer.concat(b ? [a.subarray(0, 256), b] : [a]).subarray(0, length);
}

function orderPhases(phases: RequestPhase[]): RequestPhase[] {
  return [...phases].sort((a, b) => REQUEST_PHASES.indexOf(a.name) - REQUEST_PHASES.indexOf(b.name));
}

/** ISO 8601 with microseconds, from Unix ns. */
export function isoMicro(unixNs: bigint): string {
  const ms = unixNs / 1_000_000n;
  const micro = Number((unixNs / 1000n) % 1000n);
  return new Date(Number(ms)).toISOString().replace("Z", `${String(micro).padStart(3, "0")}Z`);
}
