// Pod addresses the API server can proxy to: a network namespace this test creates, with
// a veth pair whose namespace end holds the "pod IPs" (198.18.N.2, .3, ...; RFC 2544's
// benchmarking range, never routed anywhere). The host end gets no address, only a route
// to that /24; the namespace routes nothing but the host's source address back, so what
// runs inside can reach nothing else (but the host loopback ports it is given with
// reachHostLoopback). Everything is deleted by close().
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { relayServer } from "./relay.js";

export interface PodNetwork {
  name: string;
  /** Addresses inside the namespace, as many as asked for. */
  addresses: string[];
  /** An address inside the namespace where nothing listens (connections are refused). */
  unused: string;
  /** Starts a process inside the namespace (network only: same files and mounts). */
  spawn(command: string, args: string[], opts?: { cwd?: string; env?: NodeJS.ProcessEnv }): ChildProcess;
  /**
   * Makes 127.0.0.1:port inside the namespace lead to 127.0.0.1:port of the host (e.g. the
   * API server, which listens on the host's loopback only), so a process inside reaches it
   * with the host's kubeconfig unchanged. The bytes go through a Unix socket: a pathname
   * socket belongs to the file system, which both sides share, not to a network
   * namespace; no address is added anywhere. Resolves once both ends listen.
   */
  reachHostLoopback(port: number): Promise<void>;
  close(): Promise<void>;
}

const RELAY = new URL("./relay.ts", import.meta.url).pathname;

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
  const relays: { server: Server; sockets: Set<Socket>; dir: string }[] = [];
  const cleanup = (): void => {
    for (const c of children) c.kill("SIGKILL");
    for (const r of relays.splice(0)) {
      r.server.close();
      for (const sock of r.sockets) sock.destroy();
      rmSync(r.dir, { recursive: true, force: true });
    }
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
  const inNamespace = (command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess => {
    const child = spawn("nsenter", [`--net=/run/netns/${name}`, "--", command, ...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    child.on("exit", () => children.delete(child));
    return child;
  };
  return {
    name,
    addresses,
    unused: `198.18.${subnet}.250`,
    spawn: inNamespace,
    async reachHostLoopback(port) {
      const dir = mkdtempSync(join(tmpdir(), "hookpoint-e2e-relay-"));
      const socketPath = join(dir, `${port}.sock`);
      const sockets = new Set<Socket>();
      const server = relayServer(() => createConnection(port, "127.0.0.1"), sockets);
      relays.push({ server, sockets, dir });
      await new Promise<void>((resolve, reject) => server.once("error", reject).listen(socketPath, resolve));
      const child = inNamespace(process.execPath, ["--import", "tsx", RELAY, socketPath, String(port)]);
      await new Promise<void>((resolve, reject) => {
        let err = "";
        child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
        child.stdout?.on("data", (d: Buffer) => d.toString().includes("listening") && resolve());
        child.once("exit", (code) => reject(new Error(`the namespace's end of 127.0.0.1:${port} exited (code ${code}): ${err}`)));
      });
    },
    async close() {
      const exits = [...children].map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r()))));
      for (const c of children) c.kill("SIGTERM");
      await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5000))]);
      cleanup();
    },
  };
}
