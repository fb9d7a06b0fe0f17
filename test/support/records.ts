// Record files as the agent writes them (through its own RotatingFile), for the records
// endpoints' and collect's tests and benchmark.
import { RotatingFile } from "../../src/agent/output/ndjson.js";
import type { MapRecord } from "../../src/records/map-record.js";
import { parseRecordLine } from "../../src/records/record-line.js";
import type { RequestRecord } from "../../src/records/request-record.js";

/** The i-th record of a script, `ts` = t0 + i·stepMs. */
export function mapRecord(script: string, i: number, t0Ms: number, stepMs: number): MapRecord {
  return {
    ts: new Date(t0Ms + i * stepMs).toISOString(),
    script,
    map: "@latency_ns",
    keys: [`worker_${i % 4}`],
    kind: "hist",
    unit: "ns",
    pid: 4242,
    buckets: [
      { min: 1024, max: 2047, count: (i * 7) % 13 },
      { min: 2048, max: 4095, count: (i * 3) % 5 },
    ],
  };
}

/** Appends records `from`..`to-1` of `script` through the agent's own rotating writer, one write per record. */
export function writeRecords(dir: string, script: string, from: number, to: number, opts: { t0Ms: number; stepMs: number; maxBytes?: number; keep?: number }): void {
  const file = new RotatingFile({ dir, name: script, maxBytes: opts.maxBytes ?? 64 * 1024 * 1024, keep: opts.keep ?? 3 });
  try {
    for (let i = from; i < to; i++) file.write([mapRecord(script, i, opts.t0Ms, opts.stepMs)]);
  } finally {
    file.close();
  }
}

/** The NDJSON line of a record, as the writer writes it. */
export function recordLine(r: MapRecord): string {
  return JSON.stringify(r) + "\n";
}

/** One line of a map record file, read as collect and the report read it (null: blank line). */
export function parseMapLine(text: string, file: string, line: number): MapRecord | null {
  const r = parseRecordLine(text, file, line);
  if (r && r.kind !== "map") throw new Error(`${file}:${line}: a ${r.kind} record`);
  return r?.record ?? null;
}

/** One line of a request record file, read as the report reads it (null: blank line). */
export function parseRequestLine(text: string, file: string, line: number): RequestRecord | null {
  const r = parseRecordLine(text, file, line);
  if (r && r.kind !== "request") throw new Error(`${file}:${line}: a ${r.kind} record`);
  return r?.record ?? null;
}
