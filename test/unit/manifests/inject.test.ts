// Inject over manifests: multi-document YAML/JSON in, documents back in order.
import { readFileSync } from "node:fs";
import { diffLines } from "diff";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { InputError } from "../../../src/cli/errors.js";
import { reviewManifests, type InjectContext } from "../../../src/manifests/inject.js";
import { uninjectManifests } from "../../../src/manifests/uninject.js";
import { parseNamespaces, parsePolicies } from "../../../src/policy/files.js";
import { buildSnapshot } from "../../../src/policy/snapshot.js";
import { expectGoldenText } from "../../support/golden.js";
import { settings, snapshot } from "../../support/pods.js";

/** What `hookpoint inject` makes of one input: the rewritten text and each resource's outcome. */
function injectManifests(text: string, file: string, ctx: InjectContext): { output: string; resources: ReturnType<typeof reviewManifests>["resources"] } {
  const reviewed = reviewManifests(text, file, ctx);
  return { output: reviewed.render(), resources: reviewed.resources };
}

const example = (f: string) => readFileSync(new URL(`../../../examples/${f}`, import.meta.url), "utf8");
const exampleSnapshot = () =>
  buildSnapshot(parseNamespaces(example("namespaces.yaml"), "namespaces.yaml"), parsePolicies(example("policy.yaml"), "policy.yaml", settings.knownScripts), settings);
const ctx = (s = exampleSnapshot()) => ({ snapshot: s, settings, defaultNamespace: "default", force: false });

describe("inject over the bundled example", () => {
  const text = example("bookinfo.yaml");
  const out = injectManifests(text, "bookinfo.yaml", ctx());

  it("says what happened to every resource", () => {
    expect(out.resources.map((r) => [r.resource.kind, r.namespace, r.resource.name, r.outcome.status])).toEqual([
      ["Service", "bookinfo", "reviews", "passed-through"],
      ["Deployment", "bookinfo", "reviews-v1", "injected"],
      ["Deployment", "perf", "loadgen", "injected"],
      ["Deployment", "payments", "ledger", "skipped"],
    ]);
  });
  it("rewrites only the changed nodes: every other line keeps its bytes, comments included", () => {
    const inDocs = parseAllDocuments(text) as ReturnType<typeof parseAllDocuments> & unknown[];
    const outDocs = parseAllDocuments(out.output) as unknown[];
    expect(outDocs).toHaveLength(inDocs.length);
    // The Service and the skipped Deployment are unchanged, text included.
    expect(out.output.startsWith(text.slice(0, text.indexOf("---\napiVersion: apps/v1")))).toBe(true);
    expect(out.output.endsWith(text.slice(text.lastIndexOf("---\n")))).toBe(true);
    // A line diff removes only the lines holding the values the mutation replaces.
    const replaced = diffLines(text, out.output)
      .filter((part) => part.removed)
      .flatMap((part) => part.value.split("\n").filter((l) => l !== "").map((l) => l.trim()));
    expect(replaced).toEqual([
      "labels: { app: reviews, version: v1 }",
      'args: [istio-iptables, -p, "15001", -z, "15006", -u, "1337", -m, REDIRECT, -i, "*", -x, "", -b, "*"]',
      "image: docker.io/istio/proxyv2:1.28.0",
      "allowPrivilegeEscalation: false",
      "capabilities: { drop: [ALL] }",
      "privileged: false",
      "runAsNonRoot: true",
      "runAsUser: 1337",
      "labels: { app: loadgen }",
      "image: auto",
    ]);
    expect(out.output).toContain("- name: istio-proxy  # Istio's sidecar: hookpoint rewrites this one only");
    expectGoldenText(new URL("./golden/bookinfo-injected.yaml", import.meta.url).pathname, out.output);
  });
  it("injecting the output again changes nothing", () => {
    const again = injectManifests(out.output, "out.yaml", ctx());
    expect(again.output).toBe(out.output);
    expect(again.resources.map((r) => r.outcome.status)).toEqual(["passed-through", "unchanged", "unchanged", "skipped"]);
  });
});

