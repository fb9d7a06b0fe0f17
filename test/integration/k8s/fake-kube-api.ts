// A small stand-in for kube-apiserver on 127.0.0.1: list (paged) and watch of
// Namespaces and cluster-scoped HookpointPolicies, the policies' status
// subresource, and the failure modes a watcher must survive: HTTP errors on
// list, watch or status writes, "too old resource version" (410, as the API
// server sends it: an ERROR event on the watch, or an HTTP 410), watches
// that end cleanly, stall or end at once, and the whole server going away and
// coming back on the same port. Like the real one it keeps resourceVersions, bumps
// metadata.generation only on spec changes, enforces resourceVersion
// preconditions on updates (409), ends a watch after `timeoutSeconds` and
// sets the kubernetes.io/metadata.name label on namespaces.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

export const TOKEN = "fake-token";

type Resource = "namespaces" | "hookpointpolicies";
type Obj = { apiVersion: string; kind: string; metadata: Record<string, unknown> & { name: string; resourceVersion?: string; generation?: number }; [k: string]: unknown };

interface Event {
  rv: number;
  resource: Resource;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: Obj;
}

interface Watcher {
  resource: Resource;
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

/** A canned failure for the next `times` requests matching method, resource and kind. */
export interface Fault {
  method: string;
  resource: Resource;
  on: "list" | "watch" | "status";
  status: number;
  times: number;
}

export class FakeKubeApi {
  readonly namespaces = new Map<string, Obj>();
  readonly policies = new Map<string, Obj>();
  readonly requests: LoggedRequest[] = [];
  /** Bodies of successful status writes, in order. */
  readonly statusWrites: { name: string; status: unknown }[] = [];
  readonly faults: Fault[] = [];
  /** Answer watches with HTTP 410 instead of an ERROR event when their resourceVersion is too old. */
  goneAsHttpStatus = false;
  /** Status fields the CRD schema does not declare are pruned, as the API server would. */
  prunedStatusFields: string[] = [];
  /** false: HookpointPolicies are not served (their paths answer 404): the CRD is not installed, or not served yet. */
  servePolicies = true;
  /** Whether the HookpointPolicy CRD object exists (GET of the CustomResourceDefinition); not served with it = just after a restart. */
  crdStored = true;
  /** The GET of the HookpointPolicy CRD gets no answer at all (an API server that hangs). */
  crdSilent = false;
  /** The MutatingWebhookConfigurations GET answers with (by name; others are 404) and the list holds. */
  webhookConfigurations = new Map<string, unknown>();
  /** The list of MutatingWebhookConfigurations is refused with 403 (a user who may only get zz-hookpoint). */
  forbidWebhookList = false;
  /** A dead connection: new watches get no answer at all, open ones fall silent and never end. */
  stallWatches = false;
  /** Every authenticated request is refused with 403 (a user whose RBAC allows nothing). */
  forbidAll = false;
  /** Watches are answered 200 and ended at once (a misbehaving proxy). */
  endWatchesAtOnce = false;
  private rv = 1000;
  private nextUid = 1;
  /** Watches from a resourceVersion below this are "too old" (etcd compaction). */
  private oldestRv = 0;
  private history: Event[] = [];
  private watchers = new Set<Watcher>();
  private sockets = new Set<Socket>();
  private server: Server | undefined;
  private port = 0;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once("error", reject);
      this.server?.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  /** Close the listener and every connection: the API server is gone. */
  async stop(): Promise<void> {
    for (const w of this.watchers) clearTimeout(w.timer);
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  kubeConfig(token = TOKEN): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: this.url, skipTLSVerify: true }],
      users: [{ name: "tester", token }],
      contexts: [{ name: "fake", cluster: "fake", user: "tester" }],
      currentContext: "fake",
    });
    return kc;
  }

  /** The same, as a kubeconfig file's text (for the CLI). */
  kubeConfigYaml(): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: fake",
      "  cluster:",
      `    server: ${this.url}`,
      "    insecure-skip-tls-verify: true",
      "users:",
      "- name: tester",
      "  user:",
      `    token: ${TOKEN}`,
      "contexts:",
      "- name: fake",
      "  context:",
      "    cluster: fake",
      "    user: tester",
      "current-context: fake",
      "",
    ].join("\n");
  }

  setNamespace(name: string, labels: Record<string, string> = {}): void {
    const prev = this.namespaces.get(name);
    const obj: Obj = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, uid: `uid-ns-${name}`, labels: { ...labels, "kubernetes.io/metadata.name": name }, managedFields: [{ manager: "kubectl", operation: "Update" }] },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    };
    this.store("namespaces", this.namespaces, obj, prev ? "MODIFIED" : "ADDED");
  }

  /** Create or update a policy's spec (generation +1 when the spec changes), keeping its status. */
  applyPolicy(name: string, spec: unknown, status?: unknown): Obj {
    const prev = this.policies.get(name);
    const same = prev && JSON.stringify(prev.spec) === JSON.stringify(spec);
    const generation = prev ? (prev.metadata.generation ?? 1) + (same ? 0 : 1) : 1;
    const obj: Obj = {
      apiVersion: "hookpoint.dev/v1alpha1",
      kind: "HookpointPolicy",
      // A new object (created again after a delete) gets a new uid, as in Kubernetes.
      metadata: { name, uid: prev ? prev.metadata.uid : `uid-pol-${name}-${this.nextUid++}`, generation },
      spec,
    };
    const keptStatus = status ?? prev?.status;
    if (keptStatus !== undefined) obj.status = keptStatus;
    return this.store("hookpointpolicies", this.policies, obj, prev ? "MODIFIED" : "ADDED");
  }

  deletePolicy(name: string): void {
    const prev = this.policies.get(name);
    if (!prev) return;
    this.policies.delete(name);
    this.emit("hookpointpolicies", "DELETED", { ...prev, metadata: { ...prev.metadata, resourceVersion: this.nextRv() } });
  }

  /** Another writer (kubectl, another hookpoint version) replaces a policy's status. */
  overwriteStatus(name: string, status: unknown): void {
    const current = this.policies.get(name);
    if (!current) throw new Error(`no policy ${name}`);
    this.store("hookpointpolicies", this.policies, { ...structuredClone(current), status: structuredClone(status) }, "MODIFIED");
  }

  /** etcd compaction: every resourceVersion so far becomes too old to watch from. */
  compact(): void {
    this.oldestRv = this.rv;
    this.history = [];
  }

  /** End every open watch normally (as at its timeout). */
  closeWatches(): void {
    for (const w of [...this.watchers]) this.endWatch(w);
  }

  count(filter: { method?: string; path?: string; watch?: boolean; status?: number }): number {
    return this.requests.filter(
      (r) =>
        (filter.method === undefined || r.method === filter.method) &&
        (filter.path === undefined || r.path === filter.path) &&
        (filter.watch === undefined || (r.query.watch === "true") === filter.watch) &&
        (filter.status === undefined || r.status === filter.status),
    ).length;
  }

  private nextRv(): string {
    this.rv += 1;
    return String(this.rv);
  }

  private store(resource: Resource, map: Map<string, Obj>, obj: Obj, type: Event["type"]): Obj {
    obj.metadata.resourceVersion = this.nextRv();
    map.set(obj.metadata.name, obj);
    this.emit(resource, type, obj);
    return obj;
  }

  private emit(resource: Resource, type: Event["type"], object: Obj): void {
    const event: Event = { rv: Number(object.metadata.resourceVersion), resource, type, object: structuredClone(object) };
    this.history.push(event);
    for (const w of this.watchers) if (w.resource === resource) this.line(w.res, { type, object: event.object });
  }

  private line(res: ServerResponse, data: unknown): void {
    if (!res.writableEnded && !this.stallWatches) res.write(JSON.stringify(data) + "\n");
  }

  private endWatch(w: Watcher): void {
    clearTimeout(w.timer);
    this.watchers.delete(w);
    if (!w.res.writableEnded) w.res.end();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams.entries());
    const method = req.method ?? "GET";
    const entry: LoggedRequest = { method, path, query, status: 0 };
    this.requests.push(entry);
    const send = (status: number, body: unknown) => {
      entry.status = status;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, reason: string, message: string) =>
      send(status, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code: status });

    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return fail(401, "Unauthorized", "Unauthorized");
    if (this.forbidAll) return fail(403, "Forbidden", `forbidden: User "tester" cannot ${method.toLowerCase()} ${path}`);

    if (path === "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/hookpointpolicies.hookpoint.dev" && method === "GET") {
      if (this.crdSilent) return;
      return this.crdStored
        ? send(200, { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "hookpointpolicies.hookpoint.dev" }, spec: { group: "hookpoint.dev", names: { plural: "hookpointpolicies", kind: "HookpointPolicy" }, scope: "Cluster", versions: [] } })
        : fail(404, "NotFound", 'customresourcedefinitions.apiextensions.k8s.io "hookpointpolicies.hookpoint.dev" not found');
    }
    if (path === "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations" && method === "GET") {
      if (this.forbidWebhookList) {
        return fail(403, "Forbidden", 'mutatingwebhookconfigurations.admissionregistration.k8s.io is forbidden: User "tester" cannot list resource "mutatingwebhookconfigurations" in API group "admissionregistration.k8s.io" at the cluster scope');
      }
      return send(200, { apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfigurationList", metadata: { resourceVersion: String(this.rv) }, items: [...this.webhookConfigurations.values()] });
    }
    const mwc = /^\/apis\/admissionregistration\.k8s\.io\/v1\/mutatingwebhookconfigurations\/([^/]+)$/.exec(path);
    if (mwc && method === "GET") {
      const config = this.webhookConfigurations.get(mwc[1] as string);
      return config ? send(200, config) : fail(404, "NotFound", `mutatingwebhookconfigurations.admissionregistration.k8s.io "${mwc[1]}" not found`);
    }

    let resource: Resource | undefined;
    let name: string | undefined;
    let sub: string | undefined;
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/.exec(path))) [resource, name] = ["namespaces", m[1]];
    else if ((m = /^\/apis\/hookpoint\.dev\/v1alpha1\/hookpointpolicies(?:\/([^/]+)(?:\/(status))?)?$/.exec(path))) [resource, name, sub] = ["hookpointpolicies", m[1], m[2]];
    if (!resource || (resource === "hookpointpolicies" && !this.servePolicies)) return fail(404, "NotFound", "the server could not find the requested resource");

    const kind = sub === "status" ? "status" : query.watch === "true" ? "watch" : "list";
    const fault = this.faults.find((f) => f.times > 0 && f.method === method && f.resource === resource && f.on === kind);
    if (fault) {
      fault.times -= 1;
      return fail(fault.status, fault.status === 403 ? "Forbidden" : "InternalError", `injected failure ${fault.status}`);
    }

    const map = resource === "namespaces" ? this.namespaces : this.policies;
    if (method === "GET" && !name && kind === "watch") return this.watch(resource, query, res, entry);
    if (method === "GET" && !name) return this.list(resource, map, query, send, fail);
    if (method === "PUT" && name && sub === "status" && resource === "hookpointpolicies") {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Obj;
      const current = this.policies.get(name);
      if (!current) return fail(404, "NotFound", `hookpointpolicies.hookpoint.dev "${name}" not found`);
      if (body.metadata?.resourceVersion !== current.metadata.resourceVersion) {
        return fail(409, "Conflict", `Operation cannot be fulfilled on hookpointpolicies.hookpoint.dev "${name}": the object has been modified; please apply your changes to the latest version and try again`);
      }
      const status = structuredClone(body.status) as Record<string, unknown>;
      for (const f of this.prunedStatusFields) delete status[f];
      this.statusWrites.push({ name, status });
      // The status subresource ignores everything but status, and never bumps generation.
      const next: Obj = { ...structuredClone(current), status };
      return send(200, this.store("hookpointpolicies", this.policies, next, "MODIFIED"));
    }
    return fail(405, "MethodNotAllowed", `${method} ${path} is not supported by the fake API server`);
  }

  private list(
    resource: Resource,
    map: Map<string, Obj>,
    query: Record<string, string>,
    send: (status: number, body: unknown) => void,
    fail: (status: number, reason: string, message: string) => void,
  ): void {
    const limit = query.limit ? Number(query.limit) : Infinity;
    let start = 0;
    let listRv = String(this.rv);
    if (query.continue) {
      const token = JSON.parse(Buffer.from(query.continue, "base64").toString("utf8")) as { rv: string; start: number };
      if (Number(token.rv) < this.oldestRv) return fail(410, "Expired", "The provided continue parameter is too old to display a consistent list result.");
      start = token.start;
      listRv = token.rv;
    }
    const all = [...map.values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    const items = all.slice(start, start + limit);
    const metadata: Record<string, string> = { resourceVersion: listRv };
    if (start + items.length < all.length) metadata.continue = Buffer.from(JSON.stringify({ rv: listRv, start: start + items.length })).toString("base64");
    const kind = resource === "namespaces" ? "NamespaceList" : "HookpointPolicyList";
    // Like the API server, list items of built-in types carry no apiVersion/kind; custom resources do.
    const out = resource === "namespaces" ? items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest) : items;
    send(200, { apiVersion: resource === "namespaces" ? "v1" : "hookpoint.dev/v1alpha1", kind, metadata, items: out });
  }

  private watch(resource: Resource, query: Record<string, string>, res: ServerResponse, entry: LoggedRequest): void {
    if (this.stallWatches) return; // never answered; the socket is destroyed by stop()
    if (this.endWatchesAtOnce) {
      entry.status = 200;
      res.writeHead(200, { "content-type": "application/json" });
      res.end();
      return;
    }
    const from = Number(query.resourceVersion || "0");
    const tooOld = from > 0 && from < this.oldestRv;
    if (tooOld && this.goneAsHttpStatus) {
      entry.status = 410;
      res.writeHead(410, { "content-type": "application/json" });
      res.end(JSON.stringify(goneStatus(this.oldestRv)));
      return;
    }
    entry.status = 200;
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders();
    if (tooOld) {
      this.line(res, { type: "ERROR", object: goneStatus(this.oldestRv) });
      res.end();
      return;
    }
    for (const e of this.history) if (e.resource === resource && e.rv > from) this.line(res, { type: e.type, object: e.object });
    const seconds = Number(query.timeoutSeconds || "1800");
    const w: Watcher = {
      resource,
      res,
      timer: setTimeout(() => {
        if (!this.stallWatches) this.endWatch(w);
      }, seconds * 1000),
    };
    this.watchers.add(w);
    res.on("close", () => {
      clearTimeout(w.timer);
      this.watchers.delete(w);
    });
  }
}

function goneStatus(oldest: number) {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `too old resource version: (${oldest})`, reason: "Expired", code: 410 };
}
