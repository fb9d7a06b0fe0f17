// ELF64 little-endian layout: the constants and pure decoders the symbol reader uses.
// Only what hookpoint needs: section headers, symbol entries and GNU build-id notes.

export const SHT_SYMTAB = 2;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const STT_FUNC = 2;
export const STT_GNU_IFUNC = 10;
export const SHN_UNDEF = 0;
export const SHN_XINDEX = 0xffff;
export const NT_GNU_BUILD_ID = 3;
export const EHDR_SIZE = 64;
export const SHDR_SIZE = 64;
export const SYM_SIZE = 24;

export interface ElfHeader {
  shoff: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

export interface SectionHeader {
  nameOffset: number;
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

/** A clear error naming the file and what is wrong with it. */
export class ElfError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = "ElfError";
  }
}

export function parseElfHeader(path: string, buf: Buffer): ElfHeader {
  if (buf.length < EHDR_SIZE || buf.readUInt32BE(0) !== 0x7f454c46) {
    throw new ElfError(path, "not an ELF file (bad magic)");
  }
  const cls = buf[4];
  const data = buf[5];
  if (cls !== 2) throw new ElfError(path, `unsupported ELF class ${cls} (only 64-bit ELF is supported)`);
  if (data !== 1) throw new ElfError(path, `unsupported ELF data encoding ${data} (only little-endian is supported)`);
  const header = {
    shoff: safeNumber(path, buf.readBigUInt64LE(0x28), "e_shoff"),
    shentsize: buf.readUInt16LE(0x3a),
    shnum: buf.readUInt16LE(0x3c),
    shstrndx: buf.readUInt16LE(0x3e),
  };
  if (header.shoff !== 0 && header.shentsize !== SHDR_SIZE) {
    throw new ElfError(path, `unexpected section header size ${header.shentsize} (want ${SHDR_SIZE})`);
  }
  return header;
}

/** Decodes one section header (name resolved later, from the section name table). */
export function parseSectionHeader(path: string, buf: Buffer, at: number): SectionHeader {
  return {
    nameOffset: buf.readUInt32LE(at),
    name: "",
    type: buf.readUInt32LE(at + 4),
    offset: safeNumber(path, buf.readBigUInt64LE(at + 24), "sh_offset"),
    size: safeNumber(path, buf.readBigUInt64LE(at + 32), "sh_size"),
    link: buf.readUInt32LE(at + 40),
    entsize: safeNumber(path, buf.readBigUInt64LE(at + 56), "sh_entsize"),
  };
}

/** Reads a NUL-terminated string; null when no NUL follows within the buffer. */
export function cString(buf: Buffer, at: number): string | null {
  const end = buf.indexOf(0, at);
  return end < 0 ? null : buf.toString("latin1", at, end);
}

/** Finds a GNU build-id in the bytes of one SHT_NOTE section, as lowercase hex. */
export function findBuildId(notes: Buffer): string | null {
  let at = 0;
  while (at + 12 <= notes.length) {
    const namesz = notes.readUInt32LE(at);
    const descsz = notes.readUInt32LE(at + 4);
    const type = notes.readUInt32LE(at + 8);
    const nameAt = at + 12;
    const descAt = nameAt + align4(namesz);
    if (descAt + descsz > notes.length) return null;
    if (type === NT_GNU_BUILD_ID && namesz === 4 && notes.toString("latin1", nameAt, nameAt + 3) === "GNU") {
      return notes.toString("hex", descAt, descAt + descsz);
    }
    at = descAt + align4(descsz);
  }
  return null;
}

/** Symbols that are not a function's entry: thunks (`_ZThn`, `_ZTv`, `_ZTc`) and the cold
 * split-off parts of functions (`.cold`), which globs would otherwise match and count twice. */
export function isSkippedSymbolName(name: string): boolean {
  if (name.startsWith("_ZT") && (name[3] === "h" || name[3] === "v" || name[3] === "c")) return true;
  return name.includes(".cold") && /\.cold(\.\d+)?$/.test(name);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function safeNumber(path: string, v: bigint, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(path, `${field} out of range (${v})`);
  return Number(v);
}
