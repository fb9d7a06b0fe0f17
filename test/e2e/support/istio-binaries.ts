// Istio's binaries for the real-Istio tests, the injector goldens and bench:injector:
// scripts/istio/build.sh builds them from the istio.io/istio module (cached by version
// outside the repository). This edge runs it and turns its exit codes into errors.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../../../scripts/cluster/layout.js";

export const ISTIO_BUILD_SCRIPT = join(REPO_ROOT, "scripts", "istio", "build.sh");
const DIE_PREFIX = "hookpoint istio: ";

export interface IstioBinaries {
  /** The istio.io/istio module version (a pseudo-version naming the commit). */
  version: string;
  pilotDiscovery: string;
  pilotAgent: string;
  istioctl: string;
  /** The Gateway API CRDs of the module's sigs.k8s.io/gateway-api. */
  gatewayApiCrds: string;
  /** Istio's Envoy bootstrap template (the proxy image's /var/lib/istio/envoy/envoy_bootstrap_tmpl.json). */
  envoyBootstrap: string;
}

/** This machine cannot build Istio (no Go, Go too old, no module proxy): tests skip with the reason. */
export class IstioUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IstioUnavailableError";
  }
}

function parsePaths(stdout: string): IstioBinaries {
  const v = new Map(stdout.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const));
  const get = (k: string) => {
    const value = v.get(k);
    if (!value) throw new Error(`unexpected output of ${ISTIO_BUILD_SCRIPT} --print-paths (no ${k}): ${JSON.stringify(stdout)}`);
    return value;
  };
  return { version: get("version"), pilotDiscovery: get("pilot-discovery"), pilotAgent: get("pilot-agent"), istioctl: get("istioctl"), gatewayApiCrds: get("gateway-api-crds"), envoyBootstrap: get("envoy-bootstrap") };
}

/** The binaries, built first when one is missing (progress on stderr). */
export async function istioBinaries(env: NodeJS.ProcessEnv = process.env): Promise<IstioBinaries> {
  const printed = spawnSync("bash", [ISTIO_BUILD_SCRIPT, "--print-paths"], { env, encoding: "utf8" });
  if (printed.status !== 0 && printed.status !== 3) throw new Error(`${ISTIO_BUILD_SCRIPT} --print-paths failed: ${(printed.stderr || printed.error?.message || "").trim()}`);
  const paths = parsePaths(printed.stdout);
  if (printed.status === 0) return paths;
  const result = await new Promise<{ code: number | null; reason: string }>((done, fail) => {
    const child = spawn("bash", [ISTIO_BUILD_SCRIPT], { env, stdio: ["ignore", "inherit", "pipe"] });
    let reason = "";
    let partial = "";
    child.stderr.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith(DIE_PREFIX)) reason = line.slice(DIE_PREFIX.length);
        else process.stderr.write(line + "\n");
      }
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code, reason: reason || partial || `build.sh exited with code ${code}` }));
  });
  if (result.code === 2) throw new IstioUnavailableError(result.reason);
  if (result.code !== 0) throw new Error(`building Istio failed: ${result.reason}`);
  return paths;
}
