// Raw requests to the API server with a KubeConfig's credentials. client-node
// hides the response headers, and the e2e tests need them: the API server passes
// an admission webhook's warnings to the client as `Warning: 299 - "..."` headers,
// which is exactly what kubectl prints.
import { request as httpsRequest, type RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

export interface KubeResponse<T = unknown> {
  status: number;
  /** Parsed JSON (a metav1.Status on errors), or the raw text when it is not JSON. */
  body: T;
  /** The Warning headers' texts, in order, unquoted. */
  warnings: string[];
}

export interface KubeRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  contentType?: string;
}

/** `299 - "text"` (RFC 7234 warn-agent "-"; the text is a quoted-string) → text. */
export function parseWarning(value: string): string {
  const m = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(value);
  if (m?.[1] === undefined) throw new Error(`unexpected Warning header: ${value}`);
  return m[1].replace(/\\(.)/g, "$1");
}

export async function kubeRequest<T = unknown>(kc: KubeConfig, req: KubeRequest): Promise<KubeResponse<T>> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the kubeconfig has no current cluster");
  const url = new URL(req.path, server);
  for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
  const payload = req.body === undefined ? undefined : Buffer.from(typeof req.body === "string" ? req.body : JSON.stringify(req.body));
  const options: RequestOptions = {
    method: req.method,
    hostname: url.hostname,
    port: url.port,
    path: `${url.pathname}${url.search}`,
    headers: {
      Accept: "application/json",
      ...(payload ? { "Content-Type": req.contentType ?? "application/json", "Content-Length": String(payload.length) } : {}),
    },
    timeout: 30_000,
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise<KubeResponse<T>>((resolve, reject) => {
    const r = httpsRequest(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        const warnings: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (res.rawHeaders[i]?.toLowerCase() === "warning") warnings.push(parseWarning(res.rawHeaders[i + 1] ?? ""));
        }
        resolve({ status: res.statusCode ?? 0, body: body as T, warnings });
      });
    });
    r.on("timeout", () => r.destroy(new Error(`${req.method} ${url.pathname}: no answer from the API server within 30 s`)));
    r.on("error", reject);
    r.end(payload);
  });
}

/** The metav1.Status of a refused request, as `refusal()` gives it for client-node calls. */
export function statusOf(res: KubeResponse): { code: number; reason: string; message: string } {
  const s = (typeof res.body === "object" && res.body !== null ? res.body : {}) as { reason?: unknown; message?: unknown };
  return { code: res.status, reason: typeof s.reason === "string" ? s.reason : "", message: typeof s.message === "string" ? s.message : String(res.body) };
}

/** Throws with the API server's message unless the answer is a 2xx. */
export function ok<T>(res: KubeResponse<T>, what: string): KubeResponse<T> {
  if (res.status >= 200 && res.status < 300) return res;
  const s = statusOf(res);
  throw new Error(`${what}: HTTP ${s.code} ${s.reason}: ${s.message}`);
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

const discovery = new Map<string, ApiResourceList>();

/** The REST path of an object (discovery, cached per group/version; retried while a new CRD's kinds appear). */
export async function objectPath(kc: KubeConfig, obj: ObjectRef): Promise<string> {
  const base = obj.apiVersion.includes("/") ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  for (let attempt = 0; ; attempt++) {
    let list = discovery.get(base);
    if (!list) {
      const res = await kubeRequest<ApiResourceList>(kc, { method: "GET", path: base });
      if (res.status === 200) {
        list = res.body;
        discovery.set(base, list);
      }
    }
    const resource = list?.resources.find((r) => r.kind === obj.kind && !r.name.includes("/"));
    if (resource) {
      const ns = resource.namespaced ? `/namespaces/${obj.metadata.namespace ?? "default"}` : "";
      return `${base}${ns}/${resource.name}/${obj.metadata.name}`;
    }
    discovery.delete(base);
    if (attempt >= 50) throw new Error(`the API server serves no kind ${obj.kind} in ${obj.apiVersion}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const FIELD_MANAGER = "hookpoint-e2e";

/** Server-side apply (kubectl apply --server-side --force-conflicts [--dry-run=server]). */
export async function apply<T = unknown>(kc: KubeConfig, obj: ObjectRef, opts: { dryRun?: boolean } = {}): Promise<KubeResponse<T>> {
  return kubeRequest<T>(kc, {
    method: "PATCH",
    path: await objectPath(kc, obj),
    query: { fieldManager: FIELD_MANAGER, force: "true", ...(opts.dryRun ? { dryRun: "All" } : {}) },
    contentType: "application/apply-patch+yaml",
    body: obj,
  });
}

/** Deletes an object; a missing one is fine. */
export async function remove(kc: KubeConfig, obj: ObjectRef): Promise<void> {
  const res = await kubeRequest(kc, { method: "DELETE", path: await objectPath(kc, obj) });
  if (res.status !== 404) ok(res, `delete ${obj.kind} ${obj.metadata.name}`);
}
