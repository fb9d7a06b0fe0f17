// `hookpoint agent`'s work once its settings are resolved: start the proxy and trace it.
// Loaded only when the agent runs, not for the other commands or --help.
import pino from "pino";
import { envWith, executableSearchPath, podRef } from "../config.js";
import { Agent } from "../agent/agent.js";
import { decideReaper, findExecutable } from "../agent/reaper.js";
import type { AgentSettings } from "../agent/settings.js";
import { VERSION } from "../version.js";
import { IPV4_ANY, defaultListenHost } from "./listen-host.js";

/** Runs the agent until the proxy ends, then exits with its code. */
export async function runAgent(settings: AgentSettings, argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  const log = pino({ level: settings.logLevel, base: { component: "agent" } }, pino.destination({ fd: 2, sync: true }));
  // The agent is the proxy container's PID 1: an internal error in tracing must not end
  // the container, and with it the proxy.
  process.on("uncaughtException", (err) => log.error({ err: err.stack ?? err.message }, "internal error in the agent; the proxy keeps running"));
  process.on("unhandledRejection", (err) => log.error({ err: String(err) }, "internal error in the agent; the proxy keeps running"));
  const reaper = decideReaper(settings.reaper, process.pid, findExecutable("tini", executableSearchPath()));
  if (reaper.warn) log.warn({ reaper: settings.reaper }, reaper.note);
  else log.info({ reaper: reaper.path }, reaper.note);
  // By default every address, as the webhook does: an IPv6-only pod's IP is reached over IPv6.
  // The proxy starts whatever the probe meets.
  const metricsHost = settings.metricsHost || (await defaultListenHost().catch(() => IPV4_ANY));
  const agent = new Agent({
    settings: { ...settings, metricsHost },
    command: command!,
    args,
    log,
    version: VERSION,
    uid: process.getuid?.() ?? 0,
    reaper: reaper.path,
    setpriv: findExecutable("setpriv", executableSearchPath()),
    pod: podRef(),
    envWith,
  });
  const code = await agent.run();
  process.exit(code);
}
