// `hookpoint report DIR`: one self-contained HTML page (or a Perfetto / OTLP export) from
// collected records. Options here; the work (report-run.ts) loads only when it runs.
import { Option, type Command } from "commander";
import { DEFAULT_REPORT_FILES, REPORT_FORMATS, type ReportOptions } from "../report/formats.js";

export function register(program: Command): void {
  program
    .command("report")
    .description("Turn collected records (a `hookpoint collect` folder, or any folder of agent NDJSON files) into one HTML page, or a Perfetto or OTLP export")
    .argument("<dir>", "folder to read (searched recursively for *.ndjson, rotated *.ndjson.N, optionally .gz)")
    .option("-o, --output <file>", `file to write, - for standard output (default: ${Object.values(DEFAULT_REPORT_FILES).join(", ")} by format)`)
    .addOption(new Option("--format <format>", "html page, Chrome Trace Event JSON for Perfetto, or OTLP/JSON spans").choices(REPORT_FORMATS).default("html"))
    .action(async (dir: string, opts: ReportOptions) => (await import("./report-run.js")).runReport(dir, opts));
}
