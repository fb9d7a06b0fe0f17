import type { Command } from "commander";

// Every command module, in help order. Each adds its own subcommand.
export function registerCommands(program: Command): void {
  void program;
}
