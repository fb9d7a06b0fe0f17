// Screenshots of a report page for the README (docs/report-*.png): a demo collect folder
// of generated records (5,000 requests of three pods, an hour of map records), built with
// `hookpoint report`, photographed in headless Chromium. Run: npx tsx scripts/report-screenshots.ts
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium } from "../test/support/browser.js";
import { repoRoot } from "../test/support/cli.js";
import { generateMapRecords, generateRequests, writeCollectLayout, type PodSpec } from "../test/support/request-records.js";

const pods: PodSpec[] = [
  { namespace: "shop", name: "cart-7d9f8b6c5d-x2x4z", bootWallNs: 1_738_300_000_000_000_000n, pid: 4242, workers: 2 },
  { namespace: "shop", name: "cart-7d9f8b6c5d-b7k2p", bootWallNs: 1_738_300_000_250_000_000n, pid: 17, workers: 2 },
  { namespace: "web", name: "frontend-0", bootWallNs: 1_738_300_001_000_000_000n, pid: 88, workers: 2 },
];

const dir = mkdtempSync(join(tmpdir(), "hookpoint-screenshots-"));
try {
  writeCollectLayout(
    join(dir, "in"),
    generateRequests({ pods, count: 5000, seed: 3, gapNs: 6_000_000 }),
    undefined,
    pods.flatMap((p, i) => generateMapRecords(p, 12, 1_738_300_010_000, i + 1)),
  );
  const file = join(dir, "report.html");
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "report", join(dir, "in"), "-o", file], { cwd: repoRoot, encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const chromium = await launchChromium();
  if ("skip" in chromium) throw new Error(chromium.skip);
  const page = await chromium.browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(`file://${file}`);
  await page.waitForSelector("body[data-ready]");
  await page.screenshot({ path: join(repoRoot, "docs/report-overview.png") });
  await page.locator("#slowest tbody tr:nth-child(3) a").click();
  await page.screenshot({ path: join(repoRoot, "docs/report-slowest-link.png") });
  // Element shots: the sticky filter bar would cover the element's top.
  await page.addStyleTag({ content: "header { position: static !important; }" });
  await page.locator("#sec-waterfall").screenshot({ path: join(repoRoot, "docs/report-waterfall.png") });
  await page.locator("#sec-groups").screenshot({ path: join(repoRoot, "docs/report-groups.png") });
  await chromium.close();
  console.log("wrote docs/report-overview.png, docs/report-slowest-link.png, docs/report-waterfall.png, docs/report-groups.png");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