describe("formats and kinds", () => {
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "web" }, spec: { containers: [{ name: "app", image: "a" }, { name: "istio-proxy", image: "auto" }] } };
  const s = snapshot({ web: { "hookpoint.dev/inject": "enabled" } });

  it("JSON in, JSON out, with the input's indentation", () => {
    const out = injectManifests(JSON.stringify(pod, null, 4), "pod.json", ctx(s));
    expect(out.output.startsWith('{\n    "apiVersion": "v1"')).toBe(true);
    expect(JSON.parse(out.output).spec.containers[1].command).toEqual(["hookpoint", "agent", "--proxy-uid", "1337", "--proxy-gid", "1337", "--", "/usr/local/bin/pilot-agent"]);
  });
  it("a List's items are each reviewed", () => {
    const list = { apiVersion: "v1", kind: "List", items: [pod, { ...pod, metadata: { name: "q", namespace: "other" } }] };
    const out = injectManifests(JSON.stringify(list), "list.json", ctx(s));
    expect(out.resources.map((r) => [r.resource.name, r.resource.item, r.outcome.status])).toEqual([["p", 0, "injected"], ["q", 1, "skipped"]]);
    const items = JSON.parse(out.output).items;
    expect(items[0].metadata.labels).toEqual({ "hookpoint.dev/injected": "true" });
    expect(items[1]).toEqual({ ...pod, metadata: { name: "q", namespace: "other" } });
  });
  it("documents that are not workloads pass through; an untouched JSON file is byte-identical", () => {
    const cm = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"}}  \n';
    expect(injectManifests(cm, "cm.json", ctx(s)).output).toBe(cm);
  });
  it("a negative terminationGracePeriodSeconds is injected as the webhook does, telling the agent the 1 s the API server turns it into", () => {
    const yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: web}\nspec:\n  template:\n    spec:\n      terminationGracePeriodSeconds: -5\n      containers: [{name: istio-proxy, image: auto}]\n";
    const out = injectManifests(yaml, "d.yaml", ctx(s));
    expect(out.resources.map((r) => [r.outcome.status, r.outcome.status === "injected" ? r.outcome.review.warnings : undefined])).toEqual([["injected", []]]);
    const spec = (parseAllDocuments(out.output)[0]?.toJS() as { spec: { template: { spec: { terminationGracePeriodSeconds: number; containers: { env: unknown[] }[] } } } }).spec.template.spec;
    // The template keeps the user's value: the API server makes each pod's 1 (it warns on the template).
    expect(spec.terminationGracePeriodSeconds).toBe(-5);
    expect(spec.containers[0]?.env).toContainEqual({ name: "HOOKPOINT_TERMINATION_GRACE_SECONDS", value: "1" });
  });
  it("--force injects without opt-in", () => {
    const out = injectManifests(JSON.stringify({ ...pod, metadata: { name: "p", namespace: "elsewhere" } }), "p.json", { ...ctx(s), force: true });
    const first = out.resources[0]?.outcome;
    if (first?.status !== "injected") throw new Error(`not injected: ${first?.status}`);
    expect(first.review.decision).toMatchObject({ inject: true, decidedBy: "force" });
    // It says which decision it overrode.
    expect(first.overrode?.message).toBe("neither the pod, its namespace nor a policy opted in");
  });
});

