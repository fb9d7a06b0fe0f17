// `hookpoint status`: options here; the work (status-run.ts) loads only when it runs.
import type { Command } from "commander";
import { addPodsOptions } from "./pods-options.js";
import { runCommand } from "./run.js";
import { outputFormatOption } from "./option-values.js";
import type { StatusFlags } from "./status-run.js";

export function register(program: Command): void {
  addPodsOptions(
    program
      .command("status")
      .description("Show, per traced pod, whether its agent traces Envoy (exit code 1 when any pod's tracing is failing)")
      .addOption(outputFormatOption("table")),
    { parallel: 16, timeout: "10s", timeoutHelp: "how long to wait for one pod's agent" },
  ).action((flags: StatusFlags) => runCommand("status", async () => (await import("./status-run.js")).runStatus(flags)));
}
