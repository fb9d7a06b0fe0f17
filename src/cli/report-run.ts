// `hookpoint report` work: read the folder, build the page or export, write it atomically.
// Exit codes: 0 written; 1 nothing readable or the write failed; 2 bad arguments.
import { existsSync, statSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { clientBundle } from "../report/bundle.js";
import { buildReportData } from "../report/data.js";
import { loadResults, NoRecordsError, type Loaded } from "../report/load.js";
import { writeOtlp } from "../report/otlp.js";
import { DEFAULT_REPORT_FILES, type ReportOptions } from "../report/formats.js";
import { renderPage } from "../report/page.js";
import { writePerfetto } from "../report/perfetto.js";
import { VERSION } from "../version.js";
import { InputError } from "./errors.js";
import { runCommand } from "./run.js";

/** Problems printed on stderr (all are counted, and the page lists the first hundred). */
const SHOWN_PROBLEMS = 50;

export async function runReport(dir: string, opts: ReportOptions): Promise<void> {
  await runCommand("report", async () => {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(dir, "not a folder (give the folder `hookpoint collect -o` wrote, or any folder of agent NDJSON files)");
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
    const tmp = `${output}.tmp-${process.pid}`;
    try {
      if (opts.format === "html") {
        await writeFile(tmp, renderPage(buildReportData(loaded, new Date()), await clientBundle()));
      } else if (opts.format === "perfetto") {
        await writePerfetto(tmp, loaded.requests, loaded.pods);
      } else {
        await writeOtlp(tmp, loaded.requests, loaded.pods, VERSION);
      }
      await rename(tmp, output);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const mb = statSync(output).size / 1048576;
    process.stderr.write(
      `hookpoint report: wrote ${output} (${opts.format}, ${mb.toFixed(1)} MB) from ${loaded.requests.length} request records and ${loaded.maps.length} map records of ${loaded.pods.size} pods in ${seconds.toFixed(1)} s\n`,
    );
  });
}

function reportProblems(problems: string[], count: number): void {
  for (const p of problems.slice(0, SHOWN_PROBLEMS)) process.stderr.write(`hookpoint report: skipped ${p}\n`);
  if (count > SHOWN_PROBLEMS) process.stderr.write(`hookpoint report: … and ${count - SHOWN_PROBLEMS} more problems (${count} in all)\n`);
}
