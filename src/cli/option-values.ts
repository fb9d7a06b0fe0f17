// Options whose value is one of a fixed set that the command checks itself (one line
// naming the flag, exit 2). The set is recorded as the option's choices, which the
// completion script offers and --help lists, without commander's own check (a
// parseArg that would refuse with its usage text instead).
import { Option } from "commander";

export function fixedValuesOption(flags: string, description: string, values: readonly string[], defaultValue: string): Option {
  const option = new Option(flags, description).default(defaultValue);
  option.argChoices = [...values];
  return option;
}

/** -o, --output for a command that prints text (or a table) or JSON. */
export function outputFormatOption(text: "text" | "table"): Option {
  return fixedValuesOption("-o, --output <format>", "output format", [text, "json"], text);
}
