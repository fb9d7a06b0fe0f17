// The commands' one-line descriptions as `--help` lists them: each starts with a
// capital verb (Commander's own help command included), so the list reads alike.
import { describe, expect, it } from "vitest";
import { runCli } from "../../support/cli.js";

/** Each entry of the help's Commands section: its name and the first word of its description. */
function commandsOf(args: string[]): [string, string][] {
  const r = runCli(args);
  if (r.code !== 0) throw new Error(`hookpoint ${args.join(" ")}: ${r.stderr}`);
  const section = r.stdout.slice(r.stdout.indexOf("Commands:\n") + "Commands:\n".length);
  return section
    .split("\n")
    .map((line) => /^ {2}(\S+)(?: [^ ]+)*? {2,}(\S+)/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] as string, m[2] as string]);
}

describe("hookpoint --help", () => {
  it("every command's description starts with a capital verb", () => {
    expect(commandsOf(["--help"])).toEqual([
      ["webhook", "Serve"],
      ["inject", "Rewrite"],
      ["explain", "Say,"],
      ["uninject", "Remove"],
      ["enable", "Opt"],
      ["disable", "Undo"],
      ["certs", "Write"],
      ["agent", "Start"],
      ["scripts", "List"],
      ["status", "Show,"],
      ["collect", "Pull"],
      ["report", "Turn"],
      ["check", "Diagnose"],
      ["version", "Print"],
      ["completion", "Print"],
      ["help", "Display"],
    ]);
  });

  it("so does every subcommand's", () => {
    expect(commandsOf(["scripts", "--help"])).toEqual([
      ["list", "List"],
      ["check", "Say,"],
      ["show", "Print"],
      ["help", "Display"],
    ]);
    expect(commandsOf(["certs", "--help"])).toEqual([["rotate-ca", "Ask"]]);
  });
});
