// Reads the function symbols of an ELF binary (Envoy is 100+ MB with ~10^5-10^6 symbols)
// without loading the file: the symbol table and its string table are streamed through
// fixed-size buffers. Results are cached by GNU build-id, so every Envoy on the node that
// runs the same build is read once.
import { open, type FileHandle } from "node:fs/promises";
import { globToRegExp as anyGlobToRegExp } from "../../glob.js";
import {
  EHDR_SIZE,
  ElfError,
  SHDR_SIZE,
  SHN_UNDEF,
  SHN_XINDEX,
  SHT_DYNSYM,
  SHT_NOBITS,
  SHT_NOTE,
  SHT_SYMTAB,
  STT_FUNC,
  STT_GNU_IFUNC,
  SYM_SIZE,
  cString,
  findBuildId,
  isSkippedSymbolName,
  parseElfHeader,
  parseSectionHeader,
  type SectionHeader,
} from "./format.js";

export interface ElfSymbol {
  name: string;
  /** The symbol's virtual address (st_value): the form `uprobe:PATH:0xADDR` takes on
   * bpftrace 0.17+ (verified: a file offset is rejected when it differs). */
  address: bigint;
  size: number;
}

export interface SymbolTable {
  path: string;
  buildId: string | null;
  /** No .symtab and no defined function in .dynsym. */
  stripped: boolean;
  /** Defined function symbols by name; thunks and `.cold` parts excluded. Never changed
   * once read: tables are shared through the build-id cache and glob results are kept. */
  symbols: ReadonlyMap<string, ElfSymbol>;
}

const SYM_CHUNK_ENTRIES = 8192; // 192 KiB of symbol entries per read
const STR_CHUNK = 1 << 20; // 1 MiB of string table per read
const CACHE_LIMIT = 4;

const byBuildId = new Map<string, SymbolTable>();
// Glob results per symbol map: the check and the render of a script ask for the same
// patterns, and every Envoy of one build shares its table, so each glob is scanned once.
const globMatches = new WeakMap<ReadonlyMap<string, ElfSymbol>, Map<string, ElfSymbol[]>>();

/** Reads (or returns from the build-id cache) the function symbols of `path`. */
export async function readSymbolTable(path: string): Promise<SymbolTable> {
  const fh = await open(path, "r").catch((err: NodeJS.ErrnoException) => {
    throw new ElfError(path, `cannot open: ${err.code ?? err.message}`);
  });
  try {
    const size = (await fh.stat()).size;
    const head = await readAt(fh, 0, EHDR_SIZE);
    const eh = parseElfHeader(path, head);
    const sections = await readSections(path, fh, eh.shoff, eh.shnum, eh.shstrndx, size);

    let buildId: string | null = null;
    for (const s of sections) {
      if (s.type !== SHT_NOTE || s.size > 1 << 16) continue;
      buildId = findBuildId(await readAt(fh, s.offset, s.size));
      if (buildId) break;
    }
    const symtab = sections.find((s) => s.type === SHT_SYMTAB);
    const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
    // `strip` keeps the build-id, so the key also says which symbol tables are present.
    const key = buildId ? `${buildId}:${symtab?.size ?? 0}:${dynsym?.size ?? 0}` : null;
    const cached = key ? byBuildId.get(key) : undefined;
    if (cached) return cached.path === path ? cached : { ...cached, path };

    const symbols = new Map<string, ElfSymbol>();
    // .symtab first: on duplicate names (local functions of several files) the first wins.
    if (symtab) await collect(path, fh, symtab, sections, size, symbols);
    if (dynsym) await collect(path, fh, dynsym, sections, size, symbols);
    const table: SymbolTable = { path, buildId, stripped: !symtab && !hasUsefulFunction(symbols), symbols };
    if (key) remember(key, table);
    return table;
  } finally {
    await fh.close();
  }
}

/** Symbols whose name matches a bpftrace-style glob (`*` = any run of characters). */
export function matchSymbols(table: SymbolTable, glob: string): ElfSymbol[] {
  if (!glob.includes("*")) {
    const s = table.symbols.get(glob);
    return s ? [s] : [];
  }
  let byGlob = globMatches.get(table.symbols);
  if (!byGlob) globMatches.set(table.symbols, (byGlob = new Map()));
  let found = byGlob.get(glob);
  if (!found) {
    const re = globToRegExp(glob);
    found = [];
    for (const s of table.symbols.values()) if (re.test(s.name)) found.push(s);
    found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    byGlob.set(glob, found);
  }
  return [...found];
}

/** A symbol glob as an anchored RegExp whose `*` spans any character, newlines included. */
export function globToRegExp(glob: string): RegExp {
  return anyGlobToRegExp(glob, "s");
}

/** Forgets cached tables (tests, and a long-running agent that saw many builds). */
export function clearSymbolCache(): void {
  byBuildId.clear();
}

// Without .symtab, a binary whose .dynsym exports only runtime helpers or instantiated
// standard-library templates (g++ exports weak `std::` instantiations) has nothing to probe.
function hasUsefulFunction(symbols: ReadonlyMap<string, ElfSymbol>): boolean {
  for (const name of symbols.keys()) {
    if (!/^(_ZN?K?St|_ZN9__gnu_cxx|_init$|_fini$|_start$|__libc_csu_)/.test(name)) return true;
  }
  return false;
}

function remember(key: string, table: SymbolTable): void {
  if (byBuildId.size >= CACHE_LIMIT) {
    const oldest = byBuildId.keys().next().value;
    if (oldest !== undefined) byBuildId.delete(oldest);
  }
  byBuildId.set(key, table);
}

