// A small stand-in for kube-apiserver on 127.0.0.1: just the Secret and
// MutatingWebhookConfiguration endpoints the self-managed certificate module
// and `hookpoint certs rotate-ca` call, with the API server's optimistic
// concurrency (resourceVersion → 409), AlreadyExists on create, JSON Patch with
// `test` ops, bearer-token checks and Status error bodies. Tests can hold
// requests back and inject failures, with bodies recorded from the real server.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import jsonpatch from "fast-json-patch";

export const TOKEN = "test-token";

/** A Status body the real kube-apiserver sent, byte for byte (test/fixtures/k8s/README.md). */
export function recordedStatus(fixture: string): string {
  return readFileSync(new URL(`../../fixtures/k8s/${fixture}`, import.meta.url), "utf8");
}

/** The real API server's answer to a JSON patch whose `test` op fails (422, no details). */
const PATCH_TEST_FAILED = recordedStatus("patch-test-failed.json");

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };

export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
}

export interface Injection {
  method: string;
  path: RegExp;
  status: number;
  reason: string;
  times: number;
  /** The body to answer with (a recorded Status); default a Status saying "injected <reason>". */
  body?: string;
}

export class FakeApiServer {
  readonly secrets = new Map<string, Obj>();
  readonly webhookConfigs = new Map<string, Obj>();
  readonly requests: LoggedRequest[] = [];
  /** Verb+resource pairs answered 403, e.g. "create secrets". */
  readonly forbidden = new Set<string>();
  readonly injections: Injection[] = [];
  /** When set, GET of a Secret waits for this before answering. */
  secretReadGate: ((path: string) => Promise<void>) | undefined;
  private rv = 100;
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  kubeConfig(token = TOKEN): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: this.url, skipTLSVerify: true }],
      users: [{ name: "webhook", token }],
      contexts: [{ name: "fake", cluster: "fake", user: "webhook" }],
      currentContext: "fake",
    });
    return kc;
  }

  putWebhookConfig(obj: Obj): void {
    this.webhookConfigs.set(obj.metadata.name, { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: this.nextRv() } });
  }

  count(method: string, pathPart: string, status?: number): number {
    return this.requests.filter((r) => r.method === method && r.path.includes(pathPart) && (status === undefined || r.status === status)).length;
  }

  private nextRv(): string {
    this.rv += 1;
    return String(this.rv);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?")[0] ?? "";
    const method = req.method ?? "GET";
    const sendText = (status: number, text: string) => {
      this.requests.push({ method, path, status });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(text);
    };
    const send = (status: number, body: unknown) => sendText(status, JSON.stringify(body));
    const fail = (status: number, reason: string, message: string) =>
      send(status, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code: status });

    /** A JSON patch as the API server applies it: any op that does not apply (a failed `test`) is its bare 422. */
    const jsonPatch = (current: Obj, store: (patched: Obj) => void, raw: string) => {
      if (req.headers["content-type"] !== "application/json-patch+json") {
        return fail(415, "UnsupportedMediaType", `unexpected content type ${String(req.headers["content-type"])}`);
      }
      let patched: Obj;
      try {
        patched = jsonpatch.applyPatch(structuredClone(current), JSON.parse(raw) as jsonpatch.Operation[], true, false).newDocument;
      } catch {
        return sendText(422, PATCH_TEST_FAILED);
      }
      patched.metadata.resourceVersion = this.nextRv();
      store(patched);
      return send(200, patched);
    };

    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks).toString("utf8");

      if (req.headers.authorization !== `Bearer ${TOKEN}`) return fail(401, "Unauthorized", "Unauthorized");

      const injection = this.injections.find((i) => i.times > 0 && i.method === method && i.path.test(path));
      if (injection) {
        injection.times -= 1;
        return injection.body === undefined ? fail(injection.status, injection.reason, `injected ${injection.reason}`) : sendText(injection.status, injection.body);
      }

      const secretRe = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/;
      const mwcRe = /^\/apis\/admissionregistration\.k8s\.io\/v1\/mutatingwebhookconfigurations\/([^/]+)$/;
      let m = secretRe.exec(path);
      if (m) {
        const ns = m[1] ?? "";
        const name = m[2];
        const verb = { GET: "get", POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" }[method] ?? method;
        if (this.forbidden.has(`${verb} secrets`)) {
          return fail(403, "Forbidden", `secrets is forbidden: User "system:serviceaccount:${ns}:hookpoint-webhook" cannot ${verb} resource "secrets" in API group "" in the namespace "${ns}"`);
        }
        const key = `${ns}/${name ?? ""}`;
        if (method === "GET" && name) {
          await this.secretReadGate?.(path);
          const s = this.secrets.get(key);
          return s ? send(200, s) : fail(404, "NotFound", `secrets "${name}" not found`);
        }
        if (method === "POST" && !name) {
          const body = JSON.parse(raw) as Obj;
          const k = `${ns}/${body.metadata.name}`;
          if (this.secrets.has(k)) return fail(409, "AlreadyExists", `secrets "${body.metadata.name}" already exists`);
          if (body.metadata.resourceVersion) return fail(400, "BadRequest", "resourceVersion should not be set on objects to be created");
          const stored = { ...body, metadata: { ...body.metadata, namespace: ns, resourceVersion: this.nextRv() } };
          this.secrets.set(k, stored);
          return send(201, stored);
        }
        if (method === "PUT" && name) {
          const body = JSON.parse(raw) as Obj;
          const current = this.secrets.get(key);
          if (!current) return fail(404, "NotFound", `secrets "${name}" not found`);
          if ((body.type ?? "Opaque") !== (current.type ?? "Opaque")) {
            return fail(422, "Invalid", `Secret "${name}" is invalid: type: Invalid value: "${String(body.type)}": field is immutable`);
          }
          if (body.metadata.resourceVersion !== current.metadata.resourceVersion) {
            return fail(409, "Conflict", `Operation cannot be fulfilled on secrets "${name}": the object has been modified; please apply your changes to the latest version and try again`);
          }
          const stored = { ...body, metadata: { ...body.metadata, namespace: ns, resourceVersion: this.nextRv() } };
          this.secrets.set(key, stored);
          return send(200, stored);
        }
        if (method === "PATCH" && name) {
          const current = this.secrets.get(key);
          if (!current) return fail(404, "NotFound", `secrets "${name}" not found`);
          return jsonPatch(current, (patched) => this.secrets.set(key, patched), raw);
        }
      }
      m = mwcRe.exec(path);
      if (m) {
        const name = m[1] ?? "";
        const current = this.webhookConfigs.get(name);
        if (!current) return fail(404, "NotFound", `mutatingwebhookconfigurations.admissionregistration.k8s.io "${name}" not found`);
        if (method === "GET") return send(200, current);
        if (method === "PATCH") return jsonPatch(current, (patched) => this.webhookConfigs.set(name, patched), raw);
      }
      return fail(404, "NotFound", `the server could not find the requested resource (${method} ${path})`);
    } catch (err) {
      return fail(500, "InternalError", (err as Error).message);
    }
  }
}

/** A MutatingWebhookConfiguration with the two entries of deploy/base, without caBundle. */
export function webhookConfig(name: string, entries = ["namespace.inject.hookpoint.dev", "pod.inject.hookpoint.dev"]): Obj {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name },
    webhooks: entries.map((entry) => ({
      name: entry,
      admissionReviewVersions: ["v1"],
      sideEffects: "None",
      clientConfig: { service: { name: "hookpoint-webhook", namespace: "hookpoint-system", path: "/mutate", port: 443 } },
    })),
  };
}
