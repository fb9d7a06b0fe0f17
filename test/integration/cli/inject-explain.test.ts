// `hookpoint inject` and `hookpoint explain` as processes: inputs (files,
// directories, stdin), outputs (stdout, -o, --in-place, --diff), the
// per-resource summary, exit codes, and no half-written output on bad input.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { expectGoldenText } from "../../support/golden.js";
import { NOBODY, nobodySkipReason, repoRoot, runCli, runCliAsync } from "../../support/cli.js";
import { fifoReader } from "../../support/fifo.js";

const inputs = ["--policy", "examples/policy.yaml", "--namespaces", "examples/namespaces.yaml"];
const golden = (f: string) => new URL(`./golden/${f}`, import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "hookpoint-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const p = join(tmp, name);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  return p;
};
const bookinfo = readFileSync("examples/bookinfo.yaml", "utf8");
const BOOKINFO_SUMMARY = [
  "examples/bookinfo.yaml: document 1: Service bookinfo/reviews: passed through: Service has no pod template",
  "examples/bookinfo.yaml: document 2: Deployment bookinfo/reviews-v1: injected (namespace bookinfo is labelled hookpoint.dev/inject=enabled)",
  'examples/bookinfo.yaml: document 3: Deployment perf/loadgen: injected (pod annotation hookpoint.dev/inject="true", allowed in namespace perf)',
  "examples/bookinfo.yaml: document 4: Deployment payments/ledger: skipped: namespace payments is labelled hookpoint.dev/inject=disabled",
];
const pod = (name: string, ns: string, annotations = "{}") =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n  annotations: ${annotations}\nspec:\n  containers: [{name: istio-proxy, image: auto}]\n`;

describe("hookpoint inject", () => {
  it("rewrites the example to stdout and says what it did with each resource on stderr", () => {
    const r = runCli(["inject", "-f", "examples/bookinfo.yaml", ...inputs]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(BOOKINFO_SUMMARY.join("\n") + "\n");
    expectGoldenText(golden("bookinfo-injected.yaml"), r.stdout);
  });
  it("reads standard input with -f - and is idempotent; -q keeps stderr quiet", () => {
    const first = runCli(["inject", "-f", "examples/bookinfo.yaml", ...inputs, "-q"]);
    expect(first.stderr).toBe("");
    const again = runCli(["inject", "-f", "-", ...inputs], { input: first.stdout });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(again.stderr.split("\n")[1]).toBe("stdin: document 2: Deployment bookinfo/reviews-v1: unchanged: already injected as hookpoint would inject it");
  });
  it("prints warnings on stderr, naming file, document and workload", () => {
    const f = write("opt-in.yaml", pod("solo", "web", '{hookpoint.dev/inject: "true"}'));
    const r = runCli(["inject", "-f", f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `${f}: document 1: Pod web/solo: skipped: pod opt-in is not allowed in namespace web\n` +
        `${f}: document 1: Pod web/solo: warning: annotation hookpoint.dev/inject="true" ignored: namespace web is not labelled hookpoint.dev/inject=enabled and the built-in default policy has no allowPodOptIn selecting it\n`,
    );
  });
  it("reads several -f, directories with -R, and joins them as one YAML stream", () => {
    const dir = join(tmp, "tree");
    write("tree/a.yaml", pod("a", "bookinfo"));
    write("tree/notes.txt", "not a manifest\n");
    write("tree/sub/b.json", JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "b", namespace: "bookinfo" }, spec: { containers: [{ name: "app" }] } }));
    const flat = runCli(["inject", "-f", dir, ...inputs]);
    expect(flat.stderr).toBe(`${dir}/a.yaml: document 1: Pod bookinfo/a: injected (namespace bookinfo is labelled hookpoint.dev/inject=enabled)\n`);
    const deep = runCli(["inject", "-f", dir, "-R", "-f", "examples/bookinfo.yaml", ...inputs]);
    expect(deep.code).toBe(0);
    expect(deep.stderr.split("\n").slice(0, 2)).toEqual([
      `${dir}/a.yaml: document 1: Pod bookinfo/a: injected (namespace bookinfo is labelled hookpoint.dev/inject=enabled)`,
      `${dir}/sub/b.json: document 1: Pod bookinfo/b: skipped: no container named istio-proxy`,
    ]);
    const docs = deep.stdout.split(/^---\n/m);
    expect(docs[1]).toBe(readFileSync(join(dir, "sub/b.json"), "utf8") + "\n");
    expect(deep.stdout.endsWith(readFileSync(golden("bookinfo-injected.yaml"), "utf8"))).toBe(true);
  });
  it("reads a stream of JSON objects (kubectl get -o json | jq -c '.items[]'), writes one back, and joins it with others one object to a document", () => {
    const stream = parseAllDocuments(bookinfo).map((d) => `${JSON.stringify(d.toJS())}\n`).join("");
    const r = runCli(["inject", "-f", "-", ...inputs], { input: stream });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(BOOKINFO_SUMMARY.map((l) => l.replace("examples/bookinfo.yaml", "stdin")).join("\n") + "\n");
    const lines = r.stdout.split("\n");
    expect(lines).toHaveLength(5);
    expect([lines[0], lines[3], lines[4]]).toEqual([stream.split("\n")[0], stream.split("\n")[3], ""]);
    expect(lines.slice(0, 4).map((l) => JSON.parse(l) as unknown)).toEqual(parseAllDocuments(readFileSync(golden("bookinfo-injected.yaml"), "utf8")).map((d) => d.toJS() as unknown));
    const explained = runCli(["explain", "-f", "-", ...inputs, "-o", "json"], { input: stream });
    expect((JSON.parse(explained.stdout) as Array<{ document: number; name: string; inject: boolean }>).map((e) => [e.document, e.name, e.inject])).toEqual([
      [1, "reviews", false],
      [2, "reviews-v1", true],
      [3, "loadgen", true],
      [4, "ledger", false],
    ]);
    expect(runCli(["uninject", "-f", "-", "-q"], { input: r.stdout })).toEqual({ code: 0, stdout: stream, stderr: "" });
    // With another input, the output is one YAML stream: each object its own document.
    const f = write("stream.json", stream);
    const joined = runCli(["inject", "-f", f, "-f", write("joined-pod.yaml", pod("a", "payments")), ...inputs, "-q"]);
    expect(joined.code).toBe(0);
    expect(joined.stdout).toBe(`${lines.slice(0, 4).map((l) => `---\n${l}\n`).join("")}---\n${pod("a", "payments")}`);
    expect(parseAllDocuments(joined.stdout).map((d) => d.errors.length)).toEqual([0, 0, 0, 0, 0]);
  });
  it("-o FILE writes the documents there; --in-place rewrites only the files that change, keeping their mode", () => {
    const out = join(tmp, "out.yaml");
    const r = runCli(["inject", "-f", "examples/bookinfo.yaml", ...inputs, "-o", out, "-q"]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(readFileSync(out, "utf8")).toBe(readFileSync(golden("bookinfo-injected.yaml"), "utf8"));
    const changed = write("inplace/changed.yaml", bookinfo);
    const same = write("inplace/same.yaml", pod("s", "payments"));
    chmodSync(changed, 0o640);
    const before = statSync(same).mtimeMs;
    const ip = runCli(["inject", "-f", join(tmp, "inplace"), ...inputs, "--in-place", "-q"]);
    expect(ip).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(readFileSync(changed, "utf8")).toBe(readFileSync(golden("bookinfo-injected.yaml"), "utf8"));
    expect(statSync(changed).mode & 0o777).toBe(0o640);
    expect(statSync(same).mtimeMs).toBe(before);
  });
  it("-o - is standard output, as -f - is standard input: no file named - is written", () => {
    const r = runCli(["inject", "-f", "examples/bookinfo.yaml", ...inputs, "-o", "-", "-q"]);
    expect(r).toEqual({ code: 0, stdout: readFileSync(golden("bookinfo-injected.yaml"), "utf8"), stderr: "" });
    const injected = write("to-uninject.yaml", r.stdout);
    const u = runCli(["uninject", "-f", injected, "--diff", "-o", "-", "-q"]);
    expect({ code: u.code, stderr: u.stderr, plus: u.stdout.split("\n").filter((l) => l.startsWith("+++ ")) }).toEqual({ code: 0, stderr: "", plus: [`+++ b/${injected}`] });
    expect(existsSync(join(repoRoot, "-"))).toBe(false);
  });
  it("-o /dev/fd/1 writes through the descriptor the shell opened: a file opened for appending keeps what it held", () => {
    // /dev/fd/1, not /dev/stdout: a writer that renamed over the path could not touch /dev here.
    const log = write("append.log", "first line\n");
    const cli = `"${process.execPath}" --import tsx src/cli/main.ts inject -q -f examples/bookinfo.yaml ${inputs.join(" ")} -o /dev/fd/1`;
    const r = spawnSync("bash", ["-c", `${cli} >> "${log}"`], { cwd: repoRoot, encoding: "utf8" });
    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(readFileSync(log, "utf8")).toBe(`first line\n${readFileSync(golden("bookinfo-injected.yaml"), "utf8")}`);
  });
  it("--diff -o onto an input file is refused in one line, before any summary: the diff would replace the manifest", () => {
    const victim = write("victim.yaml", bookinfo);
    const r = runCli(["inject", "-f", victim, ...inputs, "--diff", "-o", victim]);
    expect(r).toEqual({ code: 2, stdout: "", stderr: `hookpoint inject: --diff -o ${victim}: that is an input file, and the diff would replace it; write the diff to another file\n` });
    expect(readFileSync(victim, "utf8")).toBe(bookinfo);
    // Through a link to the same file, with uninject.
    const alias = join(tmp, "victim-link.yaml");
    symlinkSync(victim, alias);
    const u = runCli(["uninject", "-f", victim, "--diff", "-o", alias]);
    expect(u).toEqual({ code: 2, stdout: "", stderr: `hookpoint uninject: --diff -o ${alias}: that is an input file, and the diff would replace it; write the diff to another file\n` });
    expect(readFileSync(victim, "utf8")).toBe(bookinfo);
  });
  it("-R reads each directory once: a symbolic link back up the tree is not followed round", () => {
    write("loop/sub/p.yaml", pod("p", "bookinfo"));
    symlinkSync("..", join(tmp, "loop/sub/up"));
    const r = runCli(["inject", "-f", join(tmp, "loop"), "-R", ...inputs, "--diff"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`${join(tmp, "loop/sub/p.yaml")}: document 1: Pod bookinfo/p: injected (namespace bookinfo is labelled hookpoint.dev/inject=enabled)\n`);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("+++ "))).toEqual([`+++ b/${join(tmp, "loop/sub/p.yaml")}`]);
  });
  it("-o into a FIFO writes through the pipe, and --in-place through a symbolic link rewrites the file it names, keeping the link", async () => {
    const fifo = join(tmp, "pipe.yaml");
    const reader = fifoReader(fifo);
    const r = await runCliAsync(["inject", "-f", "examples/bookinfo.yaml", ...inputs, "-o", fifo, "-q"]);
    const read = await reader.read();
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(read).toBe(readFileSync(golden("bookinfo-injected.yaml"), "utf8"));
    expect(lstatSync(fifo).isFIFO()).toBe(true);

    const real = write("linked/real.yaml", bookinfo);
    const link = join(tmp, "linked", "link.yaml");
    symlinkSync("real.yaml", link);
    const ip = runCli(["inject", "-f", link, ...inputs, "--in-place", "-q"]);
    expect(ip).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(readlinkSync(link)).toBe("real.yaml");
    expect(readFileSync(real, "utf8")).toBe(readFileSync(golden("bookinfo-injected.yaml"), "utf8"));
  });
  it("--diff prints a unified diff instead of the documents", () => {
    const r = runCli(["inject", "-f", "examples/bookinfo.yaml", ...inputs, "--diff", "-q"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 3)).toEqual(["--- a/examples/bookinfo.yaml", "+++ b/examples/bookinfo.yaml", "@@ -23,16 +23,18 @@"]);
    expect(lines.filter((l) => l.startsWith("-") && !l.startsWith("---"))).toEqual([
      "-      labels: { app: reviews, version: v1 }",
      '-          args: [istio-iptables, -p, "15001", -z, "15006", -u, "1337", -m, REDIRECT, -i, "*", -x, "", -b, "*"]',
      "-          image: docker.io/istio/proxyv2:1.28.0",
      "-            allowPrivilegeEscalation: false",
      "-            capabilities: { drop: [ALL] }",
      "-            privileged: false",
      "-            runAsNonRoot: true",
      "-            runAsUser: 1337",
      "-      labels: { app: loadgen }",
      "-          image: auto",
    ]);
  });
  it("--force says which decision it overrode", () => {
    const f = write("vetoed.yaml", pod("v", "payments", '{hookpoint.dev/inject: "false"}'));
    const r = runCli(["inject", "-f", f, ...inputs, "--force", "-o", join(tmp, "forced.yaml")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`${f}: document 1: Pod payments/v: injected (forced; overrode: pod annotation hookpoint.dev/inject="false")\n`);
  });
  it("kinds with a pod template hookpoint does not know are injected; others are passed through, and it says so", () => {
    const f = write(
      "kinds.yaml",
      [
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r, namespace: bookinfo}\nspec:\n  template:\n    spec:\n      containers: [{name: istio-proxy, image: auto}]\n",
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: ref, namespace: bookinfo}\nspec:\n  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n",
        "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {name: dc, namespace: bookinfo}\nspec:\n  template:\n    spec:\n      containers: [{name: istio-proxy, image: auto}]\n",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: bookinfo}\nspec: {size: 3}\n",
      ].join("---\n"),
    );
    const r = runCli(["inject", "-f", f, ...inputs]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      [
        `${f}: document 1: Rollout bookinfo/r: injected (namespace bookinfo is labelled hookpoint.dev/inject=enabled)`,
        `${f}: document 2: Rollout bookinfo/ref: passed through: Rollout has no pod template (spec.workloadRef points to Deployment web: inject that one)`,
        `${f}: document 3: DeploymentConfig bookinfo/dc: injected (namespace bookinfo is labelled hookpoint.dev/inject=enabled)`,
        `${f}: document 4: Widget bookinfo/w: passed through: Widget has no pod template`,
        "",
      ].join("\n"),
    );
    expect(r.stdout.split("---\n")[0]).toContain('command: [hookpoint, agent, --proxy-uid, "1337", --proxy-gid, "1337", --, /usr/local/bin/pilot-agent]');
  });
  it("a denied document: every resource is reported, nothing is written, exit 1", () => {
    const f = write("denied.yaml", [pod("bad", "bookinfo", "{hookpoint.dev/image: evil.example.com/x:1}"), pod("good", "bookinfo")].join("---\n"));
    const r = runCli(["inject", "-f", f, ...inputs]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        `${f}: document 1: Pod bookinfo/bad: denied: image "evil.example.com/x:1" from annotation hookpoint.dev/image is not allowed by HookpointPolicy default: allowedImages is hookpoint/proxy-istio:*`,
        `${f}: document 2: Pod bookinfo/good: injected (namespace bookinfo is labelled hookpoint.dev/inject=enabled)`,
        "hookpoint inject: 1 resource denied (see above): nothing written",
        "",
      ].join("\n"),
    );
  });

  const bad: Array<[string, string[], string]> = [
    ["malformed YAML", ["inject", "-f", "@bad.yaml"], "hookpoint inject: @bad.yaml: document 2: malformed YAML at line 7, column 1: Map keys must be unique\n"],
    // One line, no Node.js warning from the YAML library after it: kubectl cannot read such a key either.
    [
      "an unrendered Helm template",
      ["explain", "-f", "@helm.yaml"],
      "hookpoint explain: @helm.yaml: document 1: malformed YAML at line 4, column 10: a key that is a mapping or a sequence, which kubectl cannot read either (an unrendered template such as {{ .Values.name }}?)\n",
    ],
    ["a stream of JSON objects whose second is cut short", ["uninject", "-f", "@cut.json"], 'hookpoint uninject: @cut.json: document 2: malformed JSON at line 3, column 25: Expected \',\' or \'}\' after property value\n'],
    ["pod template without containers", ["inject", "-f", "@nocontainers.yaml"], "hookpoint inject: @nocontainers.yaml: document 2: spec.template.spec.containers: missing or empty\n"],
    ["unknown --policy field", ["inject", "-f", "examples/bookinfo.yaml", "--policy", "@policy.yaml"], "hookpoint inject: @policy.yaml: document 1: spec.mdoe: unknown field (known: mode, priority, namespaceSelector, podSelector, excludedNamespaces, allowPodOptIn, targetContainers, allowedImages, defaultProfile, profiles)\n"],
    // A profile env the agent would refuse: every pod it injects would get a proxy that never starts.
    [
      "a --policy whose profile env has an agent setting the agent refuses",
      ["inject", "-f", "examples/bookinfo.yaml", "--policy", "@agent-env.yaml"],
      'hookpoint inject: @agent-env.yaml: document 1: spec.profiles.deep.env[1].value: HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose": the agent would exit on it before it starts the proxy, in every pod the profile injects\n',
    ],
    [
      "explain: a --policy whose output budget cannot hold the default scripts' files",
      ["explain", "-f", "examples/bookinfo.yaml", "--policy", "@agent-budget.yaml"],
      "hookpoint explain: @agent-budget.yaml: document 1: spec.profiles.deep.env[0].value: HOOKPOINT_MAX_OUTPUT_BYTES: 40000 is too small: 3 output files with 3 rotated ones each need at least 49152 (12 files of 4096 bytes), with the default scripts envoy-event-loop, envoy-request-flow, hookpoint-pairs: the agent would exit on it before it starts the proxy, in every pod the profile injects\n",
    ],
    ["a Namespace named twice in --namespaces", ["inject", "-f", "examples/bookinfo.yaml", "--namespaces", "@dup-ns.yaml"], 'hookpoint inject: @dup-ns.yaml: document 2: metadata.name: duplicate Namespace "bookinfo"\n'],
    ["missing file", ["inject", "-f", "@missing.yaml"], "hookpoint inject: @missing.yaml: cannot read: no such file or directory\n"],
    ["missing policy file", ["inject", "-f", "examples/bookinfo.yaml", "--policy", "@missing.yaml"], "hookpoint inject: @missing.yaml: cannot read: no such file\n"],
    ["unreadable file", ["inject", "-f", "@secret.yaml"], "hookpoint inject: @secret.yaml: cannot read: permission denied\n"],
    ["a directory without manifests", ["inject", "-f", "@empty"], "hookpoint inject: @empty: no .yaml, .yml or .json file in this directory (-R reads its subdirectories too)\n"],
    ["a URL", ["inject", "-f", "https://example.com/app.yaml"], "hookpoint inject: https://example.com/app.yaml: URLs are not read: download the file first (curl -sL URL | hookpoint ... -f -)\n"],
    ["standard input twice", ["inject", "-f", "-", "-f", "-"], "hookpoint inject: -f -: standard input can be read only once\n"],
    ["standard input for -f and --policy", ["inject", "-f", "-", "--policy", "-"], "hookpoint inject: -f - and --policy -: standard input can be read only once\n"],
    ["explain: standard input for --policy and --namespaces", ["explain", "-f", "examples/bookinfo.yaml", "--policy", "-", "--namespaces", "-"], "hookpoint explain: --policy - and --namespaces -: standard input can be read only once\n"],
    ["--in-place with -o", ["inject", "-f", "examples/bookinfo.yaml", "--in-place", "-o", "@x.yaml"], "hookpoint inject: --in-place and -o/--output both say where to write: give one\n"],
    ["--in-place with --diff", ["inject", "-f", "examples/bookinfo.yaml", "--in-place", "--diff"], "hookpoint inject: --in-place and --diff: --diff prints the changes instead of writing them; give one\n"],
    ["--in-place with stdin", ["inject", "-f", "-", "--in-place"], "hookpoint inject: --in-place cannot rewrite standard input (-f -): use -o FILE or standard output\n"],
    ["an --image that is no image reference", ["inject", "-f", "examples/bookinfo.yaml", "--image", "Registry:5000/Hookpoint/proxy:1"], 'hookpoint inject: --image must be an image reference such as registry.example.com/hookpoint/proxy-istio:TAG, got "Registry:5000/Hookpoint/proxy:1"\n'],
    ["explain: an empty --image", ["explain", "-f", "examples/bookinfo.yaml", "--image", ""], 'hookpoint explain: --image must be an image reference such as registry.example.com/hookpoint/proxy-istio:TAG, got ""\n'],
    ["a -n that is no namespace name", ["inject", "-f", "examples/bookinfo.yaml", "-n", "Book Info"], 'hookpoint inject: -n/--namespace must be a DNS-1123 label (lower-case letters, digits and \'-\', at most 63 characters, starting and ending with a letter or digit), got "Book Info"\n'],
    ["explain: bad output format", ["explain", "-f", "examples/bookinfo.yaml", "-o", "xml"], 'hookpoint explain: --output must be table or json, got "xml"\n'],
  ];
  const files: Record<string, string> = {
    "bad.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: a}]}\n---\nkind: Pod\nkind: Pod\n",
    "helm.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers: [{name: istio-proxy, image: auto}]\n",
    "cut.json": '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}\n{"apiVersion":"v1","kind":"Pod",\n "metadata":{"name":"b"}\n',
    "nocontainers.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: []\n",
    "policy.yaml": "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: p}\nspec:\n  mdoe: Enabled\n",
    "agent-env.yaml": "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: p}\nspec:\n  profiles:\n    deep:\n      env:\n      - {name: HOOKPOINT_INTERVAL_SECONDS, value: \"5\"}\n      - {name: HOOKPOINT_LOG_LEVEL, value: verbose}\n",
    "agent-budget.yaml": "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: p}\nspec:\n  profiles:\n    deep: {env: [{name: HOOKPOINT_MAX_OUTPUT_BYTES, value: \"40000\"}]}\n",
    "secret.yaml": pod("s", "web"),
    "dup-ns.yaml": "kind: Namespace\nmetadata: {name: bookinfo, labels: {hookpoint.dev/inject: enabled}}\n---\nkind: Namespace\nmetadata: {name: bookinfo, labels: {hookpoint.dev/inject: disabled}}\n",
  };
  mkdirSync(join(tmp, "empty", "sub"), { recursive: true });
  for (const [what, args, message] of bad) {
    it(`exit 2 and nothing on stdout: ${what}`, (ctx) => {
      const resolved = args.map((a) => (a.startsWith("@") ? (files[a.slice(1)] !== undefined ? write(a.slice(1), files[a.slice(1)] as string) : join(tmp, a.slice(1))) : a));
      // Root reads every file whatever its mode: the unreadable case needs another user.
      if (what === "unreadable file") {
        chmodSync(join(tmp, "secret.yaml"), 0o000);
        if (process.getuid?.() === 0) {
          const why = nobodySkipReason();
          if (why !== null) return ctx.skip(why);
          return runAsNobody(resolved, message.replace(/@([\w.]+)/g, (_m, f: string) => join(tmp, f)));
        }
      }
      const r = runCli(resolved);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(message.replace(/@([\w.]+)/g, (_m, f: string) => join(tmp, f)));
    });
  }

  it("names standard input stdin in a --policy - or --namespaces - error, as it names -f -", () => {
    expect(runCli(["inject", "-f", "examples/bookinfo.yaml", "--policy", "-"], { input: files["policy.yaml"] })).toEqual({
      code: 2,
      stdout: "",
      stderr: "hookpoint inject: stdin: document 1: spec.mdoe: unknown field (known: mode, priority, namespaceSelector, podSelector, excludedNamespaces, allowPodOptIn, targetContainers, allowedImages, defaultProfile, profiles)\n",
    });
    expect(runCli(["explain", "-f", "examples/bookinfo.yaml", "--namespaces", "-"], { input: files["dup-ns.yaml"] })).toEqual({
      code: 2,
      stdout: "",
      stderr: 'hookpoint explain: stdin: document 2: metadata.name: duplicate Namespace "bookinfo"\n',
    });
  });
});

describe("inject, uninject and explain on input that holds no Kubernetes object", () => {
  const empty = write("nothing/empty.yaml", "");
  const comments = write("nothing/comments.yaml", "# rendered nothing\n---\n---\n");
  for (const command of ["inject", "uninject", "explain"]) {
    it(`${command}: exit 1 naming the file (empty, or only comments and ---) or standard input, nothing on stdout`, () => {
      expect(runCli([command, "-f", empty])).toEqual({ code: 1, stdout: "", stderr: `hookpoint ${command}: no Kubernetes objects in ${empty}\n` });
      expect(runCli([command, "-f", comments])).toEqual({ code: 1, stdout: "", stderr: `hookpoint ${command}: no Kubernetes objects in ${comments}\n` });
      expect(runCli([command, "-f", "-"], { input: "" })).toEqual({ code: 1, stdout: "", stderr: `hookpoint ${command}: no Kubernetes objects in standard input\n` });
      expect(runCli([command, "-f", "-"], { input: "---\n# nothing\n" })).toEqual({ code: 1, stdout: "", stderr: `hookpoint ${command}: no Kubernetes objects in standard input\n` });
      // Beside a file with objects, the empty one still stops it, before anything is reported or written.
      expect(runCli([command, "-f", "examples/bookinfo.yaml", "-f", comments])).toEqual({ code: 1, stdout: "", stderr: `hookpoint ${command}: no Kubernetes objects in ${comments}\n` });
    });
  }

  it("inject --in-place: the file with objects beside an empty one is not rewritten", () => {
    const app = write("nothing/app.yaml", pod("web", "bookinfo"));
    expect(runCli(["inject", "-f", app, "-f", empty, "--in-place", ...inputs])).toEqual({ code: 1, stdout: "", stderr: `hookpoint inject: no Kubernetes objects in ${empty}\n` });
    expect(readFileSync(app, "utf8")).toBe(pod("web", "bookinfo"));
  });

  it("-f DIR is one input: an empty file in it beside one with objects is passed over, a directory of empty files is named", () => {
    write("nothing-dir/a.yaml", "# rendered nothing\n---\n");
    const app = write("nothing-dir/b.yaml", pod("web", "bookinfo"));
    const dir = join(tmp, "nothing-dir");
    const injected = runCli(["inject", "-f", dir, ...inputs]);
    // As before empty input was an error: the comment-only file's text is kept, then the injected pod.
    expect(injected).toEqual({ code: 0, stdout: `# rendered nothing\n---\n---\n${runCli(["inject", "-f", app, ...inputs]).stdout}`, stderr: `${app}: document 1: Pod bookinfo/web: injected (namespace bookinfo is labelled hookpoint.dev/inject=enabled)\n` });
    expect(runCli(["explain", "-f", dir, ...inputs]).code).toBe(0);
    expect(runCli(["uninject", "-f", dir]).code).toBe(0);
    const emptyDir = join(tmp, "nothing-dir-empty");
    write("nothing-dir-empty/a.yaml", "");
    write("nothing-dir-empty/b.yaml", "---\n");
    expect(runCli(["inject", "-f", emptyDir, ...inputs])).toEqual({ code: 1, stdout: "", stderr: `hookpoint inject: no Kubernetes objects in ${emptyDir}\n` });
  });
});

