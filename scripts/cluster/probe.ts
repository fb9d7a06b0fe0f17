// Health probes over mutual TLS: etcd's /health and kube-apiserver's /readyz.
import { request } from "node:https";

export interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

export interface ProbeResult {
  status: number;
  body: string;
}

/** One GET; rejects on connection errors and after `timeoutMs`. */
export function httpsGet(url: string, tls: ClientTls, timeoutMs = 2_000): Promise<ProbeResult> {
  return new Promise((done, fail) => {
    const req = request(url, { method: "GET", ca: tls.ca, cert: tls.cert, key: tls.key, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", fail);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on("error", fail);
    req.end();
  });
}

/** etcd answers {"health":"true",...} once it has a leader and serves requests. */
export async function etcdHealthy(port: number, tls: ClientTls): Promise<boolean> {
  try {
    const r = await httpsGet(`https://127.0.0.1:${port}/health`, tls);
    return r.status === 200 && (JSON.parse(r.body) as { health?: string }).health === "true";
  } catch {
    return false;
  }
}

/** /readyz is 200 once etcd is reachable and every post-start hook (RBAC bootstrap, ...) has run. */
export async function apiserverReady(port: number, tls: ClientTls): Promise<boolean> {
  try {
    return (await httpsGet(`https://127.0.0.1:${port}/readyz`, tls)).status === 200;
  } catch {
    return false;
  }
}
