// FileSnapshotSource: local policy and namespace files, polled and compared with the text last loaded;
// FIFOs and devices read once.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileSnapshotSource } from "../../../src/policy/file-source.js";
import { namespaceLabels } from "../../../src/policy/snapshot.js";
import { settings } from "../../support/pods.js";

const ns = (label: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n  labels: {hookpoint.dev/inject: ${label}}\n`;
const OFF = "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: off}\nspec: {mode: Disabled}\n";
const ONCE = "is empty (standard input, pipes and devices are read once, at start)";
const sources: FileSnapshotSource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.stop();
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
}

/** A new FIFO in a new directory, and a writer that gives it `text` once, when the source opens it. */
function fifoWith(text: string): { fifo: string; dir: string; fed: Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), "hookpoint-files-"));
  const fifo = join(dir, "policy.fifo");
  execFileSync("mkfifo", [fifo]);
  const fed = open(fifo, "w").then(async (fh) => {
    await fh.writeFile(text);
    await fh.close();
  });
  return { fifo, dir, fed };
}

describe("FileSnapshotSource", () => {
  it("loads the files, follows a change, and keeps the last good snapshot when a change cannot be used", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-files-"));
    const namespacesFile = join(dir, "namespaces.yaml");
    writeFileSync(namespacesFile, ns("enabled"));
    const errors: string[] = [];
    const reloads: string[][] = [];
    const source = new FileSnapshotSource({ namespacesFile, settings, pollMs: 50, onError: (e) => errors.push(e.message), onReload: (f) => reloads.push(f) });
    sources.push(source);
    expect(source.synced()).toBe(false);
    await source.start();
    expect(source.synced()).toBe(true);
    expect(source.describe()).toBe(`files ${namespacesFile}`);
    expect(namespaceLabels(source.current(), "web")).toEqual({ "hookpoint.dev/inject": "enabled", "kubernetes.io/metadata.name": "web" });

    writeFileSync(namespacesFile, ns("disabled"));
    await until(() => reloads.length > 0);
    expect(reloads).toEqual([[namespacesFile]]);
    expect(namespaceLabels(source.current(), "web")["hookpoint.dev/inject"]).toBe("disabled");

    writeFileSync(namespacesFile, "kind: Pod\nmetadata: {name: x}\n");
    await until(() => errors.length > 0);
    expect(errors[0]).toBe(`${namespacesFile}: document 1: kind: must be a Namespace, got "Pod"`);
    expect(namespaceLabels(source.current(), "web")["hookpoint.dev/inject"]).toBe("disabled");
  });

  it("reports a change it cannot use once, not on every poll, and again when it happens again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-files-"));
    const namespacesFile = join(dir, "namespaces.yaml");
    writeFileSync(namespacesFile, ns("enabled"));
    const errors: string[] = [];
    const source = new FileSnapshotSource({ namespacesFile, settings, pollMs: 20, onError: (e) => errors.push(e.message), onReload: () => {} });
    sources.push(source);
    await source.start();
    const bad = `${namespacesFile}: document 1: kind: must be a Namespace, got "Pod"`;
    writeFileSync(namespacesFile, "kind: Pod\nmetadata: {name: x}\n");
    await until(() => errors.length > 0);
    // Ten polls more of the same broken file.
    await new Promise((r) => setTimeout(r, 200));
    expect(errors).toEqual([bad]);
    rmSync(namespacesFile);
    await until(() => errors.length > 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(errors).toEqual([bad, `${namespacesFile}: cannot read: no such file`]);
    writeFileSync(namespacesFile, ns("enabled"));
    await new Promise((r) => setTimeout(r, 100));
    writeFileSync(namespacesFile, "kind: Pod\nmetadata: {name: x}\n");
    await until(() => errors.length > 2);
    expect(errors).toEqual([bad, `${namespacesFile}: cannot read: no such file`, bad]);
    expect(namespaceLabels(source.current(), "web")["hookpoint.dev/inject"]).toBe("enabled");
  });

  it("refuses to start on a file it cannot read, naming it in words", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-files-"));
    const source = new FileSnapshotSource({ policyFile: join(dir, "policy.yaml"), namespacesFile: dir, settings });
    sources.push(source);
    await expect(source.start()).rejects.toThrow(`${join(dir, "policy.yaml")}: cannot read: no such file`);
    const dirOnly = new FileSnapshotSource({ namespacesFile: dir, settings });
    sources.push(dirOnly);
    await expect(dirOnly.start()).rejects.toThrow(`${dir}: cannot read: is a directory`);
  });

  it("refuses to start on a bad file, naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-files-"));
    const policyFile = join(dir, "policy.yaml");
    writeFileSync(policyFile, "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: p}\nspec: {mode: On}\n");
    const source = new FileSnapshotSource({ policyFile, settings });
    sources.push(source);
    await expect(source.start()).rejects.toThrow(`${policyFile}: document 1: spec.mode: must be one of Disabled, OptIn, Enabled, got "On"`);
  });

  it("of a bad policy file and a missing namespaces file, names the policy file's problem first, as inject does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookpoint-files-"));
    const policyFile = join(dir, "policy.yaml");
    writeFileSync(policyFile, "apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: p}\nspec: {mode: On}\n");
    const source = new FileSnapshotSource({ policyFile, namespacesFile: join(dir, "namespaces.yaml"), settings });
    sources.push(source);
    await expect(source.load()).rejects.toThrow(`${policyFile}: document 1: spec.mode: must be one of Disabled, OptIn, Enabled, got "On"`);
    expect(source.synced()).toBe(false);
  });

  it("reads a FIFO once, at start, and keeps its policies while it polls the regular file beside it", async () => {
    const { fifo, dir, fed } = fifoWith(OFF);
    const namespacesFile = join(dir, "namespaces.yaml");
    writeFileSync(namespacesFile, ns("enabled"));
    const once: string[] = [];
    const reloads: string[] = [];
    const errors: string[] = [];
    const source = new FileSnapshotSource({ policyFile: fifo, namespacesFile, settings, pollMs: 20, onError: (e) => errors.push(e.message), onReload: (f) => reloads.push(f.join(" ")), onReadOnce: (f) => once.push(f) });
    sources.push(source);
    await source.start();
    await fed;
    expect(once).toEqual([fifo]);
    expect(source.current().policies.map((p) => p.policy.metadata.name)).toEqual(["off"]);

    writeFileSync(namespacesFile, ns("disabled"));
    await until(() => reloads.length > 0);
    // Ten polls more: the FIFO, which has no writer now, is not opened again.
    await new Promise((r) => setTimeout(r, 200));
    expect({ once, reloads, errors }).toEqual({ once: [fifo], reloads: [`${fifo} ${namespacesFile}`], errors: [] });
    expect(namespaceLabels(source.current(), "web")["hookpoint.dev/inject"]).toBe("disabled");
    expect(source.current().policies.map((p) => p.policy.metadata.name)).toEqual(["off"]);
  });

  it("refuses an empty or invalid FIFO or device, naming it", async () => {
    const empty = fifoWith("");
    const source = new FileSnapshotSource({ policyFile: empty.fifo, settings });
    sources.push(source);
    await expect(source.load()).rejects.toThrow(`${empty.fifo}: ${ONCE}`);
    await empty.fed;
    const invalid = fifoWith("apiVersion: hookpoint.dev/v1alpha1\nkind: HookpointPolicy\nmetadata: {name: p}\nspec: {mode: On}\n");
    const bad = new FileSnapshotSource({ policyFile: invalid.fifo, settings });
    sources.push(bad);
    await expect(bad.load()).rejects.toThrow(`${invalid.fifo}: document 1: spec.mode: must be one of Disabled, OptIn, Enabled, got "On"`);
    await invalid.fed;
    const device = new FileSnapshotSource({ namespacesFile: "/dev/null", settings });
    sources.push(device);
    await expect(device.load()).rejects.toThrow(`/dev/null: ${ONCE}`);
    expect([source.synced(), bad.synced(), device.synced()]).toEqual([false, false, false]);
  });
});
