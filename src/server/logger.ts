// The webhook's logger: pino JSON lines on stdout, or pino-pretty for humans.
// pino-pretty runs in-process (no transport worker), so a crash cannot lose
// the last lines and start-up stays quick; it is loaded only for --pretty.
import { createRequire } from "node:module";
import { pino, type DestinationStream, type LevelWithSilent, type Logger } from "pino";
import { LOG_LEVELS } from "../defaults.js";

const require = createRequire(import.meta.url);

export interface LoggerOptions {
  level: string;
  pretty: boolean;
  /** Colours in pretty output (config.wantsColor decides). */
  color?: boolean;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
  /** A file (or fd) to write JSON lines to, buffered as stdout is (benchmarks: /dev/null). */
  file?: string | number;
}

/** Throws an error naming the flag when `level` is not a pino level. */
export function checkLogLevel(level: string): LevelWithSilent {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(level)}`);
  }
  return level as LevelWithSilent;
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = checkLogLevel(opts.level);
  const base = { level, base: { component: "webhook" } };
  if (opts.pretty) {
    const pretty = require("pino-pretty") as typeof import("pino-pretty");
    return pino(base, pretty({ colorize: opts.color ?? false, destination: opts.destination ?? 1, sync: true, ignore: "pid,hostname,component" }));
  }
  // Synchronous writes, pino's default. Asynchronous ones hand every line to libuv's
  // thread pool, and waking a pool thread on a busy node stalls the event loop: at 1,000
  // reviews/s they doubled the webhook's p90 (bench:webhook; docs/benchmarks.md). A line
  // is one write(2) of ~300 bytes to the container runtime's pipe.
  return pino(base, opts.destination ?? pino.destination({ dest: opts.file ?? 1, sync: true }));
}
