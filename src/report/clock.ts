// CLOCK_MONOTONIC → wall time. A request record's start_ns/end_ns count from its node's
// boot; its `ts` is the wall time at which the request ended. One Envoy process shares one
// monotonic clock, so each process (pod, pid and boot) gets one offset: the smallest ts − end_ns
// among its records (ts is stamped at or after the end, so the smallest gap is the closest). Every
// phase of that process is then placed with the same offset, keeping their order and
// spacing exact. Pure.
import type { RequestRecord } from "../records/request-record.js";
import { isoTimeNs } from "../records/times.js";

/** ISO 8601 UTC with nanoseconds from unix nanoseconds. */
export function unixNsToIso(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  return `${base}.${String(ns % 1_000_000_000n).padStart(9, "0")}Z`;
}

type Stamped = Pick<RequestRecord, "ts" | "end_ns" | "pid">;

/** The key of one Envoy process's records within a collection: its pod and pid (boots are told apart by clockOffsets). */
export function processKey(pod: string, pid: number): string {
  return `${pod}\u0000${pid}`;
}

/** ts − end_ns values further apart than this belong to different boots. */
const BOOT_GAP_NS = 1_000_000_000n;

/**
 * Each request record's clock offset (unix ns − monotonic ns), by record: the smallest
 * ts − end_ns among the records of its Envoy process. A process is its pod and pid, and
 * the boot of the node it ran on: a pod recreated under the same name (a StatefulSet's
 * db-0, collected into the same folder) has its Envoy under the same pid in its own pid
 * namespace, on another node's clock. One process's ts − end_ns agree to the µs; a gap
 * of over a second between them starts another boot (two nodes booted within a second of
 * each other are taken as one).
 */
export function clockOffsets<R extends Stamped>(requests: Iterable<{ record: R; pod: string }>): Map<R, bigint> {
  const byProcess = new Map<string, { r: R; off: bigint }[]>();
  for (const { record: r, pod } of requests) {
    const key = processKey(pod, r.pid);
    let list = byProcess.get(key);
    if (!list) byProcess.set(key, (list = []));
    // A loaded record's ts has passed isoTimeAt, which reads times as isoTimeNs does.
    const ts = isoTimeNs(r.ts);
    if (ts === null) throw new Error(`ts: not an ISO 8601 time: ${r.ts}`);
    list.push({ r, off: ts - BigInt(r.end_ns) });
  }
  const out = new Map<R, bigint>();
  for (const list of byProcess.values()) {
    list.sort((a, b) => (a.off < b.off ? -1 : a.off > b.off ? 1 : 0));
    let least = list[0]!.off;
    let prev = least;
    for (const { r, off } of list) {
      if (off - prev > BOOT_GAP_NS) least = off;
      out.set(r, least);
      prev = off;
    }
  }
  return out;
}
