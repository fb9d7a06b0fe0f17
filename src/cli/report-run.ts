// `hookpoint report` work: read the folder, build the page or export, write it atomically.
// Exit codes: 0 written; 1 nothing readable or the write failed; 2 bad arguments.
import { statSync, type Stats } from "node:fs";
import { stat, writeFile } from "node:fs/promises";
import { clientBundle } from "../report/bundle.js";
import { buildReportData, unrecordedByPod } from "../report/data.js";
import { AGENT_LIFE_NOTE, outcomesText, totalUnrecordedText } from "../report/unrecorded.js";
import { loadResults, NoRecordsError, type Loaded } from "../report/load.js";
import { writeOtlp } from "../report/otlp.js";
import { DEFAULT_REPORT_FILES, type ReportOptions } from "../report/formats.js";
import { renderPage } from "../report/page.js";
import { writePerfetto } from "../report/perfetto.js";
import { counted } from "../counted.js";
import { VERSION } from "../version.js";
import { errnoText } from "../errno-text.js";
import { InputError } from "./errors.js";
import { writeReplacing } from "../replace-file.js";
import { runCommand } from "./run.js";

/** Problems printed on stderr (all are counted, and the page lists the first hundred). */
const SHOWN_PROBLEMS = 50;

export async function runReport(dir: string, opts: ReportOptions): Promise<void> {
  await runCommand("report", async () => {
    // A mistyped folder is missing, not "not a folder": say which, in words.
    let st: Stats;
    try {
      st = statSync(dir);
    } catch (err) {
      throw new InputError(dir, `cannot read: ${errnoText(err, "directory")}`);
    }
    if (!st.isDirectory()) throw new InputError(dir, "not a folder (give the folder `hookpoint collect -o` wrote, or any folder of agent NDJSON files)");
    const started = process.hrtime.bigint();
    let loaded: Loaded;
    try {
      loaded = await loadResults(dir);
    } catch (err) {
      if (!(err instanceof NoRecordsError)) throw err;
      reportProblems(err.problems, err.problemCount);
      process.stderr.write(`hookpoint report: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    reportProblems(loaded.problems, loaded.problemCount);
    const output = opts.output ?? DEFAULT_REPORT_FILES[opts.format];
    const page = opts.format === "html" ? renderPage(buildReportData(loaded, new Date()), await clientBundle()) : undefined;
    let bytes: number | undefined;
    await writeReplacing(output, async ({ path }) => {
      if (page !== undefined) {
        await writeFile(path, page);
        bytes = Buffer.byteLength(page);
        return;
      }
      if (opts.format === "perfetto") await writePerfetto(path, loaded.requests, loaded.pods);
      else await writeOtlp(path, loaded.requests, loaded.pods, VERSION);
      // A FIFO or /dev/stdout keeps no size: a stream's is not known.
      const st = await stat(path);
      bytes = st.isFile() ? st.size : undefined;
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const size = bytes === undefined ? "" : `, ${(bytes / 1048576).toFixed(1)} MB`;
    process.stderr.write(
      `hookpoint report: wrote ${output === "-" ? "standard output" : output} (${opts.format}${size}) from ${counted(loaded.requests.length, "request record")} and ${counted(loaded.maps.length, "map record")} of ${counted(loaded.pods.size, "pod")} in ${seconds.toFixed(1)} s\n`,
    );
    const unrecorded = unrecordedLine(unrecordedByPod(loaded));
    if (unrecorded !== null) process.stderr.write(`hookpoint report: ${unrecorded}\n`);
  });
}

function reportProblems(problems: string[], count: number): void {
  for (const p of problems.slice(0, SHOWN_PROBLEMS)) process.stderr.write(`hookpoint report: skipped ${p}\n`);
  if (count > SHOWN_PROBLEMS) process.stderr.write(`hookpoint report: … and ${count - SHOWN_PROBLEMS} more problems (${count} in all)\n`);
}

/**
 * "2 traced requests have no record: 1 aborted, 1 timeout (the agent's counts over its
 * life, at collect time)", then each pod's when more than one has any; null for none.
 */
export function unrecordedLine(pods: readonly { pod: string; outcomes: [string, number][] }[]): string | null {
  const total = totalUnrecordedText(pods);
  if (total === null) return null;
  const perPod = pods.length > 1 ? `: ${pods.map((p) => `${p.pod} ${outcomesText(p.outcomes)}`).join("; ")}` : "";
  return `${total} (${AGENT_LIFE_NOTE})${perPod}`;
}