describe("bad input names file, document and field", () => {
  const cases: Array<[string, string, string]> = [
    ["malformed YAML", "kind: Pod\nmetadata: {name: [\n", "in.yaml: document 1: malformed YAML at line 3, column 1:"],
    ["malformed JSON", '{"kind": "Pod",', "in.yaml: document 1: malformed JSON at line 1, column 16: Expected double-quoted property name"],
    ["malformed JSON, on its line and column", '{\n  "kind": "Pod"\n  "metadata": {}\n}\n', "in.yaml: document 1: malformed JSON at line 3, column 3: Expected ',' or '}' after property value"],
    // A stream of JSON objects: each object is a document, and the one that is wrong is named.
    ["a stream of JSON objects whose second is cut short", '{"kind":"ConfigMap"}\n{"kind":"Pod","spec":\n', "in.yaml: document 2: malformed JSON at line 2, column 22: Unexpected end of JSON input"],
    ["a stream of JSON objects whose third lacks a comma", '{"kind":"ConfigMap"}{"kind":"ConfigMap"}\n{\n  "kind": "Pod"\n  "spec": {}\n}\n', "in.yaml: document 3: malformed JSON at line 4, column 3: Expected ',' or '}' after property value"],
    [
      "a stream of JSON objects with a stray closing brace",
      '{"kind":"ConfigMap"}}\n{"kind":"ConfigMap"}\n',
      `in.yaml: document 2: malformed JSON (the document from line 1, column 21): Unexpected token '}', "}" is not valid JSON`,
    ],
    ["a stream of JSON objects with a value that is no object", '{"kind":"ConfigMap"}\n"cm"\n', "in.yaml: document 2: must be an object (a Kubernetes resource)"],
    // A --- line makes it a YAML stream: YAML's complaint, on the document YAML sees.
    ["JSON documents separated by ---, the second cut short", '{"kind":"ConfigMap"}\n---\n{"kind":\n', "in.yaml: document 2: malformed YAML at line 3, column 9: Flow map must end with a }"],
    ["document without kind", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: v1\nmetadata: {name: x}\n", "in.yaml: document 2: kind: missing"],
    ["pod template without containers", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec: {containers: []}\n", "in.yaml: document 1: spec.template.spec.containers: missing or empty"],
    ["deployment without template", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n", "in.yaml: document 1: spec.template: missing"],
    ["cronjob without jobTemplate spec", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate: {}\n", "in.yaml: document 1: spec.jobTemplate.spec: missing"],
    ["container without name", "kind: Pod\nspec:\n  containers:\n    - image: x\n", "in.yaml: document 1: spec.containers[0].name: missing"],
    ["list item without kind", '{"kind":"List","items":[{"kind":"Pod","spec":{"containers":[{"name":"a"}]}},{"metadata":{}}]}', "in.yaml: document 1: items[1].kind: missing"],
    ["a scalar document", "just a string\n", "in.yaml: document 1: must be an object (a Kubernetes resource)"],
    ["duplicate keys", "kind: Pod\nkind: Pod\n", "in.yaml: document 1: malformed YAML at line 2, column 1: Map keys must be unique"],
    [
      "a key that is a mapping (an unrendered template)",
      "kind: Service\nmetadata: {name: s}\n---\nkind: Pod\nmetadata:\n  labels: {{ .Values.labels }}\n",
      "in.yaml: document 2: malformed YAML at line 6, column 12: a key that is a mapping or a sequence, which kubectl cannot read either (an unrendered template such as {{ .Values.name }}?)",
    ],
    ["a key that is a sequence", "kind: Pod\n? [a, b]\n: c\n", "in.yaml: document 1: malformed YAML at line 2, column 3: a key that is a mapping or a sequence, which kubectl cannot read either (an unrendered template such as {{ .Values.name }}?)"],
    ["an alias before its anchor", "kind: Service\nmetadata: {name: s}\n---\nkind: Pod\nmetadata: {labels: *l}\nspec: {containers: [{name: a, env: &l []}]}\n", "in.yaml: document 2: malformed YAML: Unresolved alias (the anchor must be set before the alias): l"],
    ["aliases that expand without end", `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 6 }, (_, i) => `${"bcdefg"[i]}: &${"bcdefg"[i]} [${Array(10).fill(i === 0 ? "*a" : `*${"bcdefg"[i - 1]}`).join(", ")}]`).join("\n")}\n`, "in.yaml: document 1: malformed YAML: Excessive alias count indicates a resource exhaustion attack"],
    // What the webhook refuses in a pod (its shape check), refused here too, naming the field in the manifest.
    [
      "a container env that is a string (outside the BMP too)",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: bookinfo}\nspec:\n  template:\n    spec:\n      containers: [{name: istio-proxy, image: auto, env: \"HOME=/\u{1F600}\"}]\n",
      'in.yaml: document 1: spec.template.spec.containers[0].env: must be an array or null (got "HOME=/\u{1F600}")',
    ],
    [
      "an annotation that is not a string",
      "kind: Pod\nmetadata: {name: p, namespace: bookinfo, annotations: {prometheus.io/scrape: true}}\nspec:\n  containers: [{name: istio-proxy, image: auto}]\n",
      "in.yaml: document 1: metadata.annotations.prometheus.io/scrape: must be a string or null (got boolean true)",
    ],
    [
      "a fractional terminationGracePeriodSeconds, which the API server cannot decode (int64)",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: bookinfo}\nspec:\n  template:\n    spec:\n      terminationGracePeriodSeconds: 2.5\n      containers: [{name: istio-proxy, image: auto}]\n",
      "in.yaml: document 1: spec.template.spec.terminationGracePeriodSeconds: must be an integer or null (got number 2.5)",
    ],
    [
      "a volume mount without its path, in a CronJob's template",
      "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: istio-proxy, volumeMounts: [{name: v}]}]\n",
      "in.yaml: document 1: spec.jobTemplate.spec.template.spec.containers[0].volumeMounts[0].mountPath: is required",
    ],
    [
      "a volume mount whose path is empty (null), which Kubernetes refuses too",
      "kind: Pod\nspec:\n  containers: [{name: istio-proxy, volumeMounts: [{name: v, mountPath: }]}]\n",
      "in.yaml: document 1: spec.containers[0].volumeMounts[0].mountPath: must be a string (got null)",
    ],
    [
      "a list item's pod nested too deep",
      `{"kind":"List","items":[{"kind":"Pod","spec":{"containers":[{"name":"a"}],"affinity":${"[".repeat(70)}${"]".repeat(70)}}}]}`,
      "in.yaml: document 1: items[0]: is nested deeper than 64 levels",
    ],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      let caught: unknown;
      try {
        injectManifests(text, "in.yaml", ctx());
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InputError);
      expect((caught as Error).message.startsWith(message), (caught as Error).message).toBe(true);
    });
  }
  it("flow-style YAML is YAML, though it opens with { like JSON; it keeps its style", () => {
    const text = "{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: bookinfo}, spec: {containers: [{name: istio-proxy, image: auto}]}}\n";
    const out = injectManifests(text, "in.yaml", ctx());
    expect(out.resources.map((r) => [r.resource.name, r.outcome.status])).toEqual([["p", "injected"]]);
    expect(out.output.startsWith("{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: bookinfo, ")).toBe(true);
    expect((parseAllDocuments(out.output)[0]?.toJS() as { spec: { containers: Array<{ image: string }> } }).spec.containers[0]?.image).toBe("docker.io/hookpoint/proxyv2:1.24.2-hookpoint.0.1.0");
  });
  it("JSON documents separated by --- are read as the YAML stream they are; a byte order mark before JSON is not an error", () => {
    const p = (name: string) => JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "bookinfo" }, spec: { containers: [{ name: "istio-proxy", image: "auto" }] } });
    const two = injectManifests(`${p("a")}\n---\n${p("b")}\n`, "in.yaml", ctx());
    expect(two.resources.map((r) => [r.resource.name, r.outcome.status])).toEqual([["a", "injected"], ["b", "injected"]]);
    const bom = injectManifests(`\uFEFF${p("c")}\n`, "in.json", ctx());
    expect(bom.resources.map((r) => [r.resource.name, r.outcome.status])).toEqual([["c", "injected"]]);
    expect((JSON.parse(bom.output) as { metadata: { labels: unknown } }).metadata.labels).toEqual({ "hookpoint.dev/injected": "true" });
  });
  it("a stream of JSON values runs to the end of a string: a brace inside one, or an escaped quote, does not end a document", () => {
    const cm = (data: string) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: data } });
    const text = `${cm('} {"kind": "Pod"} \\')}${cm('"{[')}\n`;
    const out = injectManifests(text, "in.json", ctx());
    expect(out.resources.map((r) => [r.resource.document, r.resource.kind, r.outcome.status])).toEqual([
      [0, "ConfigMap", "passed-through"],
      [1, "ConfigMap", "passed-through"],
    ]);
    expect(out.output).toBe(text);
  });
  it("YAML merge keys are resolved as kubectl resolves them: a container written as <<: {...} is found and injected", () => {
    const text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: bookinfo}\nspec:\n  containers:\n    - <<: {name: istio-proxy, image: auto}\n";
    const out = injectManifests(text, "in.yaml", ctx());
    expect(out.resources.map((r) => [r.resource.name, r.outcome.status])).toEqual([["p", "injected"]]);
    const pod = parseAllDocuments(out.output)[0]?.toJS() as { spec: { containers: Array<{ name: string; image: string }> } };
    expect(pod.spec.containers.map((c) => [c.name, c.image])).toEqual([["istio-proxy", "docker.io/hookpoint/proxyv2:1.24.2-hookpoint.0.1.0"]]);
  });
  it("an anchored node that an alias repeats is not rewritten (the copy would change too); an alias in the template is written out", () => {
    const shared = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: bookinfo}\nspec:\n  containers:\n    - &proxy\n      name: istio-proxy\n      image: auto\n    - <<: *proxy\n      name: app\n";
    expect(() => injectManifests(shared, "in.yaml", ctx())).toThrow(
      new InputError("in.yaml", "has the YAML anchor &proxy, which an alias (*proxy) repeats elsewhere: rewriting it would change every copy; write the copies out in full", 0, "spec.containers[0]"),
    );
    // The Deployment's selector and the template share labels: adding the injected label there would change the (immutable) selector.
    const selector = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: bookinfo}\nspec:\n  template:\n    metadata:\n      labels: &l {app: d}\n    spec:\n      containers: [{name: istio-proxy, image: auto}]\n  selector:\n    matchLabels: *l\n";
    expect(() => injectManifests(selector, "in.yaml", ctx())).toThrow(
      "in.yaml: document 1: spec.template.metadata.labels: has the YAML anchor &l, which an alias (*l) repeats elsewhere: rewriting it would change every copy; write the copies out in full",
    );
    expect(injectManifests(selector.replace("matchLabels: *l", "matchLabels: {app: d}"), "in.yaml", ctx()).resources[0]?.outcome.status).toBe("injected");
    // The alias sits in the template, the anchor outside: the template's copy is written out, the anchor stays.
    const outside = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: bookinfo\n  labels: &l {app: d}\nspec:\n  selector:\n    matchLabels: *l\n  template:\n    metadata:\n      labels: *l\n    spec:\n      containers: [{name: istio-proxy, image: auto}]\n";
    const out = injectManifests(outside, "in.yaml", ctx()).output;
    expect(out.split("\n").slice(0, 13)).toEqual([
      "apiVersion: apps/v1",
      "kind: Deployment",
      "metadata:",
      "  name: d",
      "  namespace: bookinfo",
      "  labels: &l {app: d}",
      "spec:",
      "  selector:",
      "    matchLabels: *l",
      "  template:",
      "    metadata:",
      "      labels:",
      "        app: d",
    ]);
  });
  it("JSON with CRLF line ends comes back with CRLF line ends", () => {
    const text = `${JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "c", namespace: "bookinfo" }, spec: { containers: [{ name: "istio-proxy", image: "auto" }] } }, null, 2).replace(/\n/g, "\r\n")}\r\n`;
    const out = injectManifests(text, "in.json", ctx()).output;
    expect(out.split("\r\n").length).toBe(out.split("\n").length);
    expect(out.startsWith('{\r\n  "apiVersion": "v1",\r\n')).toBe(true);
    expect(out.endsWith("}\r\n")).toBe(true);
  });
  it("null scalars (YAML's empty value, a Helm value left out) are not bad input: kubectl accepts them", () => {
    const text = "kind: Pod\nmetadata:\n  name: p\n  namespace: bookinfo\n  labels: {version: }\nspec:\n  containers:\n    - name: istio-proxy\n      image: auto\n      env: [{name: LOG_LEVEL, value: }]\n      securityContext: {runAsUser: }\n";
    const out = injectManifests(text, "in.yaml", ctx());
    expect(out.resources.map((r) => [r.resource.name, r.outcome.status])).toEqual([["p", "injected"]]);
    const pod = parseAllDocuments(out.output)[0]?.toJS() as { metadata: { labels: Record<string, unknown> }; spec: { containers: Array<{ env: unknown[] }> } };
    expect(pod.metadata.labels).toEqual({ version: null, "hookpoint.dev/injected": "true" });
    expect(pod.spec.containers[0]?.env[0]).toEqual({ name: "LOG_LEVEL", value: null });
  });
  it("a disallowed image annotation is a denial naming the image and policy, and the next documents are still reviewed", () => {
    const text = "kind: Pod\nmetadata:\n  name: p\n  namespace: bookinfo\n  annotations: {hookpoint.dev/image: evil.example.com/x:1}\nspec:\n  containers: [{name: istio-proxy, image: auto}]\n---\nkind: Pod\nmetadata: {name: q, namespace: bookinfo}\nspec:\n  containers: [{name: istio-proxy, image: auto}]\n";
    const out = injectManifests(text, "in.yaml", ctx());
    expect(out.resources.map((r) => [r.resource.name, r.outcome.status, r.outcome.status === "denied" ? r.outcome.reason : ""])).toEqual([
      ["p", "denied", 'image "evil.example.com/x:1" from annotation hookpoint.dev/image is not allowed by HookpointPolicy default: allowedImages is hookpoint/proxy-istio:*'],
      ["q", "injected", ""],
    ]);
  });
});

