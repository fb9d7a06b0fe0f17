// Reads the function symbols of an ELF binary (Envoy is 100+ MB with ~10^5-10^6 symbols)
// without loading the file and without keeping its whole table: only the symbols that the
// selected scripts' patterns name are kept, plus counts. The string table is scanned once
// for each pattern's literal text (native memmem), the symbol table is streamed once to
// pick the function entries whose names start at a hit; memory stays flat however many
// symbols the binary has. Results are cached by GNU build-id and patterns, so every Envoy
// on the node that runs the same build is read once.
import { open, type FileHandle } from "node:fs/promises";
import { globToRegExp as anyGlobToRegExp } from "../glob.js";
import { errnoText } from "../errno-text.js";
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
  /** Defined function entries in the table that was read (.symtab, else .dynsym). */
  functions: number;
  /** What was kept: the patterns (symbol names or `*` globs) the table was read for, or
   * null when every function was kept. */
  patterns: readonly string[] | null;
  /** Defined function symbols by name (those matching `patterns`); thunks and `.cold`
   * parts excluded. Never changed once read: tables are shared through the build-id cache
   * and glob results are kept. */
  symbols: ReadonlyMap<string, ElfSymbol>;
}

const SYM_CHUNK_ENTRIES = 8192; // 192 KiB of symbol entries per read
const STR_CHUNK = 1 << 20; // 1 MiB of string table per read
const CACHE_LIMIT = 4;

const byKey = new Map<string, SymbolTable>();
// Glob results per symbol map: the check and the render of a script ask for the same
// patterns, and every Envoy of one build shares its table, so each glob is scanned once.
const globMatches = new WeakMap<ReadonlyMap<string, ElfSymbol>, Map<string, ElfSymbol[]>>();

/**
 * Reads (or returns from the cache) the function symbols of `path` that match one of
 * `patterns` (bpftrace-style: `*` is any run of characters); null keeps every function,
 * for tools and tests on small binaries.
 */
