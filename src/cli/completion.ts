// `hookpoint completion bash|zsh|fish`: a completion script for the shell, made
// from the command tree (completion-script.ts).
import { Argument, type Command } from "commander";
import { runCommand } from "./run.js";

export function register(program: Command): void {
  program
    .command("completion")
    .description("Print a shell completion script: source <(hookpoint completion bash), or save it where your shell loads completions")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(["bash", "zsh", "fish"]))
    .action((shell: string) =>
      runCommand("completion", async () => {
        const { bashScript, fishScript, zshScript } = await import("./completion-script.js");
        process.stdout.write(shell === "bash" ? bashScript(program) : shell === "zsh" ? zshScript(program) : fishScript(program));
      }),
    );
}
