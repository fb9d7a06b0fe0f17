// `collect`'s progress on stderr: a bar (pods done/total, bytes) on a terminal, plain
// lines otherwise (one per pod, so a CI log tells what happened).
import { MultiBar, Presets, type SingleBar } from "cli-progress";
import { podKey, type ManifestPod } from "./manifest.js";
import type { CollectEvents, CollectPod } from "./collect.js";
import { counted } from "../counted.js";

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** The lines a finished pod prints: one, and one per error. */
export function podLines(done: number, total: number, pod: ManifestPod, fetched: number): string[] {
  const id = podKey(pod);
  if (!pod.agent.reachable) return [`[${done}/${total}] ${id}: FAILED: ${pod.agent.error ?? "unreachable"}`];
  const head = `[${done}/${total}] ${id}: ${counted(pod.files.length, "file")}, ${formatBytes(pod.bytes)} (${formatBytes(fetched)} new)`;
  return [head + (pod.errors.length ? `, ${counted(pod.errors.length, "error")}:` : ""), ...pod.errors.map((e) => `  ${id}: ${e}`)];
}

export interface Progress extends CollectEvents {
  stop(): void;
}

export function createProgress(out: NodeJS.WriteStream, total: number, tty: boolean, prefix = "hookpoint collect: "): Progress {
  let done = 0;
  let bytes = 0;
  if (!tty) {
    return {
      bytes: (n) => (bytes += n),
      podDone(_pod: CollectPod, result, fetched) {
        done += 1;
        for (const line of podLines(done, total, result, fetched)) out.write(prefix + line + "\n");
      },
      stop() {},
    };
  }
  const multi = new MultiBar({ stream: out, format: "collect [{bar}] {value}/{total} pods | {size}", hideCursor: true, clearOnComplete: false, fps: 10 }, Presets.shades_classic);
  const bar: SingleBar = multi.create(total, 0, { size: formatBytes(0) });
  return {
    bytes(n) {
      bytes += n;
      bar.update(done, { size: formatBytes(bytes) });
    },
    podDone(_pod, result, fetched) {
      done += 1;
      if (!result.agent.reachable || result.errors.length) for (const line of podLines(done, total, result, fetched)) multi.log(prefix + line + "\n");
      bar.update(done, { size: formatBytes(bytes) });
    },
    stop() {
      multi.stop();
    },
  };
}
