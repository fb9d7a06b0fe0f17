// The agent's side of envoy-request-trace: its bpftrace's printed event lines in, request
// records out to `<output>/envoy-request-trace-requests.ndjson` (rotated like every
// script's file), counters to /status and /metrics. One per traced Envoy.
import type { Logger } from "pino";
import type { SymbolTable } from "../../elf/symbols.js";
import type { ScriptHeader } from "../../catalog/header.js";
import { filterCallNames } from "../../catalog/filters.js";
import type { RequestRecord } from "../../records/request-record.js";
import { blankCounters, FILTER_FIELDS, NEEDED_FIELDS, RequestAssembler, type AssemblerCounters } from "./assembler.js";
import { EventLineError, EventParser } from "./events.js";

/** The records file's base name (without .ndjson): `<script>-requests`. */
export function requestRecordsName(script: string): string {
  return `${script}-requests`;
}

/** What /status shows (and /metrics exports) about request tracing, over the agent's life. */
export interface TraceStatus extends AssemblerCounters {
  script: string;
  /** The request records file. */
  output: string;
  sample: number;
  rate: number;
  /** Printed lines that were not a declared event. */
  unparsable: number;
}

export function blankTraceStatus(script: string, output: string, sample: number, rate: number): TraceStatus {
  return { script, output, sample, rate, unparsable: 0, ...blankCounters() };
}

export interface RequestTraceOptions {
  header: ScriptHeader;
  pid: number;
  pod: string | null;
  rate: number;
  table: SymbolTable;
  status: TraceStatus;
  log: Logger;
  /** Writes finished records (the agent's rotating file). */
  write(records: RequestRecord[]): void;
  /** How often finished requests are written (default 250 ms; within MAX_DISORDER_MS, see RequestAssembler's graceMs). */
  sweepMs?: number;
}

export class RequestTrace {
  private readonly parser: EventParser;
  private readonly assembler: RequestAssembler;
  private timer: NodeJS.Timeout | null = null;
  /** The bpftrace process (runner generation) whose lines come in. */
  private generation: number | null = null;

  constructor(private readonly o: RequestTraceOptions) {
    this.parser = new EventParser(o.header.events ?? []);
    this.parser.require(NEEDED_FIELDS, o.header.name);
    const filterNames = filterCallNames(o.table);
    const withFilters = (o.header.events ?? []).some((e) => e.tag in FILTER_FIELDS);
    if (withFilters) this.parser.require(FILTER_FIELDS, o.header.name);
    // CLOCK_MONOTONIC (bpftrace's nsecs, Node's hrtime) to Unix time, once per Envoy.
    const offset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    this.assembler = new RequestAssembler({
      script: o.header.name,
      pid: o.pid,
      pod: o.pod,
      rate: o.rate,
      unixNs: (ns) => BigInt(ns) + offset,
      idPrefix: `hp-${o.pid.toString(16)}-${(Date.now() % 0x1000000).toString(16)}`,
      filterName: (probe) => filterNames.get(probeAddress(probe, o.table) ?? -1n) ?? null,
      counters: o.status,
    });
  }

  /** One printf line of the script, printed by bpftrace process `generation` (1, 2, ...). */
  line(text: string, generation: number): void {
    if (generation !== this.generation) {
      if (this.generation !== null) this.emit(this.assembler.restart(Date.now()));
      this.generation = generation;
    }
    try {
      this.assembler.add(this.parser.parse(text), Date.now());
    } catch (err) {
      if (!(err instanceof EventLineError)) throw err;
      this.o.status.unparsable++;
      if (this.o.status.unparsable <= 5 || this.o.status.unparsable % 1000 === 0) {
        this.o.log.warn({ script: this.o.header.name, problem: err.message, count: this.o.status.unparsable }, "unparsable request trace event");
      }
    }
  }

  /** bpftrace lost events: the requests in flight are dropped and counted (see RequestAssembler.lost). */
  lost(): void {
    this.assembler.lost();
  }

  start(): void {
    this.timer = setInterval(() => this.emit(this.assembler.sweep(Date.now())), this.o.sweepMs ?? 250);
    this.timer.unref();
  }

  /** Writes what can still be completed; the rest is counted unfinished. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.emit(this.assembler.flush(Date.now()));
  }

  private emit(records: RequestRecord[]): void {
    if (records.length > 0) this.o.write(records);
  }
}

/** The function address a probe names ("uretprobe:/bin/envoy:105344", ":0x19b80" or a symbol name). */
export function probeAddress(probe: string, table: SymbolTable): bigint | null {
  const target = probe.slice(probe.lastIndexOf(":") + 1);
  if (/^\d+$/.test(target)) return BigInt(target);
  if (/^0x[0-9a-f]+$/i.test(target)) return BigInt(target);
  return table.symbols.get(target.replace(/^"|"$/g, ""))?.address ?? null;
}
