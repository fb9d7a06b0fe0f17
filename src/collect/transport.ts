// How `hookpoint status` and `collect` reach an agent's HTTP port: an interface, so the
// commands go through the API server's pod proxy and the benchmark straight to loopback.
import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";

export interface AgentTarget {
  namespace: string;
  pod: string;
  /** The agent's metrics port in the pod. */
  port: number;
}

export interface AgentResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Must be read to the end or destroyed. */
  body: Readable;
}

export interface AgentTransport {
  /** GET `path` (with its query) on the agent; rejects on network failure or timeout. */
  get(target: AgentTarget, path: string, headers?: Record<string, string>): Promise<AgentResponse>;
  /** Closes kept-alive connections. */
  close(): void;
}

/** The whole body as text (bounded: an agent's JSON answers are small). */
export async function readText(res: AgentResponse, limit = 4 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    n += (c as Buffer).length;
    if (n > limit) {
      res.body.destroy();
      throw new Error(`answer larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
