// Debian's chromium driven by playwright-core (which downloads no browser of its own),
// for the report's browser tests, bench:report and the README screenshots.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export interface Chromium {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * A headless Chromium, or why there is none (the caller skips). playwright gives every
 * launch a fresh temporary profile of its own (it refuses --user-data-dir in args).
 */
export async function launchChromium(): Promise<Chromium | { skip: string }> {
  if (!existsSync(CHROMIUM)) return { skip: `no ${CHROMIUM} (scripts/setup/25-chromium.sh installs Debian's chromium when run as root)` };
  try {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      timeout: 60_000,
    });
    return {
      browser,
      close: () => browser.close(),
    };
  } catch (err) {
    return { skip: `chromium would not start: ${(err as Error).message.split("\n")[0]}` };
  }
}
