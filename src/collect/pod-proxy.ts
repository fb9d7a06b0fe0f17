// Requests to a pod's port through the API server's pod proxy
// (`/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH`, RBAC `get` on `pods/proxy`), with the
// kubeconfig's credentials, over a bounded pool of kept-alive connections. Range and
// If-Range headers pass through the proxy, and so do ETag and Content-Range.
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import type { AgentResponse, AgentTarget, AgentTransport } from "./transport.js";

export interface PodProxyOptions {
  /** Connections to the API server at once. */
  maxSockets: number;
  /** A request whose connection is silent this long fails. */
  idleTimeoutMs: number;
}

export function podProxyPath(t: AgentTarget, path: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.pod)}:${t.port}/proxy${path}`;
}

export function podProxyTransport(kc: KubeConfig, opts: PodProxyOptions): AgentTransport {
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new Error("the kubeconfig has no current cluster");
  const base = new URL(cluster.server);
  const secure = base.protocol === "https:";
  const agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets: opts.maxSockets }) : new HttpAgent({ keepAlive: true, maxSockets: opts.maxSockets });
  const prefix = base.pathname.replace(/\/$/, "");
  return {
    async get(target, path, headers = {}) {
      const options: RequestOptions = {
        method: "GET",
        hostname: base.hostname,
        port: base.port,
        path: prefix + podProxyPath(target, path),
        headers: { ...headers },
      };
      await kc.applyToHTTPSOptions(options);
      // The options carry the credentials (CA, client certificate, token); our agent pools the
      // connections. A cluster behind an HTTP(S) or SOCKS proxy keeps the client's proxy agent.
      if (!cluster.proxyUrl) options.agent = agent;
      return send(secure, options, opts.idleTimeoutMs, `${target.namespace}/${target.pod}`);
    },
    close() {
      agent.destroy();
    },
  };
}

/** One GET; the response's body is handed over unread. */
export function send(secure: boolean, options: RequestOptions, idleTimeoutMs: number, what: string): Promise<AgentResponse> {
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(options, (res) => {
      res.setTimeout(idleTimeoutMs, () => res.destroy(new Error(`${what}: no data for ${idleTimeoutMs / 1000} s`)));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`${what}: no answer within ${idleTimeoutMs / 1000} s`)));
    req.on("error", reject);
    req.end();
  });
}
