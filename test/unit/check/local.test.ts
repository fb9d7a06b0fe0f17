// `hookpoint check --local` with an injected node: the agent's preflight over a
// fake /proc, an empty tracefs directory and a stand-in bpftrace, mapped to lines.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatLines } from "../../../src/check/lines.js";
import { localCheckLines } from "../../../src/cli/check-local.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-check-local-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A /proc whose self/status has this CapEff. */
function procWith(capEff: string): string {
  const root = join(dir, `proc-${capEff}`);
  mkdirSync(join(root, "self"), { recursive: true });
  writeFileSync(join(root, "self", "status"), `Name:\tnode\nUid:\t0\t0\t0\t0\nCapEff:\t${capEff}\n`);
  return root;
}
const tracefs = join(dir, "tracing");
mkdirSync(tracefs);
const btf = join(dir, "vmlinux");
writeFileSync(btf, "");
const bpftrace = async (file: string, args: string[]) => {
  if (file === "bpftrace" && args[0] === "--version") return { stdout: "bpftrace v0.23.5\n", stderr: "" };
  if (file === "bpftrace" && args[0] === "--info") return { stdout: "uprobe: yes\n", stderr: "" };
  throw Object.assign(new Error(`unexpected ${file}`), { stderr: "" });
};
const SYS_ADMIN_ONLY = (1n << 21n).toString(16).padStart(16, "0");

