import type { Command } from "commander";
import { register as registerAgent } from "./agent.js";
import { register as registerCerts } from "./certs.js";
import { register as registerCheck } from "./check.js";
import { register as registerCollect } from "./collect.js";
import { register as registerCompletion } from "./completion.js";
import { register as registerEnable } from "./enable.js";
import { register as registerExplain } from "./explain.js";
import { register as registerInject } from "./inject.js";
import { register as registerReport } from "./report.js";
import { register as registerScripts } from "./scripts.js";
import { register as registerStatus } from "./status.js";
import { register as registerUninject } from "./uninject.js";
import { register as registerVersion } from "./version.js";
import { register as registerWebhook } from "./webhook.js";

// Every command module, in help order. Each adds its own subcommand; its
// implementation is imported only when that command runs.
export function registerCommands(program: Command): void {
  registerWebhook(program);
  registerInject(program);
  registerExplain(program);
  registerUninject(program);
  registerEnable(program);
  registerCerts(program);
  registerAgent(program);
  registerScripts(program);
  registerStatus(program);
  registerCollect(program);
  registerReport(program);
  registerCheck(program);
  registerVersion(program);
  registerCompletion(program);
}
