// Pod addresses the API server can proxy to: a network namespace this test creates, with
// a veth pair whose namespace end holds the "pod IPs" (198.18.N.2, .3, ...; RFC 2544's
// benchmarking range, never routed anywhere). The host end gets no address, only a route
// to that /24; the namespace routes nothing but the host's source address back, so what
// runs inside can reach nothing else. Everything is deleted by close().
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";

export interface PodNetwork {
  name: string;
  /** Addresses inside the namespace, as many as asked for. */
  addresses: string[];
  /** An address inside the namespace where nothing listens (connections are refused). */
  unused: string;
  /** Starts a process inside the namespace (network only: same files and mounts). */
  spawn(command: string, args: string[], opts?: { cwd?: string; env?: NodeJS.ProcessEnv }): ChildProcess;
  close(): Promise<void>;
}

function ip(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? r.error.message : ""}`.trim() };
}

/** The network, or why it cannot be made here (the caller skips with it). */
export function createPodNetwork(count: number): PodNetwork | string {
  if (process.getuid?.() !== 0) return "not root: creating a network namespace needs CAP_NET_ADMIN";
  if (spawnSync("nsenter", ["--version"]).status !== 0) return "nsenter (util-linux) is not installed";
  const id = randomBytes(3).toString("hex");
  const name = `hookpoint-e2e-${id}`;
  const hostEnd = `hpe${id}h`;
  const nsEnd = `hpe${id}n`;
  let subnet = -1;
  for (let tries = 0; tries < 50 && subnet < 0; tries++) {
    const n = 1 + Math.floor(Math.random() * 254);
    if (ip(["route", "show", "to", "match", `198.18.${n}.1`]).out.includes(`198.18.${n}.`)) continue;
    if (ip(["-o", "addr"]).out.includes(`198.18.${n}.`)) continue;
    subnet = n;
  }
  if (subnet < 0) return "no free /24 in 198.18.0.0/16 for the test's pod addresses";
  const addresses = Array.from({ length: count }, (_v, i) => `198.18.${subnet}.${i + 2}`);
  const children = new Set<ChildProcess>();
  const cleanup = (): void => {
    for (const c of children) c.kill("SIGKILL");
    ip(["netns", "del", name]); // takes the veth pair (both ends) and the route with it
    ip(["link", "del", hostEnd]);
  };
  const steps: string[][] = [
    ["netns", "add", name],
    ["link", "add", hostEnd, "type", "veth", "peer", "name", nsEnd],
    ["link", "set", nsEnd, "netns", name],
    ...[...addresses, `198.18.${subnet}.250`].map((a) => ["-n", name, "addr", "add", `${a}/32`, "dev", nsEnd]),
    ["-n", name, "link", "set", "lo", "up"],
    ["-n", name, "link", "set", nsEnd, "up"],
    ["link", "set", hostEnd, "up"],
    ["route", "add", `198.18.${subnet}.0/24`, "dev", hostEnd],
  ];
  for (const step of steps) {
    const r = ip(step);
    if (!r.ok) {
      cleanup();
      return `cannot set up a network namespace (ip ${step.join(" ")}): ${r.out}`;
    }
  }
  // The host answers from its own source address for this route; only that goes back.
  const src = /\bsrc (\S+)/.exec(ip(["-o", "route", "get", addresses[0]!]).out)?.[1];
  const back = src ? ip(["-n", name, "route", "add", `${src}/32`, "dev", nsEnd]) : { ok: false, out: "no source address for the route" };
  if (!back.ok) {
    cleanup();
    return `cannot route the network namespace back to the host: ${back.out}`;
  }
  return {
    name,
    addresses,
    unused: `198.18.${subnet}.250`,
    spawn(command, args, opts = {}) {
      const child = spawn("nsenter", [`--net=/run/netns/${name}`, "--", command, ...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
      children.add(child);
      child.on("exit", () => children.delete(child));
      return child;
    },
    async close() {
      const exits = [...children].map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r()))));
      for (const c of children) c.kill("SIGTERM");
      await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5000))]);
      cleanup();
    },
  };
}
