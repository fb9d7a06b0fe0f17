// The records endpoints' own series, in the agent's registry: what collectors fetched.
import { Counter, type Registry } from "prom-client";
import type { RecordsOptions } from "./routes.js";

export function recordsMetrics(registry: Registry): Pick<RecordsOptions, "onServed" | "onAnswered"> {
  const bytes = new Counter({ name: "hookpoint_agent_records_served_bytes_total", help: "bytes of record files sent by the records endpoints", registers: [registry] });
  const requests = new Counter({ name: "hookpoint_agent_records_requests_total", help: "requests to the records endpoints, by status code", labelNames: ["code"], registers: [registry] });
  return {
    onServed: (n) => bytes.inc(n),
    onAnswered: (code) => requests.inc({ code: String(code) }),
  };
}
