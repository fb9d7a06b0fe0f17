// The ELF reader against the built fixture binaries and binutils' own view of them.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { clearSymbolCache, matchSymbols, readSymbolTable } from "../../../src/elf/symbols.js";
import { hugeName } from "../../fixtures/envoy/huge-symbols.js";
import { FIXTURE, fixtureSkipReason, hugeFixtureSkipReason } from "../../bpf/agent/support.js";

const skip = fixtureSkipReason();

/** Defined function symbols as nm sees them (name → address), thunks and .cold parts left out. */
function nmFunctions(path: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const text = execFileSync("nm", ["--defined-only", path], { encoding: "utf8", maxBuffer: 1 << 28 });
  const types = execFileSync("readelf", ["-sW", path], { encoding: "utf8", maxBuffer: 1 << 28 });
  const funcs = new Set<string>();
  for (const line of types.split("\n")) {
    const f = line.trim().split(/\s+/);
    if ((f[3] === "FUNC" || f[3] === "IFUNC") && f[6] !== "UND" && f[7]) funcs.add(f[7].replace(/@.*$/, ""));
  }
  for (const line of text.split("\n")) {
    const [addr, , name] = line.split(" ");
    if (!name || !funcs.has(name) || /^_ZT[hvc]/.test(name) || /\.cold(\.\d+)?$/.test(name) || BigInt(`0x${addr}`) === 0n) continue;
    if (!out.has(name)) out.set(name, BigInt(`0x${addr}`));
  }
  return out;
}

describe("readSymbolTable on the fixture", () => {
  it("agrees with nm and readelf on the normal binary", async (ctx) => {
    if (skip) return ctx.skip(skip);
    clearSymbolCache();
    const t = await readSymbolTable(FIXTURE.envoy);
    const nm = nmFunctions(FIXTURE.envoy);
    expect(new Map([...t.symbols].map(([k, v]) => [k, v.address]))).toEqual(nm);
    const note = execFileSync("readelf", ["-n", FIXTURE.envoy], { encoding: "utf8" });
    expect(t.buildId).toBe(/Build ID: ([0-9a-f]+)/.exec(note)?.[1]);
    expect(t.stripped).toBe(false);
    expect(matchSymbols(t, "hookpoint*").map((s) => s.name)).toEqual([
      "hookpointCodecParseEnd", "hookpointCodecParseStart", "hookpointFiltersEnd", "hookpointFiltersStart", "hookpointRequestSeen",
      "hookpointRouterEnd", "hookpointRouterStart", "hookpointUpstreamConnectEnd", "hookpointUpstreamConnectStart",
    ]);
    // The glob bpftrace would also expand to the _ZThn8_ thunk matches only the function here.
    expect(matchSymbols(t, "*Router*Filter*decodeHeaders*").map((s) => s.name)).toEqual(["_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb"]);
    for (const name of [
      "_ZN5Envoy7Network14ConnectionImpl11onReadReadyEv",
      "_ZN5Envoy7Network14ConnectionImpl12onWriteReadyEv",
      "_ZN5Envoy4Http5Http114ConnectionImpl8dispatchERNS_6Buffer8InstanceE",
      "_ZN5Envoy4Http13FilterManager13decodeHeadersEPNS0_25ActiveStreamDecoderFilterERNS0_16RequestHeaderMapEb",
      "_ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb",
      "_ZN5Envoy5Event13FileEventImpl12assignEventsEjP10event_base",
    ]) {
      expect(t.symbols.has(name), name).toBe(true);
    }
  });

  it("calls the stripped binary stripped", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const t = await readSymbolTable(FIXTURE.stripped);
    expect(t.stripped).toBe(true);
    expect(matchSymbols(t, "hookpoint*")).toEqual([]);
  });

  it("reads every symbol of the 200,000-symbol binary", async (ctx) => {
    if (skip) return ctx.skip(skip);
    clearSymbolCache();
    const t = await readSymbolTable(FIXTURE.big);
    expect(t.symbols.size).toBe(nmFunctions(FIXTURE.big).size);
    expect(t.symbols.size).toBeGreaterThanOrEqual(200_000);
    expect(t.symbols.get("_ZN5Envoy9Extension13Generated199916method199999ImplERKNS_4Http16RequestHeaderMapEb")).toBeDefined();
  });

  it("reads a 3,000,000-symbol binary for a script's patterns, keeping only what they name", async (ctx) => {
    const why = hugeFixtureSkipReason();
    if (why) return ctx.skip(why);
    clearSymbolCache();
    const patterns = ["hookpoint*", "_ZN5Envoy4Http5Http*14ConnectionImpl8dispatchERNS_6Buffer8InstanceE", hugeName(2_999_999)];
    const huge = await readSymbolTable(FIXTURE.huge, patterns);
    // More than 2^21 (the old reader's limit): the fixture's own functions and 3,000,000 more.
    const small = await readSymbolTable(FIXTURE.envoy, patterns);
    expect(huge.functions).toBe(small.functions + 3_000_000);
    expect(huge.symbols.size).toBe(small.symbols.size + 1);
    for (const [name, sym] of small.symbols) expect(huge.symbols.get(name), name).toEqual(sym);
    expect(huge.symbols.get(hugeName(2_999_999))).toBeDefined();
  });
});