async function readAt(fh: FileHandle, position: number, length: number, into?: Buffer): Promise<Buffer> {
  const buf = into && into.length >= length ? into : Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

async function readSections(
  path: string,
  fh: FileHandle,
  shoff: number,
  shnumRaw: number,
  shstrndxRaw: number,
  fileSize: number,
): Promise<SectionHeader[]> {
  if (shoff === 0) return [];
  let shnum = shnumRaw;
  let shstrndx = shstrndxRaw;
  if (shnum === 0 || shstrndx === SHN_XINDEX) {
    // More than 0xff00 sections: the real counts live in section header 0.
    const zero = parseSectionHeader(path, await readAt(fh, shoff, SHDR_SIZE), 0);
    if (shnum === 0) shnum = zero.size;
    if (shstrndx === SHN_XINDEX) shstrndx = zero.link;
  }
  if (shoff + shnum * SHDR_SIZE > fileSize) throw new ElfError(path, "section headers lie past the end of the file (truncated?)");
  const raw = await readAt(fh, shoff, shnum * SHDR_SIZE);
  const sections: SectionHeader[] = [];
  for (let i = 0; i < shnum; i++) sections.push(parseSectionHeader(path, raw, i * SHDR_SIZE));
  const names = sections[shstrndx];
  if (names && names.type !== SHT_NOBITS && names.size < 1 << 20 && names.offset + names.size <= fileSize) {
    const strs = await readAt(fh, names.offset, names.size);
    for (const s of sections) s.name = cString(strs, s.nameOffset) ?? "";
  }
  return sections;
}

/** Streams one symbol table; adds its defined functions to `into`. */
async function collect(
  path: string,
  fh: FileHandle,
  table: SectionHeader,
  sections: SectionHeader[],
  fileSize: number,
  into: Map<string, ElfSymbol>,
): Promise<void> {
  const strtab = sections[table.link];
  if (!strtab || strtab.type === SHT_NOBITS) throw new ElfError(path, `section ${table.name || table.type} has no string table`);
  if (table.entsize !== SYM_SIZE) throw new ElfError(path, `section ${table.name} has entry size ${table.entsize} (want ${SYM_SIZE})`);
  if (table.offset + table.size > fileSize || strtab.offset + strtab.size > fileSize) {
    throw new ElfError(path, `section ${table.name} lies past the end of the file (truncated?)`);
  }

  // Pass 1: defined functions, kept compactly in typed arrays.
  const count = Math.floor(table.size / SYM_SIZE);
  let nameOff = new Uint32Array(1024);
  let value = new Float64Array(1024);
  let size = new Float64Array(1024);
  let n = 0;
  const chunk = Buffer.allocUnsafe(SYM_CHUNK_ENTRIES * SYM_SIZE);
  for (let first = 0; first < count; first += SYM_CHUNK_ENTRIES) {
    const entries = Math.min(SYM_CHUNK_ENTRIES, count - first);
    const buf = await readAt(fh, table.offset + first * SYM_SIZE, entries * SYM_SIZE, chunk);
    for (let at = 0; at + SYM_SIZE <= buf.length; at += SYM_SIZE) {
      const type = buf[at + 4]! & 0xf;
      if (type !== STT_FUNC && type !== STT_GNU_IFUNC) continue;
      if (buf.readUInt16LE(at + 6) === SHN_UNDEF) continue;
      // Two 32-bit halves: much cheaper than a BigInt per symbol.
      const v = buf.readUInt32LE(at + 8) + buf.readUInt32LE(at + 12) * 0x1_0000_0000;
      if (v === 0) continue;
      if (n === nameOff.length) {
        nameOff = grow(nameOff, new Uint32Array(n * 2));
        value = grow(value, new Float64Array(n * 2));
        size = grow(size, new Float64Array(n * 2));
      }
      nameOff[n] = buf.readUInt32LE(at);
      value[n] = v;
      size[n] = buf.readUInt32LE(at + 16) + buf.readUInt32LE(at + 20) * 0x1_0000_0000;
      n++;
    }
  }

  // Pass 2: names, reading the string table in order of offset.
  // Sort by name offset with a plain numeric sort of packed (offset, index) keys.
  const INDEX_SPACE = 2 ** 21;
  if (n >= INDEX_SPACE) throw new ElfError(path, `too many function symbols in ${table.name} (${n})`);
  const order = new Float64Array(n);
  for (let i = 0; i < n; i++) order[i] = nameOff[i]! * INDEX_SPACE + i;
  order.sort();
  let chunkStart = -1;
  let strs: Buffer = Buffer.alloc(0);
  const strBuf = Buffer.allocUnsafe(STR_CHUNK);
  for (let k = 0; k < n; k++) {
    const i = order[k]! % INDEX_SPACE;
    const off = nameOff[i]!;
    if (off >= strtab.size) throw new ElfError(path, `symbol name offset ${off} outside ${strtab.name || "string table"}`);
    if (chunkStart < 0 || off < chunkStart || off >= chunkStart + strs.length) {
      chunkStart = off;
      strs = await readAt(fh, strtab.offset + off, Math.min(STR_CHUNK, strtab.size - off), strBuf);
    }
    let name = cString(strs, off - chunkStart);
    if (name === null) {
      // The name runs past this chunk: start the next chunk at it.
      chunkStart = off;
      strs = await readAt(fh, strtab.offset + off, Math.min(STR_CHUNK, strtab.size - off), strBuf);
      name = cString(strs, 0);
      if (name === null) throw new ElfError(path, `symbol name at ${off} is not terminated within 1 MiB`);
    }
    if (name === "" || isSkippedSymbolName(name) || into.has(name)) continue;
    into.set(name, { name, address: BigInt(value[i]!), size: size[i]! });
  }
}

function grow<T extends Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
