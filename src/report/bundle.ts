// The page's script and styles, built when a report is written: the client code
// (client/main.ts, or its compiled .js in a built install) bundled with uPlot by esbuild
// into one inline script, and uPlot's stylesheet. Cached for the process.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export interface ClientBundle {
  js: string;
  css: string;
}

let cached: Promise<ClientBundle> | null = null;

export function clientBundle(): Promise<ClientBundle> {
  cached ??= makeBundle();
  return cached;
}

async function makeBundle(): Promise<ClientBundle> {
  const ts = fileURLToPath(new URL("./client/main.ts", import.meta.url));
  const entry = existsSync(ts) ? ts : fileURLToPath(new URL("./client/main.js", import.meta.url));
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2020",
    minify: true,
    legalComments: "inline",
    logLevel: "silent",
  });
  const js = result.outputFiles[0]!.text;
  const css = await readFile(createRequire(import.meta.url).resolve("uplot/dist/uPlot.min.css"), "utf8");
  return { js, css };
}
