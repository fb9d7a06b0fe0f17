// A small hand-made set of request records whose exports are pinned by golden files: two
// pods; on shop/cart's wrk:worker_0 two requests overlap (the second is read while the
// first waits for its upstream), one carries a traceparent and filter sub-phases (one on
// the response path, outside `filters`); an HTTP/2 local reply on wrk:worker_1; a fresh
// upstream connection on web/frontend-0.
import type { LoadedRequest, PodInfo } from "../../src/report/load.js";
import type { RequestRecord } from "../../src/records/request-record.js";

const cart = "shop/cart-7d9f8b6c5d-x2x4z";
const front = "web/frontend-0";

export const GOLDEN_PODS: ReadonlyMap<string, PodInfo> = new Map([
  [cart, { key: cart, namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", workload: { kind: "Deployment", name: "cart", derived: false }, node: "node-a" }],
  [front, { key: front, namespace: "web", name: "frontend-0", workload: { kind: "StatefulSet", name: "frontend", derived: true }, node: null }],
]);

const base = {
  kind: "request",
  script: "envoy-request-trace",
  protocol: "HTTP/1.1",
  stream: null,
  bytes_in: 412,
  bytes_out: 1290,
} as const;

// Node A booted at 2025-01-31T12:00:00Z (monotonic 0); node B 0.5 s later.
export const GOLDEN_RECORDS: RequestRecord[] = [
  {
    ...base,
    ts: "2025-01-31T12:00:10.001350000Z",
    pod: cart,
    pid: 4242,
    worker: "wrk:worker_0",
    id: "4bf92f35-77b3-4da6-a3ce-929d0e0e4736",
    downstream: { fd: 41, local: "10.0.0.7:15006", peer: "10.0.0.9:51234" },
    upstream: { fd: 57, local: "127.0.0.6:40112", peer: "10.0.0.7:8080" },
    start_ns: 10_001_000_000,
    end_ns: 10_001_350_000,
    wakeups: 3,
    phases: [
      { name: "downstream_read", start_ns: 10_001_000_000, end_ns: 10_001_010_000 },
      { name: "codec", start_ns: 10_001_010_000, end_ns: 10_001_020_000 },
      {
        name: "filters",
        start_ns: 10_001_020_000,
        end_ns: 10_001_060_000,
        children: [
          { name: "ext_authz decodeHeaders", start_ns: 10_001_021_000, end_ns: 10_001_050_000 },
          { name: "cors encodeHeaders", start_ns: 10_001_316_000, end_ns: 10_001_318_000 },
        ],
      },
      { name: "router", start_ns: 10_001_060_000, end_ns: 10_001_070_000 },
      { name: "upstream_write", start_ns: 10_001_070_000, end_ns: 10_001_080_000 },
      { name: "upstream_wait", start_ns: 10_001_080_000, end_ns: 10_001_300_000 },
      { name: "upstream_read", start_ns: 10_001_300_000, end_ns: 10_001_310_000 },
      { name: "downstream_write", start_ns: 10_001_320_000, end_ns: 10_001_350_000 },
    ],
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  },
  {
    ...base,
    ts: "2025-01-31T12:00:10.001400000Z",
    pod: cart,
    pid: 4242,
    worker: "wrk:worker_0",
    id: "req-2",
    downstream: { fd: 43, local: "10.0.0.7:15006", peer: "10.0.0.9:51236" },
    upstream: { fd: 58, local: "127.0.0.6:40114", peer: "10.0.0.7:8080" },
    start_ns: 10_001_100_000,
    end_ns: 10_001_400_000,
    wakeups: 4,
    phases: [
      { name: "downstream_read", start_ns: 10_001_100_000, end_ns: 10_001_105_000 },
      { name: "codec", start_ns: 10_001_105_000, end_ns: 10_001_110_000 },
      { name: "filters", start_ns: 10_001_110_000, end_ns: 10_001_120_000 },
      { name: "router", start_ns: 10_001_120_000, end_ns: 10_001_125_000 },
      { name: "upstream_write", start_ns: 10_001_125_000, end_ns: 10_001_130_000 },
      { name: "upstream_wait", start_ns: 10_001_130_000, end_ns: 10_001_380_000 },
      { name: "upstream_read", start_ns: 10_001_380_000, end_ns: 10_001_390_000 },
      { name: "downstream_write", start_ns: 10_001_390_000, end_ns: 10_001_400_000 },
    ],
  },
  {
    ...base,
    ts: "2025-01-31T12:00:10.002030000Z",
    pod: cart,
    pid: 4242,
    worker: "wrk:worker_1",
    id: "req-3",
    protocol: "HTTP/2",
    stream: 5,
    downstream: { fd: 44, local: "10.0.0.7:15006", peer: "10.0.0.10:40000" },
    upstream: null,
    start_ns: 10_002_000_000,
    end_ns: 10_002_030_000,
    wakeups: 1,
    phases: [
      { name: "downstream_read", start_ns: 10_002_000_000, end_ns: 10_002_008_000 },
      { name: "codec", start_ns: 10_002_008_000, end_ns: 10_002_015_000 },
      { name: "filters", start_ns: 10_002_015_000, end_ns: 10_002_020_000 },
      { name: "downstream_write", start_ns: 10_002_020_000, end_ns: 10_002_030_000 },
    ],
  },
  {
    ...base,
    ts: "2025-01-31T12:00:10.000400000Z",
    pod: front,
    pid: 77,
    worker: "wrk:worker_0",
    id: "req-4",
    downstream: { fd: 30, local: "10.0.1.5:15006", peer: "10.0.1.1:33000" },
    upstream: { fd: 31, local: "10.0.1.5:45000", peer: "10.0.0.7:15006" },
    start_ns: 9_500_000_000,
    end_ns: 9_500_400_000,
    wakeups: 5,
    phases: [
      { name: "downstream_read", start_ns: 9_500_000_000, end_ns: 9_500_010_000 },
      { name: "codec", start_ns: 9_500_010_000, end_ns: 9_500_020_000 },
      { name: "filters", start_ns: 9_500_020_000, end_ns: 9_500_030_000 },
      { name: "router", start_ns: 9_500_030_000, end_ns: 9_500_040_000 },
      { name: "upstream_connect", start_ns: 9_500_040_000, end_ns: 9_500_140_000 },
      { name: "upstream_write", start_ns: 9_500_140_000, end_ns: 9_500_150_000 },
      { name: "upstream_wait", start_ns: 9_500_150_000, end_ns: 9_500_380_000 },
      { name: "upstream_read", start_ns: 9_500_380_000, end_ns: 9_500_390_000 },
      { name: "downstream_write", start_ns: 9_500_390_000, end_ns: 9_500_400_000 },
    ],
  },
];

export const GOLDEN_LOADED: LoadedRequest[] = GOLDEN_RECORDS.map((record) => ({ record, pod: record.pod! }));
