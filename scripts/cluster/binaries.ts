// The cluster's binaries come from build.sh (Go build, cached by version outside
// the repository). This edge runs it and turns its exit codes into errors.
import { spawn, spawnSync } from "node:child_process";
import { BUILD_SCRIPT, ClusterError, ClusterUnavailableError } from "./layout.js";

const DIE_PREFIX = "hookpoint cluster: ";

export interface Binaries {
  etcd: string;
  apiserver: string;
}

function parsePaths(stdout: string): Binaries {
  const paths = new Map(
    stdout.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
  );
  const etcd = paths.get("etcd");
  const apiserver = paths.get("kube-apiserver");
  if (!etcd || !apiserver) throw new ClusterError(`unexpected output of ${BUILD_SCRIPT} --print-paths: ${JSON.stringify(stdout)}`);
  return { etcd, apiserver };
}

/** Where the binaries are (or will be) cached, and whether both are there. */
export function cachedBinaries(env: NodeJS.ProcessEnv = process.env): { paths: Binaries; present: boolean } {
  const r = spawnSync("bash", [BUILD_SCRIPT, "--print-paths"], { env, encoding: "utf8" });
  if (r.status !== 0 && r.status !== 3) {
    throw new ClusterError(`${BUILD_SCRIPT} --print-paths failed: ${(r.stderr || r.error?.message || "").trim()}`);
  }
  return { paths: parsePaths(r.stdout), present: r.status === 0 };
}

/**
 * Builds what is missing (a no-op when cached). Progress goes to our stderr as it
 * happens; a machine that cannot build gets ClusterUnavailableError with build.sh's reason.
 */
export async function ensureBinaries(env: NodeJS.ProcessEnv = process.env): Promise<Binaries> {
  const { paths, present } = cachedBinaries(env);
  if (present) return paths;
  const result = await new Promise<{ code: number | null; reason: string }>((done, fail) => {
    const child = spawn("bash", [BUILD_SCRIPT], { env, stdio: ["ignore", "inherit", "pipe"] });
    // Progress is passed through as it comes; build.sh's closing "hookpoint cluster: ..."
    // line is kept back because the caller reports it (once) as the error.
    let partial = "";
    let reason = "";
    const take = (text: string) => {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith(DIE_PREFIX)) reason = line.slice(DIE_PREFIX.length);
        else process.stderr.write(line + "\n");
      }
    };
    child.stderr.on("data", (chunk: Buffer) => take(chunk.toString("utf8")));
    child.on("error", fail);
    child.on("close", (code) => {
      if (partial) take("\n");
      done({ code, reason: reason || `build.sh exited with code ${code}` });
    });
  });
  if (result.code === 2) throw new ClusterUnavailableError(result.reason);
  if (result.code !== 0) throw new ClusterError(result.reason);
  return paths;
}
