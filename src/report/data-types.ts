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
  /** Wall time of the request's start, ms since the Unix epoch (µs in the fraction). */
  t: number[];
  /** end_ns − start_ns. */
  dur: number[];
  wakeups: number[];
  bytesIn: number[];
  bytesOut: number[];
  /** "fd 41 10.0.0.9:51234 → 10.0.0.7:8080" style summaries of both connections. */
  down: string[];
  up: (string | null)[];
  /** Per phase (index into phases): start offset from the request's start_ns, −1 when absent. */
  phaseStart: number[][];
  /** Per phase: duration ns, −1 when absent. */
  phaseDur: number[][];
  /** Filter sub-phases: [request index, name, start offset ns, duration ns]. */
  sub: [number, string, number, number][];
}

export type MapDumpValue = number | string | BucketTriple[] | { count: number; average: number; total: number };

export interface ReportMaps {
  series: { pod: number; script: string; map: string; keys: string[]; kind: string; unit: string; cumulative: boolean }[];
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
  };
  phases: string[];
  protocols: string[];
  workers: string[];
  pods: ReportPod[];
  requests: ReportRequests;
  maps: ReportMaps;
}