export async function readSymbolTable(path: string, patterns: readonly string[] | null = null): Promise<SymbolTable> {
  const fh = await open(path, "r").catch((err: NodeJS.ErrnoException) => {
    throw new ElfError(path, `cannot open: ${errnoText(err, "file")}`);
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
    const wanted = patterns === null ? null : [...new Set(patterns)].sort();
    // `strip` keeps the build-id, so the key also says which symbol tables are present.
    const key = buildId ? `${buildId}:${symtab?.size ?? 0}:${dynsym?.size ?? 0}:${wanted?.join("\n") ?? "*"}` : null;
    const cached = key ? byKey.get(key) : undefined;
    if (cached) return cached.path === path ? cached : { ...cached, path };

    const symbols = new Map<string, ElfSymbol>();
    const matcher = wanted === null ? null : new Matcher(wanted);
    // .symtab first: on duplicate names (local functions of several files) the first wins.
    const functions = symtab ? await collect(path, fh, symtab, sections, size, matcher, symbols) : 0;
    const dynFunctions = dynsym ? await collect(path, fh, dynsym, sections, size, matcher, symbols) : 0;
    const stripped = !symtab && !(dynsym && (await hasUsefulFunction(path, fh, dynsym, sections, size)));
    const table: SymbolTable = { path, buildId, stripped, functions: symtab ? functions : dynFunctions, patterns: wanted, symbols };
    if (key) remember(key, table);
    return table;
  } finally {
    await fh.close();
  }
}

/** Symbols whose name matches a bpftrace-style glob (`*` = any run of characters). */
export function matchSymbols(table: SymbolTable, glob: string): ElfSymbol[] {
  if (!covers(table, glob)) {
    throw new Error(`${table.path}: the symbol table was read for ${table.patterns!.join(", ")}, not for ${glob}`);
  }
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

/** Whether the table was read for `glob`: a lookup outside its patterns would silently miss. */
function covers(table: SymbolTable, glob: string): boolean {
  if (table.patterns === null || table.patterns.includes(glob)) return true;
  return !glob.includes("*") && table.patterns.some((p) => globToRegExp(p).test(glob));
}

/** A symbol glob as an anchored RegExp whose `*` spans any character, newlines included. */
export function globToRegExp(glob: string): RegExp {
  return anyGlobToRegExp(glob, "s");
}

/** Forgets cached tables (tests, and a long-running agent that saw many builds). */
export function clearSymbolCache(): void {
  byKey.clear();
}

/**
 * Where each pattern's text must appear in a string table: an exact name or a glob's
 * literal prefix at the name's start, else the glob's longest literal part somewhere in
 * the name. Every hit is only a candidate; the whole pattern is tested on the name.
 */
class Matcher {
  readonly anchors: { literal: Buffer; atStart: boolean }[] = [];
  readonly maxLiteral: number;
  private readonly res: RegExp[];

  constructor(patterns: readonly string[]) {
    this.res = patterns.map(globToRegExp);
    for (const p of patterns) {
      const parts = p.split("*");
      const prefix = parts[0] ?? "";
      const longest = parts.reduce((a, b) => (b.length > a.length ? b : a), "");
      // A pattern of stars alone has nothing to search for: every name is a candidate.
      this.anchors.push(prefix !== "" ? { literal: Buffer.from(prefix, "latin1"), atStart: true } : { literal: Buffer.from(longest, "latin1"), atStart: false });
    }
    this.maxLiteral = Math.max(1, ...this.anchors.map((a) => a.literal.length));
  }

  get matchesAll(): boolean {
    return this.anchors.some((a) => a.literal.length === 0);
  }

  test(name: string): boolean {
    return this.res.some((re) => re.test(name));
  }
}

/** Name offsets that may start a matching name: exact starts, and [string start, hit] ranges. */
class Candidates {
  readonly starts = new Set<number>();
  private ranges: number[] = [];
  private merged: number[] | null = null;

  addRange(from: number, to: number): void {
    this.ranges.push(from, to);
    this.merged = null;
  }

  has(off: number): boolean {
    if (this.starts.has(off)) return true;
    const r = (this.merged ??= mergeRanges(this.ranges));
    let lo = 0;
    let hi = r.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (off < r[mid * 2]!) hi = mid - 1;
      else if (off > r[mid * 2 + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

function mergeRanges(flat: number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [a, b] of pairs) {
    if (out.length > 0 && a <= out[out.length - 1]! + 1) out[out.length - 1] = Math.max(out[out.length - 1]!, b);
    else out.push(a, b);
  }
  return out;
}

/** One pass over the string table: every place a pattern's literal text occurs. */
async function scanStrings(fh: FileHandle, strtab: SectionHeader, m: Matcher): Promise<Candidates> {
  const out = new Candidates();
  const overlap = m.maxLiteral - 1;
  const buf = Buffer.allocUnsafe(STR_CHUNK + overlap);
  let lastNul = -1; // absolute offset of the last NUL before the current chunk
  for (let cs = 0; cs < strtab.size; cs += STR_CHUNK) {
    const len = Math.min(STR_CHUNK, strtab.size - cs);
    const chunk = await readAt(fh, strtab.offset + cs, Math.min(len + overlap, strtab.size - cs), buf);
    for (const a of m.anchors) {
      // Hits starting in the overlap belong to the next chunk.
      for (let i = chunk.indexOf(a.literal); i >= 0 && i < len; i = chunk.indexOf(a.literal, i + 1)) {
        if (a.atStart) {
          out.starts.add(cs + i);
        } else {
          const nul = i > 0 ? chunk.lastIndexOf(0, i - 1) : -1;
          out.addRange(nul >= 0 ? cs + nul + 1 : lastNul + 1, cs + i);
        }
      }
    }
    const nul = chunk.lastIndexOf(0, len - 1);
    if (nul >= 0) lastNul = cs + nul;
  }
  return out;
}

/** Names from a string table by offset; reads a chunk at a time, in offset order best. */
class StringReader {
  private start = -1;
  private strs: Buffer = Buffer.alloc(0);
  private readonly buf = Buffer.allocUnsafe(STR_CHUNK);

  constructor(
    private readonly path: string,
    private readonly fh: FileHandle,
    private readonly strtab: SectionHeader,
  ) {}

  async at(off: number): Promise<string> {
    if (off >= this.strtab.size) throw new ElfError(this.path, `symbol name offset ${off} outside ${this.strtab.name || "string table"}`);
    if (this.start >= 0 && off >= this.start && off < this.start + this.strs.length) {
      const name = cString(this.strs, off - this.start);
      if (name !== null) return name;
    }
    // Not in the chunk, or the name runs past it: start the next chunk at it.
    this.start = off;
    this.strs = await readAt(this.fh, this.strtab.offset + off, Math.min(STR_CHUNK, this.strtab.size - off), this.buf);
    const name = cString(this.strs, 0);
    if (name === null) throw new ElfError(this.path, `symbol name at ${off} is not terminated within 1 MiB`);
    return name;
  }
}

/** The defined functions of a symbol table: (name offset, address, size) for each entry. */
async function forEachFunction(fh: FileHandle, table: SectionHeader, each: (nameOff: number, value: number, size: number) => void): Promise<void> {
  const count = Math.floor(table.size / SYM_SIZE);
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
      each(buf.readUInt32LE(at), v, buf.readUInt32LE(at + 16) + buf.readUInt32LE(at + 20) * 0x1_0000_0000);
    }
  }
}

function stringTableOf(path: string, table: SectionHeader, sections: SectionHeader[], fileSize: number): SectionHeader {
  const strtab = sections[table.link];
  if (!strtab || strtab.type === SHT_NOBITS) throw new ElfError(path, `section ${table.name || table.type} has no string table`);
  if (table.entsize !== SYM_SIZE) throw new ElfError(path, `section ${table.name} has entry size ${table.entsize} (want ${SYM_SIZE})`);
  if (table.offset + table.size > fileSize || strtab.offset + strtab.size > fileSize) {
    throw new ElfError(path, `section ${table.name} lies past the end of the file (truncated?)`);
  }
  return strtab;
}

/** Adds the table's defined functions that `m` matches (all with null) to `into`; returns how many functions it has. */
async function collect(
  path: string,
  fh: FileHandle,
  table: SectionHeader,
  sections: SectionHeader[],
  fileSize: number,
  m: Matcher | null,
  into: Map<string, ElfSymbol>,
): Promise<number> {
  const strtab = stringTableOf(path, table, sections, fileSize);
  const hits = m === null || m.matchesAll ? null : await scanStrings(fh, strtab, m);
  const found: { nameOff: number; value: number; size: number }[] = [];
  let functions = 0;
  await forEachFunction(fh, table, (nameOff, value, size) => {
    functions++;
    if (!hits || hits.has(nameOff)) found.push({ nameOff, value, size });
  });
  // Names in string-table order: one read per chunk. A stable sort keeps the first entry
  // of a repeated name first (local functions of several files).
  found.sort((a, b) => a.nameOff - b.nameOff);
  const names = new StringReader(path, fh, strtab);
  for (const f of found) {
    const name = await names.at(f.nameOff);
    if (name === "" || isSkippedSymbolName(name) || into.has(name) || (m !== null && !m.test(name))) continue;
    into.set(name, { name, address: BigInt(f.value), size: f.size });
  }
  return functions;
}

// Without .symtab, a binary whose .dynsym exports only runtime helpers or instantiated
// standard-library templates (g++ exports weak `std::` instantiations) has nothing to probe.
async function hasUsefulFunction(path: string, fh: FileHandle, dynsym: SectionHeader, sections: SectionHeader[], fileSize: number): Promise<boolean> {
  const strtab = stringTableOf(path, dynsym, sections, fileSize);
  const offsets: number[] = [];
  await forEachFunction(fh, dynsym, (nameOff) => offsets.push(nameOff));
  const names = new StringReader(path, fh, strtab);
  for (const off of offsets.sort((a, b) => a - b)) {
    const name = await names.at(off);
    if (name !== "" && !isSkippedSymbolName(name) && !/^(_ZN?K?St|_ZN9__gnu_cxx|_init$|_fini$|_start$|__libc_csu_)/.test(name)) return true;
  }
  return false;
}

function remember(key: string, table: SymbolTable): void {
  if (byKey.size >= CACHE_LIMIT) {
    const oldest = byKey.keys().next().value;
    if (oldest !== undefined) byKey.delete(oldest);
  }
  byKey.set(key, table);
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
