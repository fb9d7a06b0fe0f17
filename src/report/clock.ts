// CLOCK_MONOTONIC → wall time. A request record's start_ns/end_ns count from its node's
// boot; its `ts` is the wall time at which the request ended. One Envoy process shares one
// monotonic clock, so each (pod, pid) gets one offset: the smallest ts − end_ns among its
// records (ts is stamped at or after the end, so the smallest gap is the closest). Every
// phase of that process is then placed with the same offset, keeping their order and
// spacing exact. Pure.
import type { RequestRecord } from "../records/request-record.js";

/** Unix nanoseconds of an ISO 8601 time, keeping every fractional digit up to ns. */
export function isoToUnixNs(iso: string): bigint {
  const m = /^(.*?:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) throw new Error(`not an ISO 8601 time: ${iso}`);
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) throw new Error(`not an ISO 8601 time: ${iso}`);
  const frac = (m[2] ?? "").slice(0, 9).padEnd(9, "0");
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

/** ISO 8601 UTC with nanoseconds from unix nanoseconds. */
export function unixNsToIso(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  return `${base}.${String(ns % 1_000_000_000n).padStart(9, "0")}Z`;
}

export type ClockKey = string;

export function clockKey(pod: string, pid: number): ClockKey {
  return `${pod}\u0000${pid}`;
}

/** Offsets (unix ns − monotonic ns) per (pod, pid) of request records and their pods. */
export function clockOffsets(requests: Iterable<{ record: Pick<RequestRecord, "ts" | "end_ns" | "pid">; pod: string }>): Map<ClockKey, bigint> {
  const out = new Map<ClockKey, bigint>();
  for (const { record: r, pod } of requests) {
    const key = clockKey(pod, r.pid);
    const off = isoToUnixNs(r.ts) - BigInt(r.end_ns);
    const have = out.get(key);
    if (have === undefined || off < have) out.set(key, off);
  }
  return out;
}
