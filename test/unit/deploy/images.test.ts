// The Dockerfiles under deploy/images/. No Docker engine runs here, so this
// checks what can be checked without one: the files parse; base images and
// build arguments are the ones documented; every COPY source exists in the build
// context (and survives .dockerignore) or is produced by the stage it comes
// from; and the entrypoints name files that the build output really has - the
// launcher is run against a real `tsc` build laid out as in the image.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../../../src/version.js";
import { packagesLoadedFrom, prunedPackages, withPeers } from "../../support/dependencies.js";
import { ROOT } from "./support.js";

const KEYWORDS = new Set([
  "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
]);

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

interface Parsed {
  directives: string[];
  globalArgs: Record<string, string | undefined>;
  stages: Stage[];
}

function parse(file: string): Parsed {
  const df = DockerfileParser.parse(readFileSync(join(ROOT, file), "utf8"));
  const globalArgs: Record<string, string | undefined> = {};
  const stages: Stage[] = [];
  for (const ins of df.getInstructions()) {
    const kw = ins.getKeyword();
    if (!KEYWORDS.has(kw)) throw new Error(`${file}:${ins.getRange().start.line + 1}: unknown instruction ${kw}`);
    const args = ins.getArguments().map((a) => a.getValue());
    if (kw === "FROM") {
      const [image = "", as, name] = args;
      if (args.length !== 1 && !(args.length === 3 && as?.toUpperCase() === "AS")) throw new Error(`${file}: malformed FROM ${args.join(" ")}`);
      stages.push({ image, ...(name ? { name } : {}), instructions: [] });
    } else if (stages.length === 0) {
      if (kw !== "ARG") throw new Error(`${file}: only ARG may come before the first FROM, got ${kw}`);
      const [k = "", v] = (args[0] ?? "").split("=");
      globalArgs[k] = v;
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return { directives: df.getDirectives().map((d) => `${d.getName()}=${d.getValue()}`), globalArgs, stages };
}

function args(ins: Instruction): string[] {
  return ins.getArguments().map((a) => a.getValue());
}

function flags(ins: Instruction): Record<string, string | null> {
  const f = (ins as unknown as { getFlags?: () => { getName(): string; getValue(): string | null }[] }).getFlags?.() ?? [];
  return Object.fromEntries(f.map((x) => [x.getName(), x.getValue()]));
}

/** Exec-form ENTRYPOINT/CMD as an array; throws on the shell form (no signal forwarding). */
function execForm(stage: Stage, kw: "ENTRYPOINT" | "CMD"): string[] | undefined {
  const ins = stage.instructions.filter((i) => i.getKeyword() === kw).at(-1);
  if (!ins) return undefined;
  const text = ins.getArgumentsContent() ?? "";
  const value = JSON.parse(text) as unknown;
  if (!Array.isArray(value) || !value.every((s) => typeof s === "string")) throw new Error(`${kw} is not an exec-form JSON array: ${text}`);
  return value as string[];
}

function resolve(image: string, vars: Record<string, string | undefined>): string {
  return image.replace(/\$\{([A-Z_]+)\}/g, (_m, k: string) => {
    const v = vars[k];
    if (v === undefined) return `<${k}>`;
    return v;
  });
}

// ---- .dockerignore (Docker's rules: last matching pattern wins; a pattern matches a path or any parent of it) ----

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? "";
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function dockerIgnored(path: string): boolean {
  const patterns = readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const parents = path.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const p of patterns) {
    const negate = p.startsWith("!");
    const re = globToRegExp((negate ? p.slice(1) : p).replace(/^\/+|\/+$/g, ""));
    if (parents.some((x) => re.test(x))) ignored = !negate;
  }
  return ignored;
}

// ---- the images' layout ----

/** What the build stage's RUN steps produce (relative to its WORKDIR): npm ci → node_modules, npm run build → tsc's outDir. */
function buildStageOutputs(stage: Stage): Set<string> {
  const out = new Set<string>();
  for (const ins of stage.instructions) {
    const a = args(ins);
    if (ins.getKeyword() === "COPY" && !flags(ins)["from"]) for (const src of a.slice(0, -1)) out.add(src);
    if (ins.getKeyword() === "RUN") {
      const cmd = a.join(" ");
      if (/\bnpm ci\b/.test(cmd)) out.add("node_modules");
      if (/\bnpm run build\b/.test(cmd)) {
        const tsconfig = JSON.parse(readFileSync(join(ROOT, "tsconfig.build.json"), "utf8")) as { compilerOptions: { outDir: string } };
        out.add(tsconfig.compilerOptions.outDir);
      }
    }
  }
  return out;
}

function workdir(stage: Stage): string {
  return args(stage.instructions.filter((i) => i.getKeyword() === "WORKDIR").at(-1) as Instruction)[0] ?? "/";
}

function checkCopies(file: string): void {
  const { stages } = parse(file);
  for (const stage of stages) {
    for (const ins of stage.instructions.filter((i) => i.getKeyword() === "COPY" || i.getKeyword() === "ADD")) {
      expect(ins.getKeyword(), `${file}: prefer COPY to ADD`).toBe("COPY");
      const a = args(ins);
      const from = flags(ins)["from"];
      for (const src of a.slice(0, -1)) {
        if (!from) {
          expect(existsSync(join(ROOT, src)), `${file}: COPY source ${src} exists`).toBe(true);
          expect(dockerIgnored(src), `${file}: COPY source ${src} is not excluded by .dockerignore`).toBe(false);
        } else if (from === "node") {
          // The official node image keeps its binary here.
          expect(src).toBe("/usr/local/bin/node");
        } else {
          const producer = stages.find((s) => s.name === from);
          if (!producer) throw new Error(`${file}: COPY --from=${from}: no such stage`);
          const base = workdir(producer);
          expect(src.startsWith(`${base}/`), `${file}: ${src} is under the ${from} stage's WORKDIR ${base}`).toBe(true);
          expect([...buildStageOutputs(producer)], `${file}: ${src} is produced by stage ${from}`).toContain(src.slice(base.length + 1));
        }
      }
    }
  }
}

/** Destination → source of every COPY into the final stage. */
function finalCopies(file: string): Map<string, string> {
  const final = parse(file).stages.at(-1) as Stage;
  const out = new Map<string, string>();
  for (const ins of final.instructions.filter((i) => i.getKeyword() === "COPY")) {
    const a = args(ins);
    out.set(a.at(-1) ?? "", a.slice(0, -1).join(" "));
  }
  return out;
}

const FILES = ["deploy/images/webhook.Dockerfile", "deploy/images/proxy-istio.Dockerfile", "deploy/images/proxy-cilium.Dockerfile"];

describe("Dockerfiles", () => {
  it.each(FILES)("%s parses, uses BuildKit's syntax directive and known instructions", (file) => {
    const p = parse(file);
    expect(p.directives).toEqual(["syntax=docker/dockerfile:1"]);
    expect(p.stages.length).toBeGreaterThanOrEqual(2);
    for (const s of p.stages) {
      // Every ${VAR} in FROM is a declared global ARG.
      for (const m of s.image.matchAll(/\$\{([A-Z_]+)\}/g)) expect(Object.keys(p.globalArgs)).toContain(m[1]);
    }
  });

  it.each(FILES)("%s: every COPY source exists in the context or is produced by its stage", (file) => {
    checkCopies(file);
  });

  it("the webhook image: a multi-stage Node 20 build with npm ci and npm run build, then production dependencies only, non-root", () => {
    const p = parse("deploy/images/webhook.Dockerfile");
    expect(p.globalArgs).toEqual({ NODE_VERSION: "20" });
    expect(p.stages.map((s) => resolve(s.image, p.globalArgs))).toEqual([
      "docker.io/library/node:20-bookworm-slim",
      "docker.io/library/node:20-bookworm-slim",
    ]);
    const [build, final] = p.stages as [Stage, Stage];
    const runs = build.instructions.filter((i) => i.getKeyword() === "RUN").map((i) => args(i).join(" "));
    expect(runs).toEqual(["npm ci --no-audit --no-fund", "npm run build && npm prune --omit=dev --no-audit --no-fund"]);
    expect(final.instructions.filter((i) => i.getKeyword() === "RUN")).toEqual([]);
    expect([...finalCopies("deploy/images/webhook.Dockerfile")]).toEqual([
      ["./package.json", "/src/package.json"],
      ["./node_modules", "/src/node_modules"],
      ["./dist", "/src/dist"],
    ]);
    expect(args(final.instructions.filter((i) => i.getKeyword() === "USER").at(-1) as Instruction)).toEqual(["65532:65532"]);
    expect(execForm(final, "ENTRYPOINT")).toEqual(["/usr/local/bin/node", "/opt/hookpoint/dist/cli/main.js"]);
    expect(execForm(final, "CMD")?.[0]).toBe("webhook");
  });

  it("the Istio proxy image: FROM istio/proxyv2 at ISTIO_VERSION, adds bpftrace, tini, setpriv, Node, the agent and bpf/, keeps pilot-agent and envoy", () => {
    const file = "deploy/images/proxy-istio.Dockerfile";
    const p = parse(file);
    expect(p.globalArgs).toEqual({ ISTIO_VERSION: "1.28.0", NODE_VERSION: "20" });
    const final = p.stages.at(-1) as Stage;
    expect(final.image).toBe("docker.io/istio/proxyv2:${ISTIO_VERSION}");
    checkTracingImage(file, final);
    expect(execForm(final, "ENTRYPOINT")).toEqual(["/usr/local/bin/hookpoint", "agent", "--", "/usr/local/bin/pilot-agent"]);
    const checks = final.instructions.filter((i) => i.getKeyword() === "RUN").map((i) => args(i).join(" ")).at(-1);
    expect(checks).toBe("test -x /usr/local/bin/pilot-agent && test -x /usr/local/bin/envoy && bpftrace --version && setpriv --pdeathsig KILL -- true && hookpoint --version");
  });

  it("the Cilium proxy image: FROM cilium-envoy at CILIUM_ENVOY_VERSION (required), same additions, keeps cilium-envoy", () => {
    const file = "deploy/images/proxy-cilium.Dockerfile";
    const p = parse(file);
    expect(p.globalArgs).toEqual({ CILIUM_ENVOY_VERSION: undefined, NODE_VERSION: "20" });
    const final = p.stages.at(-1) as Stage;
    expect(final.image).toBe("quay.io/cilium/cilium-envoy:${CILIUM_ENVOY_VERSION}");
    checkTracingImage(file, final);
    expect(execForm(final, "ENTRYPOINT")).toEqual(["/usr/local/bin/hookpoint", "agent", "--", "/usr/bin/cilium-envoy-starter"]);
  });

  it("the proxy images keep every package the agent loads and leave pino-pretty (the webhook's --pretty) out; the webhook image keeps it", () => {
    const webhook = prunedPackages(false);
    const proxy = prunedPackages(true);
    expect(webhook.has("pino-pretty")).toBe(true);
    expect(proxy.has("pino-pretty")).toBe(false);
    // `hookpoint agent`: the CLI's entry and, of the commands loaded lazily, only the agent's work.
    const agent = withPeers(packagesLoadedFrom("src/cli/main.ts", ["src/cli/agent-run.ts"]));
    expect(agent.has("fastify") && agent.has("pino") && agent.has("prom-client")).toBe(true);
    expect([...agent].filter((name) => !proxy.has(name))).toEqual([]);
  });

  it(".dockerignore keeps dev certificates, node_modules and local state out of the build context", () => {
    for (const p of ["certs/tls.key", "certs/ca.key", "node_modules/fastify/package.json", "dist/cli/main.js", ".cluster/kubeconfig", ".git/HEAD", "test/unit/version.test.ts"]) {
      expect(dockerIgnored(p), p).toBe(true);
    }
    for (const p of ["package.json", "package-lock.json", "src/cli/main.ts", "bpf/envoy-socket-io.bt", "deploy/images/hookpoint-launcher.sh"]) {
      expect(dockerIgnored(p), p).toBe(false);
    }
  });
});

function checkTracingImage(file: string, final: Stage): void {
  const build = parse(file).stages.find((s) => s.name === "build") as Stage;
  expect(build.instructions.filter((i) => i.getKeyword() === "RUN").map((i) => args(i).join(" "))).toEqual([
    "npm ci --no-audit --no-fund",
    "npm run build && npm prune --omit=dev --omit=optional --no-audit --no-fund",
  ]);
  const runs = final.instructions.filter((i) => i.getKeyword() === "RUN").map((i) => args(i).join(" "));
  expect(runs[0]).toBe(
    "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bpftrace tini util-linux && rm -rf /var/lib/apt/lists/*",
  );
  expect([...finalCopies(file)]).toEqual([
    ["/usr/local/bin/node", "/usr/local/bin/node"],
    ["/opt/hookpoint/package.json", "/src/package.json"],
    ["/opt/hookpoint/node_modules", "/src/node_modules"],
    ["/opt/hookpoint/dist", "/src/dist"],
    ["/opt/hookpoint/bpf", "bpf"],
    ["/usr/local/bin/hookpoint", "deploy/images/hookpoint-launcher.sh"],
  ]);
  const launcher = final.instructions.find((i) => i.getKeyword() === "COPY" && args(i)[1] === "/usr/local/bin/hookpoint") as Instruction;
  expect(flags(launcher)).toEqual({ chmod: "0755" });
  // Nothing is written over the proxy's own binaries.
  for (const dest of finalCopies(file).keys()) expect(dest).not.toMatch(/pilot-agent|envoy/);
}

describe("the built output behind the entrypoints", () => {
  // The image layout, rebuilt here: /opt/hookpoint/{dist,bpf} with node_modules found above it.
  const home = join(ROOT, "test/fixtures/build/image");
  let tscError: string | undefined;

  beforeAll(() => {
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    try {
      execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.build.json"), "--outDir", join(home, "dist")], {
        cwd: ROOT,
        stdio: "pipe",
        timeout: 240_000,
      });
    } catch (err) {
      tscError = String((err as { stdout?: Buffer }).stdout ?? err).slice(0, 2000);
    }
    cpSync(join(ROOT, "bpf"), join(home, "bpf"), { recursive: true });
  }, 300_000);

  it("npm run build (tsc -p tsconfig.build.json) succeeds and writes dist/cli/main.js, the entrypoint of every image", () => {
    expect(tscError).toBeUndefined();
    expect(existsSync(join(home, "dist/cli/main.js"))).toBe(true);
  });

  it("the hookpoint launcher runs the built CLI from the image layout", () => {
    const out = execFileSync("sh", [join(ROOT, "deploy/images/hookpoint-launcher.sh"), "--version"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOOKPOINT_HOME: home, HOOKPOINT_NODE: process.execPath },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(out).toBe(`${VERSION}\n`);
  });

  it("the built CLI has the certs command", () => {
    const out = execFileSync(process.execPath, [join(home, "dist/cli/main.js"), "certs", "--help"], { encoding: "utf8", timeout: 30_000 });
    expect(out.split("\n")[0]).toBe("Usage: hookpoint certs [options] [command]");
  });
});
