// A test-only mutating webhook that plays Istio's sidecar injector: it adds
// istio-init and istio-proxy (last of spec.containers), Istio's volumes, labels
// and the sidecar.istio.io/status annotation, taken from the classic-sidecar
// fixture, and leaves a pod that already has that annotation alone (as Istio
// does on reinvocation). It serves one path per configuration name, and injects
// only on the path of the configuration currently under test, so a stale
// configuration still cached by the API server cannot inject.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { Container, Pod, Volume } from "../../../src/admission/pod.js";
import { loadPod } from "../../support/pods.js";

const ISTIO_STATUS = "sidecar.istio.io/status";

export interface InjectorCall {
  path: string;
  pod: string;
  injected: boolean;
}

export class FakeIstioInjector {
  private server: Server | undefined;
  /** Path whose calls inject; calls on other paths are answered without a patch. */
  activePath = "";
  readonly calls: InjectorCall[] = [];
  private readonly template = loadPod("classic-sidecar");

  constructor(private readonly tls: { certFile: string; keyFile: string }) {}

  async start(): Promise<number> {
    const server = createServer({ cert: readFileSync(this.tls.certFile), key: readFileSync(this.tls.keyFile) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        let answer: unknown;
        try {
          // The API server adds ?timeout=10s to the configured URL.
          answer = this.review(new URL(req.url ?? "/", "https://127.0.0.1").pathname, JSON.parse(Buffer.concat(chunks).toString("utf8")) as Review);
        } catch (e) {
          res.writeHead(400, { "Content-Type": "text/plain" }).end(String(e));
          return;
        }
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(answer));
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private review(path: string, review: Review): unknown {
    const pod = review.request.object;
    const name = pod.metadata?.name ?? pod.metadata?.generateName ?? "";
    const skip = path !== this.activePath || pod.metadata?.annotations?.[ISTIO_STATUS] !== undefined;
    this.calls.push({ path, pod: name, injected: !skip });
    const response: Record<string, unknown> = { uid: review.request.uid, allowed: true };
    if (!skip) {
      response.patchType = "JSONPatch";
      response.patch = Buffer.from(JSON.stringify(this.patch(pod))).toString("base64");
    }
    return { apiVersion: review.apiVersion, kind: review.kind, response };
  }

  /** Istio's injection as JSON Patch: appends what the template adds, merges labels and annotations. */
  private patch(pod: Pod): unknown[] {
    const t = this.template;
    const init = (t.spec.initContainers ?? []).filter((c) => c.name === "istio-init");
    const proxy = t.spec.containers.filter((c) => c.name === "istio-proxy");
    const volumes = (t.spec.volumes ?? []).filter((v) => (JSON.parse(t.metadata?.annotations?.[ISTIO_STATUS] ?? "{}") as { volumes: string[] }).volumes.includes(v.name));
    const ops: unknown[] = [];
    const appendAll = (path: string, current: unknown[] | undefined, items: (Container | Volume)[]) => {
      if (current === undefined) ops.push({ op: "add", path, value: items });
      else for (const item of items) ops.push({ op: "add", path: `${path}/-`, value: item });
    };
    appendAll("/spec/initContainers", pod.spec.initContainers, init);
    appendAll("/spec/containers", pod.spec.containers, proxy);
    appendAll("/spec/volumes", pod.spec.volumes, volumes);
    const labels = { "security.istio.io/tlsMode": "istio", "service.istio.io/canonical-name": pod.metadata?.labels?.app ?? "unknown", "service.istio.io/canonical-revision": "latest" };
    const annotations = { [ISTIO_STATUS]: t.metadata?.annotations?.[ISTIO_STATUS] ?? "", "istio.io/rev": "default" };
    ops.push({ op: "add", path: "/metadata/labels", value: { ...(pod.metadata?.labels ?? {}), ...labels } });
    ops.push({ op: "add", path: "/metadata/annotations", value: { ...(pod.metadata?.annotations ?? {}), ...annotations } });
    return ops;
  }
}

interface Review {
  apiVersion: string;
  kind: string;
  request: { uid: string; object: Pod };
}
