// Hand-made symbol tables: the shape readSymbolTable returns, for pure tests.
import type { SymbolTable } from "../../../src/elf/symbols.js";

export const ENVOY = "/usr/local/bin/envoy";

/** Stock Envoy's probed functions as the fixture (g++) spells them, at made-up addresses. */
export const STOCK: Record<string, number> = {
  _ZN5Envoy7Network14ConnectionImpl11onReadReadyEv: 0x5e50,
  _ZN5Envoy7Network14ConnectionImpl12onWriteReadyEv: 0x5510,
  _ZN5Envoy4Http5Http114ConnectionImpl8dispatchERNS_6Buffer8InstanceE: 0x57a0,
  _ZN5Envoy4Http13FilterManager13decodeHeadersEPNS0_25ActiveStreamDecoderFilterERNS0_16RequestHeaderMapEb: 0x5660,
  _ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb: 0x55f0,
  _ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb: 0x55b0,
};

export const HOOKPOINTS: Record<string, number> = {
  hookpointCodecParseStart: 0x4f00,
  hookpointCodecParseEnd: 0x4f10,
  hookpointFiltersStart: 0x4f20,
  hookpointFiltersEnd: 0x4f30,
  hookpointRequestSeen: 0x4f40,
};

/** C++ member hookpoints as the fixture (g++) defines them, plus a const End and a lone one. */
export const MEMBER_HOOKPOINTS: Record<string, number> = {
  _ZN5Envoy4Http21ConnectionManagerImpl12ActiveStream20hookpointDecodeStartEm: 0x4f50,
  _ZN5Envoy4Http21ConnectionManagerImpl12ActiveStream18hookpointDecodeEndEm: 0x4f60,
  _ZN5Envoy6Router6Filter19hookpointRouteStartEv: 0x4f70,
  _ZN5Envoy6Router6Filter17hookpointRouteEndEv: 0x4f80,
  _ZN5Envoy6Router15UpstreamRequest22hookpointUpstreamStartEv: 0x4f90,
  _ZNK5Envoy6Router15UpstreamRequest20hookpointUpstreamEndEv: 0x4fa0,
  _ZN5Envoy4Http13FilterManager20hookpointRequestSeenEv: 0x4fb0,
};

export function table(symbols: Record<string, number>, opts: { path?: string; stripped?: boolean } = {}): SymbolTable {
  return {
    path: opts.path ?? ENVOY,
    buildId: "0123456789abcdef0123456789abcdef01234567",
    stripped: opts.stripped ?? false,
    functions: Object.keys(symbols).length,
    patterns: null,
    symbols: new Map(Object.entries(symbols).map(([name, a]) => [name, { name, address: BigInt(a), size: 16 }])),
  };
}