describe("a stream of JSON objects (kubectl get -o json | jq '.items[]')", () => {
  const values = parseAllDocuments(example("bookinfo.yaml")).map((d) => d.toJS() as unknown);
  // jq's two styles: -c puts one object on each line; without it, each is indented by 2.
  const compact = values.map((v) => `${JSON.stringify(v)}\n`).join("");
  const pretty = values.map((v) => `${JSON.stringify(v, null, 2)}\n`).join("");
  const statuses = [
    [0, "Service", "passed-through"],
    [1, "Deployment", "injected"],
    [2, "Deployment", "injected"],
    [3, "Deployment", "skipped"],
  ];

  it("each object is a document: reviewed in order, the changed ones rewritten in place in the input's style, the others byte for byte", () => {
    const out = injectManifests(pretty, "in.json", ctx());
    expect(out.resources.map((r) => [r.resource.document, r.resource.kind, r.outcome.status])).toEqual(statuses);
    expectGoldenText(new URL("./golden/bookinfo-injected.stream.json", import.meta.url).pathname, out.output);
    const docs = out.output.split(/(?<=^\})\n/m);
    expect(docs).toHaveLength(5);
    expect(docs[0]).toBe(JSON.stringify(values[0], null, 2));
    expect(docs[3]).toBe(JSON.stringify(values[3], null, 2));
    expect(docs[4]).toBe("");
    // The same injection as the YAML path makes of the same documents.
    const viaYaml = parseAllDocuments(injectManifests(example("bookinfo.yaml"), "in.yaml", ctx()).output).map((d) => d.toJS() as unknown);
    expect(docs.slice(0, 4).map((d) => JSON.parse(d) as unknown)).toEqual(viaYaml);
  });
  it("compact in, compact out: one object on each line", () => {
    const out = injectManifests(compact, "in.json", ctx());
    expect(out.resources.map((r) => [r.resource.document, r.resource.kind, r.outcome.status])).toEqual(statuses);
    const prettyOut = injectManifests(pretty, "in.json", ctx()).output;
    expect(out.output).toBe(prettyOut.split(/(?<=^\})\n/m).slice(0, 4).map((d) => `${JSON.stringify(JSON.parse(d))}\n`).join(""));
    expect(out.output.split("\n")[0]).toBe(compact.split("\n")[0]);
  });
  it("objects with nothing between them, and CRLF line ends, are kept as they are", () => {
    const joined = values.map((v) => JSON.stringify(v)).join("");
    const out = injectManifests(joined, "in.json", ctx()).output;
    expect(out).toBe(injectManifests(compact, "in.json", ctx()).output.replace(/\n/g, ""));
    const crlf = pretty.replace(/\n/g, "\r\n");
    expect(injectManifests(crlf, "in.json", ctx()).output).toBe(injectManifests(pretty, "in.json", ctx()).output.replace(/\n/g, "\r\n"));
  });
  it("injecting the output again changes nothing, and uninject gives back the input byte for byte", () => {
    for (const text of [compact, pretty]) {
      const out = injectManifests(text, "in.json", ctx()).output;
      const again = injectManifests(out, "out.json", ctx());
      expect(again.output).toBe(out);
      expect(again.resources.map((r) => r.outcome.status)).toEqual(["passed-through", "unchanged", "unchanged", "skipped"]);
      expect(uninjectManifests(out, "out.json").output).toBe(text);
    }
  });
  it("policy and namespace files may be streams of JSON objects too", () => {
    const ns = parseAllDocuments(example("namespaces.yaml")).map((d) => JSON.stringify(d.toJS())).join("\n");
    expect(parseNamespaces(ns, "ns.json")).toEqual(parseNamespaces(example("namespaces.yaml"), "namespaces.yaml"));
  });
});

describe("policy and namespace files", () => {
  it("an unknown policy field is named with its path", () => {
    const text = "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: p}\nspec:\n  mode: Enabled\n  profiles:\n    x: {scirpts: [a]}\n";
    expect(() => parsePolicies(text, "policy.yaml")).toThrow("policy.yaml: document 1: spec.profiles.x.scirpts: unknown field (known: image, scripts, env, resources, privileged, capabilities, kernels, agent)");
  });
  it("a namespace file must hold Namespaces", () => {
    expect(() => parseNamespaces("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "ns.yaml")).toThrow('ns.yaml: document 1: kind: must be a Namespace, got "Pod"');
  });
});