describe("hookpoint check --local, injected", () => {
  it("tracefs not mounted but SYS_ADMIN held: passes, saying the agent mounts it (check itself mounts nothing)", async () => {
    // The real runner: it refuses to mount (the directory stays empty) and the line passes.
    const real = await localCheckLines({ tracefs, btf, uid: 0, kernelRelease: "6.18.2", procRoot: procWith(SYS_ADMIN_ONLY), bpftrace: join(dir, "no-bpftrace") });
    expect(real.find((l) => l.name === "tracefs")).toEqual({
      name: "tracefs",
      ok: true,
      detail: `${tracefs} is not mounted here; the agent mounts it (it has CAP_SYS_ADMIN), or mount it: mount -t tracefs nodev /sys/kernel/tracing`,
    });
    expect(readdirSync(tracefs)).toEqual([]);
    const out = await localCheckLines({ tracefs, btf, uid: 0, kernelRelease: "6.18.2", procRoot: procWith(SYS_ADMIN_ONLY), bpftrace: "bpftrace", run: (f, a) => (f === "mount" ? Promise.reject(Object.assign(new Error("x"), { stderr: "hookpoint check does not mount it" })) : bpftrace(f, a)) });
    expect(formatLines(out)).toBe(
      [
        "✔ kernel: 6.18.2: uprobes need CAP_SYS_ADMIN (the CVE-2025-38466 fix, in 5.10.240+, 5.15.189+, 6.1.146+, 6.6.99+, 6.12.39+ and 6.16+)",
        "✔ root: running as uid 0",
        "✔ capabilities: effective capabilities: SYS_ADMIN",
        `✔ tracefs: ${tracefs} is not mounted here; the agent mounts it (it has CAP_SYS_ADMIN), or mount it: mount -t tracefs nodev /sys/kernel/tracing`,
        "✔ bpftrace: bpftrace v0.23.5 (reports pids of its own pid namespace)",
        `✔ btf: ${btf} present`,
        "",
      ].join("\n"),
    );
  });

  it("a --bpftrace that is a directory or a file without execute permission: the line says which, not spawn's EACCES", async () => {
    const notExecutable = join(dir, "bpftrace.txt");
    writeFileSync(notExecutable, "#!/bin/sh\necho bpftrace v0.23.5\n", { mode: 0o640 });
    const line = async (bpftrace: string) => (await localCheckLines({ tracefs, btf, uid: 0, kernelRelease: "6.18.2", procRoot: procWith(SYS_ADMIN_ONLY), bpftrace })).find((l) => l.name === "bpftrace");
    const fix = "give the path of the bpftrace program (--bpftrace, or HOOKPOINT_BPFTRACE for the agent)";
    expect(await line(dir)).toEqual({ name: "bpftrace", ok: false, detail: `${dir} is a directory, not the bpftrace program`, fix });
    expect(await line(notExecutable)).toEqual({ name: "bpftrace", ok: false, detail: `${notExecutable} is not executable (mode 0640)`, fix });
  });

  it("a --bpftrace whose --version fails: one line with its exit code or signal and the first line of its stderr", async () => {
    const broken = join(dir, "broken-bpftrace");
    writeFileSync(broken, "#!/bin/sh\necho 'bpftrace: error while loading shared libraries: libbcc.so.0' >&2\necho 'second line' >&2\nexit 127\n", { mode: 0o755 });
    const crashing = join(dir, "crashing-bpftrace");
    writeFileSync(crashing, "#!/bin/sh\nkill -SEGV $$\n", { mode: 0o755 });
    const line = async (bpftrace: string) => (await localCheckLines({ tracefs, btf, uid: 0, kernelRelease: "6.18.2", procRoot: procWith(SYS_ADMIN_ONLY), bpftrace })).find((l) => l.name === "bpftrace");
    const fix = "check the bpftrace installation in the image";
    expect(await line(broken)).toEqual({ name: "bpftrace", ok: false, detail: `${broken} --version failed: exit code 127: bpftrace: error while loading shared libraries: libbcc.so.0`, fix });
    expect(await line(crashing)).toEqual({ name: "bpftrace", ok: false, detail: `${crashing} --version failed: killed by SIGSEGV`, fix });
  });

  it("a --bpftrace that runs but is another program (its --version has a version too) fails, naming what it printed", async () => {
    const other = join(dir, "other-tool");
    writeFileSync(other, "#!/bin/sh\necho 'echo (GNU coreutils) 9.1'\necho 'Copyright (C) 2022'\n", { mode: 0o755 });
    const lines = await localCheckLines({ tracefs, btf, uid: 0, kernelRelease: "6.18.2", procRoot: procWith(SYS_ADMIN_ONLY), bpftrace: other });
    expect(lines.find((l) => l.name === "bpftrace")).toEqual({
      name: "bpftrace",
      ok: false,
      detail: `${other} is not bpftrace: its --version printed "echo (GNU coreutils) 9.1"`,
      fix: "give the path of the bpftrace program (--bpftrace, or HOOKPOINT_BPFTRACE for the agent)",
    });
  });

  it("no capabilities, tracefs not mounted, a kernel release without a version, no BTF: each line says what to do", async () => {
    const out = await localCheckLines({ tracefs, btf: join(dir, "no-btf"), uid: 0, kernelRelease: "custom", procRoot: procWith("0000000000000000"), bpftrace: "bpftrace", run: bpftrace });
    expect(formatLines(out)).toBe(
      [
        '✘ kernel: cannot read a version from the kernel release "custom"; assuming uprobes need CAP_SYS_ADMIN',
        "  fix: none needed if SYS_ADMIN is granted",
        "✔ root: running as uid 0",
        "✘ capabilities: effective capabilities: none; uprobes on this kernel need SYS_ADMIN: missing SYS_ADMIN",
        "  fix: add SYS_ADMIN to the profile's capabilities (or privileged: true)",
        `✘ tracefs: ${tracefs} is not mounted, and mounting it needs CAP_SYS_ADMIN`,
        "  fix: mount the hookpoint-tracefs volume (hostPath /sys/kernel/tracing), or grant SYS_ADMIN so the agent mounts it",
        "✔ bpftrace: bpftrace v0.23.5 (reports pids of its own pid namespace)",
        `✔ btf: ${join(dir, "no-btf")} missing: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF); scripts using kernel types will fail (not needed by the bundled scripts)`,
        "",
      ].join("\n"),
    );
  });
});
