// Builds small ELF64 files for the symbol reader's tests: a string table, a symbol table
// and optionally a GNU build-id note. Only the parts the reader looks at are filled in.

export interface FakeSymbol {
  name: string;
  value: number;
  size?: number;
  /** STT_*: 2 = FUNC (default), 1 = OBJECT, 10 = GNU_IFUNC. */
  type?: number;
  /** Section index; 0 = undefined (an import). Default 1. */
  shndx?: number;
  /** Share the tail of an earlier symbol's name (by index) instead of a string of its own, as linkers merge strings. */
  tailOf?: number;
}

export interface FakeElf {
  symtab?: FakeSymbol[];
  dynsym?: FakeSymbol[];
  buildId?: string;
}

export function buildElf(spec: FakeElf): Buffer {
  const parts: Buffer[] = [];
  let offset = 64;
  const place = (b: Buffer): number => {
    const at = offset;
    parts.push(b);
    offset += b.length;
    const pad = (8 - (offset % 8)) % 8;
    if (pad) {
      parts.push(Buffer.alloc(pad));
      offset += pad;
    }
    return at;
  };
  interface Sec { name: string; type: number; offset: number; size: number; link: number; entsize: number }
  const sections: Sec[] = [{ name: "", type: 0, offset: 0, size: 0, link: 0, entsize: 0 }];

  const addTable = (symbols: FakeSymbol[], tableName: string, strName: string, type: number): void => {
    const names: Buffer[] = [Buffer.from([0])];
    let strSize = 1;
    const nameAt: number[] = [];
    const syms = Buffer.alloc(24 * (symbols.length + 1));
    symbols.forEach((s, i) => {
      const at = 24 * (i + 1);
      if (s.tailOf !== undefined) {
        const whole = symbols[s.tailOf]!.name;
        if (!whole.endsWith(s.name)) throw new Error(`${s.name} is not a tail of ${whole}`);
        nameAt.push(nameAt[s.tailOf]! + whole.length - s.name.length);
      } else {
        nameAt.push(strSize);
      }
      syms.writeUInt32LE(nameAt[i]!, at);
      syms[at + 4] = (1 << 4) | (s.type ?? 2);
      syms.writeUInt16LE(s.shndx ?? 1, at + 6);
      syms.writeBigUInt64LE(BigInt(s.value), at + 8);
      syms.writeBigUInt64LE(BigInt(s.size ?? 16), at + 16);
      if (s.tailOf !== undefined) return;
      const n = Buffer.from(s.name + "\0", "latin1");
      names.push(n);
      strSize += n.length;
    });
    const strtab = Buffer.concat(names);
    const strIndex = sections.length;
    sections.push({ name: strName, type: 3, offset: place(strtab), size: strtab.length, link: 0, entsize: 0 });
    sections.push({ name: tableName, type, offset: place(syms), size: syms.length, link: strIndex, entsize: 24 });
  };
  if (spec.buildId) {
    const desc = Buffer.from(spec.buildId, "hex");
    const note = Buffer.alloc(12 + 4 + desc.length);
    note.writeUInt32LE(4, 0);
    note.writeUInt32LE(desc.length, 4);
    note.writeUInt32LE(3, 8);
    note.write("GNU\0", 12, "latin1");
    desc.copy(note, 16);
    sections.push({ name: ".note.gnu.build-id", type: 7, offset: place(note), size: note.length, link: 0, entsize: 0 });
  }
  if (spec.symtab) addTable(spec.symtab, ".symtab", ".strtab", 2);
  if (spec.dynsym) addTable(spec.dynsym, ".dynsym", ".dynstr", 11);

  const shstr: Buffer[] = [];
  const nameOffsets: number[] = [];
  let shstrSize = 0;
  for (const s of [...sections.map((x) => x.name), ".shstrtab"]) {
    nameOffsets.push(shstrSize);
    const b = Buffer.from(s + "\0", "latin1");
    shstr.push(b);
    shstrSize += b.length;
  }
  const shstrtab = Buffer.concat(shstr);
  sections.push({ name: ".shstrtab", type: 3, offset: place(shstrtab), size: shstrtab.length, link: 0, entsize: 0 });

  const shoff = offset;
  const shdrs = Buffer.alloc(64 * sections.length);
  sections.forEach((s, i) => {
    const at = 64 * i;
    shdrs.writeUInt32LE(nameOffsets[i]!, at);
    shdrs.writeUInt32LE(s.type, at + 4);
    shdrs.writeBigUInt64LE(BigInt(s.offset), at + 24);
    shdrs.writeBigUInt64LE(BigInt(s.size), at + 32);
    shdrs.writeUInt32LE(s.link, at + 40);
    shdrs.writeBigUInt64LE(BigInt(s.entsize), at + 56);
  });
  parts.push(shdrs);

  const eh = Buffer.alloc(64);
  eh.writeUInt32BE(0x7f454c46, 0);
  eh[4] = 2;
  eh[5] = 1;
  eh[6] = 1;
  eh.writeUInt16LE(3, 16); // ET_DYN
  eh.writeUInt16LE(62, 18); // x86-64
  eh.writeBigUInt64LE(BigInt(shoff), 0x28);
  eh.writeUInt16LE(64, 0x34);
  eh.writeUInt16LE(64, 0x3a);
  eh.writeUInt16LE(sections.length, 0x3c);
  eh.writeUInt16LE(sections.length - 1, 0x3e);
  return Buffer.concat([eh, ...parts]);
}
