// Every code block marked runnable (a fence with the info string `sh runnable`) in
// README.md and docs/*.md runs, as written, in a fresh temporary copy of the repository
// with `hookpoint` (and the kustomize that npm test's setup builds) on PATH, and must
// exit 0. Blocks check their own results (cmp, grep, diff), so documentation that
// drifts from the CLI fails here. $TMPDIR is a fresh directory for each block.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { repoRoot } from "../../support/cli.js";
import { KUSTOMIZE_MISSING, kustomizeBinary } from "../../unit/deploy/support.js";

interface Block {
  line: number;
  code: string;
}

/** The runnable blocks of a Markdown text, with the line their fence opens on. */
export function runnableBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*(\S+)\s+runnable\s*$/.exec(lines[i] ?? "");
    if (!open) continue;
    const fence = open[1] as string;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j] ?? "").startsWith(fence)) body.push(lines[j++] ?? "");
    blocks.push({ line: i + 1, code: body.join("\n") });
    i = j;
  }
  return blocks;
}

/** A copy of the files git tracks (as they are in the work tree), sharing node_modules. */
function copyRepository(): string {
  const copy = mkdtempSync(join(tmpdir(), "hookpoint-readme-"));
  const files = spawnSync("git", ["ls-files", "-z"], { cwd: repoRoot, encoding: "utf8" }).stdout.split("\0").filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    try {
      copyFileSync(join(repoRoot, f), join(copy, f));
    } catch {
      // tracked but deleted in the work tree
    }
  }
  symlinkSync(join(repoRoot, "node_modules"), join(copy, "node_modules"));
  const bin = join(copy, ".readme-bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "hookpoint"), `#!/bin/sh\nexec "${process.execPath}" --import tsx "${copy}/src/cli/main.ts" "$@"\n`);
  chmodSync(join(bin, "hookpoint"), 0o755);
  const kustomize = kustomizeBinary();
  if (kustomize) symlinkSync(kustomize, join(bin, "kustomize"));
  return copy;
}

const documents = ["README.md", ...readdirSync(join(repoRoot, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const blocks = documents.flatMap((doc) => runnableBlocks(readFileSync(join(repoRoot, doc), "utf8")).map((b) => ({ doc, ...b })));

describe("runnable blocks of README.md and docs/", () => {
  it("finds the blocks marked runnable", () => {
    expect(runnableBlocks("a\n```sh runnable\necho 1\n```\n```sh\nnot this\n```\n````sh runnable\nx\n```\ny\n````\n")).toEqual([
      { line: 2, code: "echo 1" },
      { line: 8, code: "x\n```\ny" },
    ]);
    expect(blocks.filter((b) => b.doc === "README.md").length).toBeGreaterThan(0);
  });

  const copies: string[] = [];
  afterEach(() => {
    for (const c of copies.splice(0)) rmSync(c, { recursive: true, force: true });
  });
  for (const block of blocks) {
    it(`${block.doc} line ${block.line}: ${block.code.split("\n")[0]}`, (ctx) => {
      if (/^\s*kustomize\b/m.test(block.code) && !kustomizeBinary()) return ctx.skip(KUSTOMIZE_MISSING);
      // A fresh copy per block: a block may change files (kustomize edit) without
      // changing what the next one sees.
      const copy = copyRepository();
      const tmp = mkdtempSync(join(tmpdir(), "hookpoint-readme-block-"));
      copies.push(copy, tmp);
      // -x: on failure, stderr shows the command that failed.
      const r = spawnSync("bash", ["-x", "-e", "-o", "pipefail", "-c", block.code], {
        cwd: copy,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, PATH: `${join(copy, ".readme-bin")}:${process.env.PATH ?? ""}`, TMPDIR: tmp, NO_COLOR: "1" },
      });
      expect({ code: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    }, 180_000);
  }
});

it("the docs/ the README links to exist", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const linked = [...readme.matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1] as string);
  expect(linked.filter((f) => !existsSync(join(repoRoot, f)))).toEqual([]);
});