/** The CLI as user nobody (for permission errors when the tests run as root). */
function runAsNobody(args: string[], message: string): void {
  chmodSync(tmp, 0o755);
  const r = runCli(args, NOBODY);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(message);
}

describe("hookpoint explain", () => {
  it("-o json gives one object per resource, with what an injection applies", () => {
    const r = runCli(["explain", "-f", "examples/bookinfo.yaml", ...inputs, "-o", "json"]);
    expect(r.code).toBe(0);
    const common = { file: "examples/bookinfo.yaml", kind: "Deployment", policy: "default", warnings: [] };
    expect(JSON.parse(r.stdout)).toEqual([
      { file: "examples/bookinfo.yaml", document: 1, kind: "Service", namespace: "bookinfo", name: "reviews", inject: false, outcome: "pass-through", decidedBy: null, reason: "no-pod-template", message: "Service has no pod template", policy: null, warnings: [], profile: null, image: null, scripts: null },
      { ...common, document: 2, namespace: "bookinfo", name: "reviews-v1", inject: true, outcome: "inject", decidedBy: "namespace-label", reason: "namespace-enabled", message: "namespace bookinfo is labelled hookpoint.dev/inject=enabled", profile: "default", image: "hookpoint/proxy-istio:0.1.0-istio1.28.0", scripts: ["envoy-request-flow", "envoy-event-loop"] },
      { ...common, document: 3, namespace: "perf", name: "loadgen", inject: true, outcome: "inject", decidedBy: "pod-annotation", reason: "pod-opt-in", message: 'pod annotation hookpoint.dev/inject="true", allowed in namespace perf', profile: "deep", image: "hookpoint/proxy-istio:0.1.0-istio1.28.0", scripts: ["envoy-request-flow", "envoy-event-loop", "envoy-socket-io", "hookpoint-pairs"] },
      { ...common, document: 4, namespace: "payments", name: "ledger", inject: false, outcome: "skip", decidedBy: "namespace-label", reason: "namespace-disabled", message: "namespace payments is labelled hookpoint.dev/inject=disabled", profile: null, image: null, scripts: null },
    ]);
    expect(r.stderr).toBe("hookpoint explain: assumed: the tracing image where the profile names none: hookpoint/proxy-istio:0.1.0-istio1.28.0 (the built-in default; --image or the profile's image sets another)\n");
  });
  it("--default-pod-security baseline: namespaces without an enforce label are skipped, as the webhook would", () => {
    const r = runCli(["explain", "-f", "examples/bookinfo.yaml", ...inputs, "-o", "json", "--default-pod-security", "baseline"]);
    expect(r.code).toBe(0);
    const rows = (JSON.parse(r.stdout) as { kind: string; name: string; inject: boolean; reason: string; message: string }[]).filter((x) => x.kind === "Deployment");
    expect(rows.map((x) => [x.name, x.inject, x.reason, x.message])).toEqual([
      ["reviews-v1", false, "pod-security-enforced", `namespace bookinfo enforces Pod Security "baseline" (the cluster's default, --default-pod-security)`],
      ["loadgen", false, "pod-security-enforced", `namespace perf enforces Pod Security "baseline" (the cluster's default, --default-pod-security)`],
      ["ledger", false, "namespace-disabled", "namespace payments is labelled hookpoint.dev/inject=disabled"],
    ]);
    const bad = runCli(["explain", "-f", "examples/bookinfo.yaml", ...inputs, "--default-pod-security", "strict"]);
    expect([bad.code, bad.stdout, bad.stderr]).toEqual([2, "", 'hookpoint explain: --default-pod-security must be one of privileged, baseline, restricted, got "strict"\n']);
  });
  it("prints a table, then per resource the reason and what would be applied", () => {
    const r = runCli(["explain", "-f", "examples/bookinfo.yaml", ...inputs]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "KIND        NAMESPACE  NAME        INJECT  DECIDED BY       REASON              POLICY",
        "Service     bookinfo   reviews     -       -                no-pod-template     -",
        "Deployment  bookinfo   reviews-v1  yes     namespace-label  namespace-enabled   default",
        "Deployment  perf       loadgen     yes     pod-annotation   pod-opt-in          default",
        "Deployment  payments   ledger      no      namespace-label  namespace-disabled  default",
        "",
        "examples/bookinfo.yaml: document 1: Service bookinfo/reviews: Service has no pod template",
        "examples/bookinfo.yaml: document 2: Deployment bookinfo/reviews-v1: namespace bookinfo is labelled hookpoint.dev/inject=enabled",
        'examples/bookinfo.yaml: document 2: Deployment bookinfo/reviews-v1: would apply profile "default", image hookpoint/proxy-istio:0.1.0-istio1.28.0, scripts envoy-request-flow, envoy-event-loop',
        'examples/bookinfo.yaml: document 3: Deployment perf/loadgen: pod annotation hookpoint.dev/inject="true", allowed in namespace perf',
        'examples/bookinfo.yaml: document 3: Deployment perf/loadgen: would apply profile "deep", image hookpoint/proxy-istio:0.1.0-istio1.28.0, scripts envoy-request-flow, envoy-event-loop, envoy-socket-io, hookpoint-pairs',
        "examples/bookinfo.yaml: document 4: Deployment payments/ledger: namespace payments is labelled hookpoint.dev/inject=disabled",
        "",
      ].join("\n"),
    );
  });
  it("never injects in the webhook's own namespace (hookpoint-system), even labelled enabled, as the webhook never does; inject agrees", () => {
    const f = write("own-namespace.yaml", pod("p", "hookpoint-system"));
    const ns = write("own-namespace-ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: hookpoint-system, labels: {hookpoint.dev/inject: enabled}}\n");
    const r = runCli(["explain", "-f", f, "--namespaces", ns, "-o", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject([{ namespace: "hookpoint-system", name: "p", inject: false, outcome: "skip", decidedBy: "excluded-namespace", reason: "namespace-excluded", message: "namespace hookpoint-system is the webhook's own namespace, where it never injects" }]);
    expect(r.stderr.split("\n")).toContain("hookpoint explain: assumed: the webhook runs in namespace hookpoint-system (its --namespace default), where it never injects");
    const inj = runCli(["inject", "-f", f, "--namespaces", ns]);
    expect([inj.code, inj.stdout, inj.stderr]).toEqual([0, readFileSync(f, "utf8"), `${f}: document 1: Pod hookpoint-system/p: skipped: namespace hookpoint-system is the webhook's own namespace, where it never injects\n`]);
  });
  it("a --policy whose profile env names an agent variable twice: the last entry, the one the agent gets, is judged", () => {
    const twice = (first: string, last: string) =>
      write(`agent-env-${first}-${last}.yaml`, `apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: p}\nspec:\n  profiles:\n    default:\n      env:\n      - {name: HOOKPOINT_LOG_LEVEL, value: ${first}}\n      - {name: HOOKPOINT_LOG_LEVEL, value: ${last}}\n`);
    const f = write("agent-env-pod.yaml", pod("p", "bookinfo"));
    const ok = runCli(["explain", "-f", f, "--policy", twice("verbose", "debug"), "--namespaces", "examples/namespaces.yaml", "-o", "json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject([{ name: "p", inject: true, outcome: "inject", reason: "namespace-enabled", policy: "p", profile: "default" }]);
    const policyFile = twice("debug", "verbose");
    const refused = runCli(["explain", "-f", f, "--policy", policyFile, "--namespaces", "examples/namespaces.yaml"]);
    expect([refused.code, refused.stdout, refused.stderr]).toEqual([
      2,
      "",
      `hookpoint explain: ${policyFile}: document 1: spec.profiles.default.env[1].value: HOOKPOINT_LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "verbose": the agent would exit on it before it starts the proxy, in every pod the profile injects\n`,
    ]);
  });
  it("a proxy container that gives an agent variable twice: the injected container gets the one entry explain's scripts come from", () => {
    const f = write(
      "scripts-twice.yaml",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: bookinfo}\nspec:\n  containers:\n  - name: istio-proxy\n    image: auto\n    env:\n    - {name: HOOKPOINT_SCRIPTS, value: a}\n    - {name: POD_NAME, value: p}\n    - {name: HOOKPOINT_SCRIPTS, value: envoy-socket-io}\n",
    );
    const explained = runCli(["explain", "-f", f, ...inputs, "-o", "json"]);
    expect(explained.code).toBe(0);
    expect(JSON.parse(explained.stdout)).toMatchObject([{ name: "p", inject: true, outcome: "inject", profile: "default", scripts: ["envoy-request-flow", "envoy-event-loop"] }]);
    const injected = runCli(["inject", "-f", f, ...inputs]);
    expect([injected.code, injected.stderr]).toEqual([0, `${f}: document 1: Pod bookinfo/p: injected (namespace bookinfo is labelled hookpoint.dev/inject=enabled)\n`]);
    const out = parseAllDocuments(injected.stdout)[0]?.toJS() as { spec: { containers: { env: unknown }[] } };
    expect(out.spec.containers[0]?.env).toEqual([
      { name: "HOOKPOINT_SCRIPTS", value: "envoy-request-flow,envoy-event-loop" },
      { name: "POD_NAME", value: "p" },
      { name: "HOOKPOINT_PROFILE", value: "default" },
      { name: "HOOKPOINT_OUTPUT_DIR", value: "/tmp/hookpoint" },
      { name: "HOOKPOINT_METRICS_PORT", value: "15099" },
    ]);
  });
  it("goes on past a denial, reports every document, and says what it assumed", () => {
    const f = write("explain-denied.yaml", [pod("bad", "web", "{hookpoint.dev/image: evil.example.com/x:1}"), "apiVersion: v1\nkind: Pod\nmetadata: {name: nons}\nspec:\n  containers: [{name: istio-proxy}]\n"].join("---\n"));
    const r = runCli(["explain", "-f", f]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(0, 3)).toEqual([
      "KIND  NAMESPACE  NAME  INJECT  DECIDED BY  REASON        POLICY",
      "Pod   web        bad   no      default     not-opted-in  (defaults)",
      "Pod   default    nons  no      default     not-opted-in  (defaults)",
    ]);
    expect(r.stderr).toBe(
      [
        "hookpoint explain: assumed: no --policy given: the built-in default policy decides (mode OptIn: only a namespace label or an allowed pod annotation opts in)",
        "hookpoint explain: assumed: no --namespaces given: namespaces web, default without labels (give their Namespace objects with --namespaces, or read them with --kubeconfig)",
        'hookpoint explain: assumed: Pod nons names no namespace: "default" (-n)',
        "",
      ].join("\n"),
    );
    const web = write("explain-denied-web.yaml", pod("bad", "bookinfo", "{hookpoint.dev/image: evil.example.com/x:1}") + "---\n" + pod("good", "bookinfo"));
    const both = runCli(["explain", "-f", web, ...inputs]);
    expect(both.code).toBe(0);
    expect(both.stdout.split("\n").slice(1, 3)).toEqual([
      "Pod   bookinfo   bad   denied  namespace-label  namespace-enabled  default",
      "Pod   bookinfo   good  yes     namespace-label  namespace-enabled  default",
    ]);
    expect(both.stdout).toContain(`${web}: document 1: Pod bookinfo/bad: denied: image "evil.example.com/x:1" from annotation hookpoint.dev/image is not allowed by HookpointPolicy default: allowedImages is hookpoint/proxy-istio:*\n`);
  });
  it("says that a --policy file holding no HookpointPolicy leaves the built-in default policy deciding", () => {
    const none = write("no-policies.yaml", "# kubectl get hookpointpolicies -o yaml, on a cluster with none\napiVersion: v1\nkind: List\nitems: []\n");
    const f = write("explain-no-policies.yaml", pod("p", "bookinfo"));
    expect(runCli(["explain", "-f", f, "--policy", none, "--namespaces", "examples/namespaces.yaml"])).toEqual({
      code: 0,
      stdout:
        "KIND  NAMESPACE  NAME  INJECT  DECIDED BY       REASON             POLICY\n" +
        "Pod   bookinfo   p     yes     namespace-label  namespace-enabled  (defaults)\n\n" +
        `${f}: document 1: Pod bookinfo/p: namespace bookinfo is labelled hookpoint.dev/inject=enabled\n` +
        `${f}: document 1: Pod bookinfo/p: would apply profile "default", image hookpoint/proxy-istio:0.1.0-istio1.28.0, scripts envoy-event-loop, envoy-request-flow, hookpoint-pairs\n`,
      stderr:
        `hookpoint explain: assumed: ${none} (--policy) holds no HookpointPolicy: the built-in default policy decides (mode OptIn: only a namespace label or an allowed pod annotation opts in)\n` +
        "hookpoint explain: assumed: the tracing image where the profile names none: hookpoint/proxy-istio:0.1.0-istio1.28.0 (the built-in default; --image or the profile's image sets another)\n",
    });
  });
});

describe("hookpoint explain, where Istio's injector adds the proxy when the pod is created", () => {
  const deployment = (ns: string, name: string, labels = `{app: ${name}}`) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  selector: {matchLabels: {app: ${name}}}\n  template:\n    metadata: {labels: ${labels}}\n    spec:\n      containers: [{name: app, image: app:1}]\n`;
  const namespaces = () =>
    write(
      "istio-namespaces.yaml",
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio-injection: enabled, hookpoint.dev/inject: enabled}}\n---\n" +
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: plain, labels: {hookpoint.dev/inject: enabled}}\n",
    );
  const policy = ["--policy", "examples/policy.yaml"];
  const IMAGE = "hookpoint explain: assumed: the tracing image where the profile names none: hookpoint/proxy-istio:0.1.0-istio1.28.0 (the built-in default; --image or the profile's image sets another)\n";

  it("Istio's injector adds: a plain Deployment in a namespace labelled istio-injection=enabled: decided on the pod Istio hands over, and says it assumed Istio's proxy", () => {
    const f = write("istio-enabled.yaml", deployment("shop", "web") + "---\n" + deployment("shop", "api"));
    expect(runCli(["explain", "-f", f, ...policy, "--namespaces", namespaces()])).toEqual({
      code: 0,
      stdout:
        "KIND        NAMESPACE  NAME  INJECT  DECIDED BY       REASON             POLICY\n" +
        "Deployment  shop       web   yes     namespace-label  namespace-enabled  default\n" +
        "Deployment  shop       api   yes     namespace-label  namespace-enabled  default\n\n" +
        `${f}: document 1: Deployment shop/web: namespace shop is labelled hookpoint.dev/inject=enabled\n` +
        `${f}: document 1: Deployment shop/web: would apply profile "default", image hookpoint/proxy-istio:0.1.0-istio1.28.0, scripts envoy-request-flow, envoy-event-loop\n` +
        `${f}: document 2: Deployment shop/api: namespace shop is labelled hookpoint.dev/inject=enabled\n` +
        `${f}: document 2: Deployment shop/api: would apply profile "default", image hookpoint/proxy-istio:0.1.0-istio1.28.0, scripts envoy-request-flow, envoy-event-loop\n`,
      stderr:
        "hookpoint explain: assumed: Istio's injector adds its istio-proxy container (Istio's default sidecar template) to the pods of Deployment shop/web, Deployment shop/api: namespace shop is labelled istio-injection=enabled\n" +
        IMAGE,
    });
    const json = runCli(["explain", "-f", f, ...policy, "--namespaces", namespaces(), "-o", "json"]);
    expect(JSON.parse(json.stdout)[0]).toEqual({
      file: f, document: 1, kind: "Deployment", name: "web", namespace: "shop", inject: true, outcome: "inject", decidedBy: "namespace-label", reason: "namespace-enabled",
      message: "namespace shop is labelled hookpoint.dev/inject=enabled", policy: "default", warnings: [], profile: "default", image: "hookpoint/proxy-istio:0.1.0-istio1.28.0", scripts: ["envoy-request-flow", "envoy-event-loop"],
    });
  });

  it("Istio's injector adds none: a plain Deployment where Istio's injection is not enabled, and one labelled sidecar.istio.io/inject=false: no, saying why Istio adds no proxy", () => {
    const f = write("istio-not-enabled.yaml", deployment("plain", "web") + "---\n" + deployment("shop", "batch", '{app: batch, sidecar.istio.io/inject: "false"}'));
    expect(runCli(["explain", "-f", f, ...policy, "--namespaces", namespaces()])).toEqual({
      code: 0,
      stdout:
        "KIND        NAMESPACE  NAME   INJECT  DECIDED BY        REASON               POLICY\n" +
        "Deployment  plain      web    no      target-container  no-target-container  default\n" +
        "Deployment  shop       batch  no      target-container  no-target-container  default\n\n" +
        `${f}: document 1: Deployment plain/web: no container named istio-proxy, and Istio's injector would not add one: Istio's injection is not enabled for its pods: namespace plain has neither istio-injection=enabled nor istio.io/rev, and the template has no sidecar.istio.io/inject=true label\n` +
        `${f}: document 2: Deployment shop/batch: no container named istio-proxy, and Istio's injector would not add one: the template is labelled sidecar.istio.io/inject=false\n`,
      stderr: "",
    });
  });

  it("a namespace missing from --namespaces is taken without labels for Istio's step too: no proxy, and no note that contradicts the other", () => {
    const f = write("istio-missing.yaml", deployment("elsewhere", "web"));
    const r = runCli(["explain", "-f", f, ...policy, "--namespaces", namespaces()]);
    expect({ code: r.code, row: r.stdout.split("\n")[1], stderr: r.stderr }).toEqual({
      code: 0,
      row: "Deployment  elsewhere  web   no      target-container  no-target-container  default",
      stderr: `hookpoint explain: assumed: namespace elsewhere not in ${namespaces()}: no labels\n`,
    });
  });

  it("namespace labels unknown (no --namespaces): Istio's injector adds Istio's proxy and says so; inject still leaves the template alone", () => {
    const f = write("istio-unknown.yaml", deployment("shop", "web"));
    const r = runCli(["explain", "-f", f, ...policy]);
    expect([r.code, r.stdout.split("\n")[1]]).toEqual([0, "Deployment  shop       web   no      default     not-opted-in  default"]);
    expect(r.stderr).toBe(
      "hookpoint explain: assumed: no --namespaces given: namespace shop without labels (give their Namespace objects with --namespaces, or read them with --kubeconfig)\n" +
        "hookpoint explain: assumed: Istio's injector adds its istio-proxy container (Istio's default sidecar template) to the pods of Deployment shop/web, as if namespace shop were labelled istio-injection=enabled: " +
        "Istio's decision needs namespace shop's labels (istio-injection, istio.io/rev), which are not known (give its Namespace object with --namespaces, or read it with --kubeconfig)\n",
    );
    const inj = runCli(["inject", "-f", f, ...policy, "--namespaces", namespaces()]);
    expect([inj.code, inj.stdout, inj.stderr]).toEqual([0, readFileSync(f, "utf8"), `${f}: document 1: Deployment shop/web: skipped: no container named istio-proxy\n`]);
  });
});
