// The data embedded in the report page as JSON (`<script type="application/json"
// id="hookpoint-data">`), read by the page's script. Column-wise: one array per field,
// index i of every array is request i, so 100,000 requests stay a few MB and parse fast.
// Shared by Node (which builds it) and the page (which reads it); types only.
import type { BucketTriple } from "./stats.js";

export const REPORT_DATA_VERSION = 1;

export interface ReportPod {
  key: string;
  namespace: string;
  name: string;
  /** Workload key "namespace/name" and how it is shown. */
  workload: string;
  workloadKind: string;
  workloadDerived: boolean;
  node: string | null;
  /** From the collect manifest: whether its agent answered, and what failed. */
  agentReachable: boolean | null;
  errors: string[];
}

export interface ReportRequests {
  id: string[];
  /** Index into pods. */
  pod: number[];
  /** Index into workers. */
  worker: number[];
  /** Index into protocols. */
  protocol: number[];
  stream: (number | null)[];
  /** Wall time of the first request's start, ms since the Unix epoch. */
  t0: number;
  /** Each request's start, µs after t0. */
  tUs: number[];
  /** end_ns − start_ns. */
  dur: number[];
  wakeups: number[];
  bytesIn: number[];
  bytesOut: number[];
  /** "41 10.0.0.9:51234": the downstream fd and the client's address. */
  down: string[];
  /** "57 127.0.0.6:40112": the upstream fd and our side's address; null for a local reply. */
  up: (string | null)[];
  /** Per phase (index into phases): duration ns, −1 when absent. */
  phaseDur: number[][];
  /**
   * Per phase: ns from the end of the request's previous phase (from its start for the
   * first) to this phase's start; mostly 0, so it stays short. Read only where phaseDur ≥ 0.
   */
  phaseGap: number[][];
  /** Filter sub-phases, column-wise: request index, name (index into subNames), start offset ns from the request's start, duration ns. */
  subNames: string[];
  subReq: number[];
  subName: number[];
  subStart: number[];
  subDur: number[];
}

export type MapDumpValue = number | string | BucketTriple[] | { count: number; average: number; total: number };

export interface ReportMaps {
  series: { pod: number; script: string; map: string; keys: string[]; kind: string; unit: string }[];
  /** One entry per record: series index, wall time ms, Envoy pid, value (buckets as triples). */
  dumps: { s: number[]; t: number[]; pid: number[]; v: MapDumpValue[] };
}

export interface ReportData {
  version: typeof REPORT_DATA_VERSION;
  generatedAt: string;
  source: {
    cluster: { server: string | null; context: string | null } | null;
    collectedAt: string | null;
    since: string | null;
    until: string | null;
    files: number;
    lines: number;
    problems: number;
    /** The first problems (file:line: why), for the page's notes. */
    firstProblems: string[];
    /**
     * Per pod of the manifest (key "namespace/name"), its traced requests that have no
     * record, by outcome (unrecorded.ts): the agent's counts over its life, at collect time.
     * Only pods with any.
     */
    unrecorded: { pod: string; outcomes: [string, number][] }[];
  };
  phases: string[];
  protocols: string[];
  workers: string[];
  pods: ReportPod[];
  requests: ReportRequests;
  maps: ReportMaps;
}
