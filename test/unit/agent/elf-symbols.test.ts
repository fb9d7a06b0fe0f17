import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { findBuildId, isSkippedSymbolName } from "../../../src/elf/format.js";
import { clearSymbolCache, globToRegExp, matchSymbols, readSymbolTable, type SymbolTable } from "../../../src/elf/symbols.js";
import { buildElf, type FakeElf } from "./elf-builder.js";

const dir = mkdtempSync(join(tmpdir(), "hookpoint-elf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => clearSymbolCache());

let n = 0;
function file(spec: FakeElf | Buffer): string {
  const p = join(dir, `f${n++}`);
  writeFileSync(p, Buffer.isBuffer(spec) ? spec : buildElf(spec));
  return p;
}

describe("readSymbolTable", () => {
  it("keeps defined functions with their virtual addresses and sizes", async () => {
    const p = file({
      buildId: "a1b2c3d4",
      symtab: [
        { name: "_ZN5Envoy7Network14ConnectionImpl11onReadReadyEv", value: 0x5e40, size: 300 },
        { name: "hookpointFiltersStart", value: 0x53c0, size: 1 },
        { name: "some_object", value: 0x9000, type: 1 },
        { name: "imported", value: 0, shndx: 0 },
        { name: "ifunc_impl", value: 0x7000, type: 10 },
      ],
    });
    const t = await readSymbolTable(p);
    expect(t.buildId).toBe("a1b2c3d4");
    expect(t.stripped).toBe(false);
    expect([...t.symbols.values()]).toEqual([
      { name: "_ZN5Envoy7Network14ConnectionImpl11onReadReadyEv", address: 0x5e40n, size: 300 },
      { name: "hookpointFiltersStart", address: 0x53c0n, size: 1 },
      { name: "ifunc_impl", address: 0x7000n, size: 16 },
    ]);
  });

  it("leaves out thunks and .cold parts", async () => {
    const t = await readSymbolTable(
      file({
        symtab: [
          { name: "_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb", value: 0x55f0 },
          { name: "_ZThn8_N5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb", value: 0x5660 },
          { name: "_ZTv0_n24_N5Envoy3Foo3barEv", value: 0x5700 },
          { name: "_ZN5Envoy4Http5Http114ConnectionImpl8dispatchERNS_6Buffer8InstanceE.cold", value: 0x34da },
        ],
      }),
    );
    expect([...t.symbols.keys()]).toEqual(["_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb"]);
  });

  it("calls a binary without .symtab and with only runtime exports in .dynsym stripped", async () => {
    const t = await readSymbolTable(
      file({ dynsym: [{ name: "_ZStplIcSt11char_traitsIcESaIcEENSt7__cxx1112basic_stringIT_T0_T1_EEPKS5_RKS8_", value: 0x6af0 }, { name: "malloc", value: 0, shndx: 0 }] }),
    );
    expect(t.stripped).toBe(true);
  });

  it("uses .dynsym functions of a binary without .symtab", async () => {
    const t = await readSymbolTable(file({ dynsym: [{ name: "hookpointRequestSeen", value: 0x1234 }] }));
    expect(t.stripped).toBe(false);
    expect(t.symbols.get("hookpointRequestSeen")?.address).toBe(0x1234n);
  });

  it("prefers the .symtab entry when a name is in both tables", async () => {
    const t = await readSymbolTable(file({ symtab: [{ name: "f", value: 0x10 }], dynsym: [{ name: "f", value: 0x20 }] }));
    expect(t.symbols.get("f")?.address).toBe(0x10n);
  });

  it("reads tables larger than its buffers (names across 1 MiB string chunks)", async () => {
    const symtab = Array.from({ length: 30_000 }, (_, i) => ({ name: `_ZN5Envoy9Generated${"x".repeat(40)}${i}Ev`, value: 0x100000 + i * 16 }));
    const t = await readSymbolTable(file({ symtab }));
    expect(t.symbols.size).toBe(30_000);
    for (const i of [0, 8191, 8192, 17_000, 29_999]) {
      expect(t.symbols.get(symtab[i]!.name)?.address).toBe(BigInt(0x100000 + i * 16));
    }
  });

  it("keeps only the functions the patterns name, and counts them all", async () => {
    const p = file({
      buildId: "beef",
      symtab: [
        { name: "_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb", value: 0x10 },
        { name: "_ZN5Envoy5Event13FileEventImpl12assignEventsEjP10event_base", value: 0x20 },
        { name: "hookpointFiltersStart", value: 0x30 },
        { name: "hookpointFiltersEnd", value: 0x40 },
        { name: "_ZN5Envoy3Foo3barEv", value: 0x50 },
        { name: "exact_one", value: 0x60 },
        { name: "exact_one_not", value: 0x70 },
        { name: "an_object", value: 0x80, type: 1 },
      ],
    });
    const patterns = ["hookpoint*", "*FileEventImpl*assign*", "exact_one", "_ZN5Envoy6Router*decodeHeaders*"];
    const t = await readSymbolTable(p, patterns);
    expect([...t.symbols.keys()].sort()).toEqual([
      "_ZN5Envoy5Event13FileEventImpl12assignEventsEjP10event_base",
      "_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb",
      "exact_one",
      "hookpointFiltersEnd",
      "hookpointFiltersStart",
    ]);
    expect(t.functions).toBe(7);
    expect(t.patterns).toEqual([...patterns].sort());
    expect(matchSymbols(t, "hookpoint*").map((s) => s.name)).toEqual(["hookpointFiltersEnd", "hookpointFiltersStart"]);
    // An exact name inside a glob it was read for is covered; anything else is an error, not a silent miss.
    expect(matchSymbols(t, "hookpointFiltersEnd").map((s) => s.address)).toEqual([0x40n]);
    expect(() => matchSymbols(t, "_ZN5Envoy3Foo*")).toThrow(`${p}: the symbol table was read for ${t.patterns!.join(", ")}, not for _ZN5Envoy3Foo*`);
    // Other patterns, other table (the cache key holds them).
    const all = await readSymbolTable(p);
    expect(all.symbols.size).toBe(7);
    expect(all.patterns).toBeNull();
  });

  it("finds names that share another name's tail in the string table", async () => {
    const t = await readSymbolTable(
      file({
        symtab: [
          { name: "xhookpointRequestSeen", value: 0x10 },
          { name: "hookpointRequestSeen", value: 0x20, tailOf: 0 },
          { name: "zz_ZN5Envoy7Network14ConnectionImpl11onReadReadyEv", value: 0x30 },
          { name: "_ZN5Envoy7Network14ConnectionImpl11onReadReadyEv", value: 0x40, tailOf: 2 },
        ],
      }),
      ["hookpoint*", "*ConnectionImpl11onReadReady*"],
    );
    expect([...t.symbols.values()].map((s) => [s.name, s.address]).sort()).toEqual([
      ["_ZN5Envoy7Network14ConnectionImpl11onReadReadyEv", 0x40n],
      ["hookpointRequestSeen", 0x20n],
      ["zz_ZN5Envoy7Network14ConnectionImpl11onReadReadyEv", 0x30n],
    ]);
  });

  it("finds pattern text that straddles two 1 MiB string chunks", async () => {
    const symtab = Array.from({ length: 30_000 }, (_, i) => ({ name: `_ZN5Envoy9Generated${"x".repeat(40)}${i}Ev`, value: 0x100000 + i * 16 }));
    const names = symtab.map((s) => `${s.name}\0`);
    let at = 1;
    const straddling = names.findIndex((n) => (at += n.length) > 1 << 20);
    const t = await readSymbolTable(file({ symtab }), [symtab[straddling]!.name, `*x${straddling + 1}Ev`]);
    expect([...t.symbols.keys()]).toEqual([symtab[straddling]!.name, symtab[straddling + 1]!.name]);
    expect(t.functions).toBe(30_000);
  });

  it("returns the cached table for the same build-id and symbol tables, under the new path", async () => {
    const spec = { buildId: "ff00", symtab: [{ name: "f", value: 0x10 }] };
    const a = await readSymbolTable(file(spec));
    const p2 = file(spec);
    const b = await readSymbolTable(p2);
    expect(b.path).toBe(p2);
    expect(b.symbols).toBe(a.symbols);
    // Same build-id but stripped: not the cached unstripped table.
    const c = await readSymbolTable(file({ buildId: "ff00" }));
    expect(c.stripped).toBe(true);
    expect(c.symbols.size).toBe(0);
  });

  it("names the file and the problem for non-ELF, 32-bit and truncated input", async () => {
    const text = file(Buffer.from("#!/bin/sh\necho hi\n"));
    await expect(readSymbolTable(text)).rejects.toThrow(`${text}: not an ELF file (bad magic)`);
    const elf32 = buildElf({ symtab: [{ name: "f", value: 1 }] });
    elf32[4] = 1;
    const p32 = file(elf32);
    await expect(readSymbolTable(p32)).rejects.toThrow(`${p32}: unsupported ELF class 1 (only 64-bit ELF is supported)`);
    const whole = buildElf({ symtab: [{ name: "f", value: 1 }] });
    const cut = file(whole.subarray(0, whole.length - 70));
    await expect(readSymbolTable(cut)).rejects.toThrow(`${cut}: section headers lie past the end of the file (truncated?)`);
    await expect(readSymbolTable(join(dir, "absent"))).rejects.toThrow(`${join(dir, "absent")}: cannot open: no such file`);
  });
});

describe("matchSymbols", () => {
  const table: SymbolTable = {
    path: "/x",
    buildId: null,
    stripped: false,
    functions: 5,
    patterns: null,
    symbols: new Map(
      ["hookpointFiltersStart", "hookpointFiltersEnd", "hookpointRequestSeen", "_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb", "a.b(c)"].map((name, i) => [
        name,
        { name, address: BigInt(i + 1), size: 1 },
      ]),
    ),
  };
  it("matches bpftrace-style globs, sorted by name", () => {
    expect(matchSymbols(table, "hookpoint*").map((s) => s.name)).toEqual(["hookpointFiltersEnd", "hookpointFiltersStart", "hookpointRequestSeen"]);
    expect(matchSymbols(table, "*Router*decodeHeaders*").map((s) => s.address)).toEqual([4n]);
    expect(matchSymbols(table, "hookpoint*Start").map((s) => s.name)).toEqual(["hookpointFiltersStart"]);
  });
  it("treats everything but * literally and looks exact names up directly", () => {
    expect(matchSymbols(table, "a.b(c)").map((s) => s.name)).toEqual(["a.b(c)"]);
    expect(matchSymbols(table, "a?b*")).toEqual([]);
    expect(matchSymbols(table, "nothing")).toEqual([]);
    expect(globToRegExp("a.*").source).toBe("^a\\..*$");
  });
});

describe("ELF helpers", () => {
  it("finds the GNU build-id among notes", () => {
    const other = Buffer.alloc(12 + 8 + 4);
    other.writeUInt32LE(8, 0);
    other.writeUInt32LE(4, 4);
    other.writeUInt32LE(1, 8);
    other.write("Android\0", 12, "latin1");
    const gnu = Buffer.alloc(16 + 3 + 1);
    gnu.writeUInt32LE(4, 0);
    gnu.writeUInt32LE(3, 4);
    gnu.writeUInt32LE(3, 8);
    gnu.write("GNU\0", 12, "latin1");
    Buffer.from([0xab, 0xcd, 0xef]).copy(gnu, 16);
    expect(findBuildId(Buffer.concat([other, gnu]))).toBe("abcdef");
    expect(findBuildId(other)).toBeNull();
  });
  it("skips exactly thunks and cold parts", () => {
    expect(["_ZThn8_N5Envoy1fEv", "_ZTv0_n24_N5Envoy1fEv", "_ZTch0_h16_N1A1fEv", "f.cold", "f.cold.12"].map(isSkippedSymbolName)).toEqual([true, true, true, true, true]);
    expect(["_ZTIN5Envoy1AE", "f.part.0", "coldStart", "_ZN5Envoy1fEv"].map(isSkippedSymbolName)).toEqual([false, false, false, false]);
  });
});
