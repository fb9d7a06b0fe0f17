// The part of the Itanium C++ ABI's name mangling that hookpoint-pairs needs: a function's
// enclosing scopes (namespaces and classes, class templates included), its name, its
// cv-qualifiers and its parameter types, from a symbol like
// _ZN5Envoy6Router6Filter19hookpointRouteStartEv. Pure.
//
// npm has no C++ demangler that runs on Node 20 (gecko-profiler-demangle is a webpack-only
// WASM build and returns text only), so this is a small parser of the grammar's names and
// types, with the substitution table (S_, S0_, ...) kept as the ABI orders it. What it does
// not parse (expressions, lambdas and other local names, function templates, operators,
// vendor qualifiers) is refused with the reason, never guessed.

export interface CxxType {
  /** As c++filt spells it: "unsigned long", "Envoy::Buffer::Instance&", "char const*". */
  readonly text: string;
  /** An integer of at most 64 bits: its width; a pointer or reference: 64 (it is passed as an address); otherwise null. */
  readonly idBits: 8 | 16 | 32 | 64 | null;
}

export interface CxxFunction {
  /** Enclosing namespaces and classes, outermost first, as text: ["Envoy", "Router", "Filter"]; [] at global scope. */
  readonly scope: readonly string[];
  /** The mangled text of the enclosing scope: equal for two functions of the same class (or namespace). */
  readonly scopeKey: string;
  /** The function's own name: "hookpointRouteStart". */
  readonly name: string;
  /** Declared inside a nested name (`_ZN...E`): a member function unless it is static or the scope is a namespace, which the mangling does not say. */
  readonly nested: boolean;
  /** cv- and ref-qualifiers of a member function ("", " const", " const&", ...): only non-static members have them. */
  readonly qualifiers: string;
  /** Parameter types; [] for `(void)`. */
  readonly params: readonly CxxType[];
}

export class MangledNameError extends Error {
  constructor(
    readonly symbol: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${symbol}: ${reason} (at offset ${offset})`);
    this.name = "MangledNameError";
  }
}

const BUILTINS: Record<string, [string, CxxType["idBits"]]> = {
  v: ["void", null],
  w: ["wchar_t", null],
  b: ["bool", null],
  c: ["char", 8],
  a: ["signed char", 8],
  h: ["unsigned char", 8],
  s: ["short", 16],
  t: ["unsigned short", 16],
  i: ["int", 32],
  j: ["unsigned int", 32],
  l: ["long", 64],
  m: ["unsigned long", 64],
  x: ["long long", 64],
  y: ["unsigned long long", 64],
  n: ["__int128", null],
  o: ["unsigned __int128", null],
  f: ["float", null],
  d: ["double", null],
  e: ["long double", null],
  g: ["__float128", null],
  z: ["...", null],
};
const D_BUILTINS: Record<string, string> = {
  d: "decimal64",
  e: "decimal128",
  f: "decimal32",
  h: "half",
  i: "char32_t",
  s: "char16_t",
  u: "char8_t",
  a: "auto",
  c: "decltype(auto)",
  n: "decltype(nullptr)",
};
// Standard abbreviations (never added to the substitution table themselves), spelt out as
// c++filt does.
const STD_ABBREVIATIONS: Record<string, string> = {
  a: "std::allocator",
  b: "std::basic_string",
  s: "std::basic_string<char, std::char_traits<char>, std::allocator<char> >",
  i: "std::basic_istream<char, std::char_traits<char> >",
  o: "std::basic_ostream<char, std::char_traits<char> >",
  d: "std::basic_iostream<char, std::char_traits<char> >",
};

// A type while it is parsed: rendered at the end, so that pointers to functions and arrays
// read as C++ writes them ("void (*)(int)").
type Node =
  | { k: "text"; text: string; idBits: CxxType["idBits"] }
  | { k: "ptr"; op: "*" | "&" | "&&"; to: Node }
  | { k: "cv"; q: string; to: Node }
  | { k: "fn"; ret: Node; params: Node[]; q: string }
  | { k: "array"; dim: string; of: Node }
  | { k: "memptr"; cls: Node; mem: Node };

/** Parses a mangled function symbol; throws MangledNameError with the reason when it cannot. */
export function parseMangledFunction(symbol: string): CxxFunction {
  return new Parser(symbol).encoding();
}

class Parser {
  private pos = 0;
  /** The substitution table: S_ is [0], S0_ is [1], ... */
  private readonly subs: Node[] = [];

  constructor(private readonly s: string) {}

  encoding(): CxxFunction {
    if (!this.s.startsWith("_Z")) this.fail("not a mangled C++ name (no _Z)");
    this.pos = 2;
    let name: { scope: string[]; scopeKey: string; name: string; nested: boolean; qualifiers: string };
    const c = this.peek();
    if (c === "N") {
      name = this.nestedName();
    } else if (c === "Z") {
      this.fail("local names (a function or class inside a function) are not supported");
    } else if (c === "T" || c === "G") {
      this.fail("special names (thunks, guard variables, type info) are not functions to pair");
    } else {
      if (c === "L") this.pos++;
      const scope: string[] = [];
      if (this.s.startsWith("St", this.pos)) {
        this.pos += 2;
        scope.push("std");
      } else if (this.peek() === "S") {
        this.fail("a substitution as a function's name is not supported");
      }
      name = { scope, scopeKey: scope.length > 0 ? "St" : "", name: this.unqualifiedName(), nested: false, qualifiers: "" };
      if (this.peek() === "I") this.fail("function templates are not supported");
    }
    const params = this.bareFunctionType();
    return { ...name, params };
  }

  private nestedName(): { scope: string[]; scopeKey: string; name: string; nested: boolean; qualifiers: string } {
    this.expect("N");
    let qualifiers = this.cvQualifiers();
    if (this.peek() === "R" || this.peek() === "O") qualifiers += this.next() === "R" ? "&" : "&&";
    const keyStart = this.pos;
    const scope: string[] = [];
    let last: string | null = null;
    let lastIsName = false;
    let keyEnd = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === "E") break;
      if (last !== null) {
        // The component before this one is a prefix: substitutable (unless it was a substitution itself).
        scope.push(last);
        keyEnd = this.pos;
      }
      if (c === "I") {
        if (last === null) this.fail("template arguments without a template name");
        const args = this.templateArgs();
        const text = `${scope.pop() ?? ""}${args}`;
        last = text;
        lastIsName = false;
        this.subs.push(textNode(qualify(scope, text)));
        continue;
      }
      if (c === "S") {
        if (last !== null) this.fail("a substitution inside a nested name is not supported");
        const sub = this.substitutionOrStd();
        if (sub === "St") {
          scope.push("std");
          keyEnd = this.pos;
          last = null;
          last = this.unqualifiedName();
          lastIsName = true;
          this.addPrefixIfNotLast(scope, last);
          continue;
        }
        // A substitution stands for a whole prefix; split it back into components for the scope.
        last = render(sub);
        lastIsName = false;
        continue;
      }
      if (c === "T") this.fail("template parameters in a name are not supported");
      if (c === "D" && (this.s[this.pos + 1] === "t" || this.s[this.pos + 1] === "T")) this.fail("decltype in a name is not supported");
      last = this.unqualifiedName(scope[scope.length - 1] ?? last ?? "");
      lastIsName = true;
      this.addPrefixIfNotLast(scope, last);
    }
    if (last === null) this.fail("an empty nested name");
    // The function's own name is the last component; template arguments after it make it a function template.
    if (!lastIsName) this.fail("function templates are not supported");
    this.expect("E");
    return { scope: splitScope(scope), scopeKey: this.s.slice(keyStart, keyEnd), name: last, nested: true, qualifiers: renderQualifiers(qualifiers) };
  }

  // A name component becomes a substitution candidate when another component follows it
  // (then it is a prefix); the function's own name never does.
  private addPrefixIfNotLast(scope: string[], component: string): void {
    const c = this.peek();
    if (c !== "E") this.subs.push(textNode(qualify(scope, component)));
  }

  private unqualifiedName(enclosing = ""): string {
    const c = this.peek();
    let name: string;
    if (c === "L") {
      this.pos++;
      name = this.sourceName();
    } else if (c >= "0" && c <= "9") {
      name = this.sourceName();
    } else if (c === "C" && /[1-5]/.test(this.s[this.pos + 1] ?? "")) {
      this.pos += 2;
      name = baseName(enclosing);
    } else if (c === "D" && /[0-5]/.test(this.s[this.pos + 1] ?? "")) {
      this.pos += 2;
      name = `~${baseName(enclosing)}`;
    } else if (c === "U") {
      this.fail("unnamed types and lambdas are not supported");
    } else if (c >= "a" && c <= "z") {
      this.fail("operator names are not supported");
    } else {
      this.fail(c === "" ? "the symbol ends where a name was expected" : `unexpected "${c}" where a name was expected`);
    }
    while (this.peek() === "B") {
      this.pos++;
      name += `[abi:${this.sourceName()}]`;
    }
    return name;
  }

  private sourceName(): string {
    const start = this.pos;
    while (this.peek() >= "0" && this.peek() <= "9") this.pos++;
    if (start === this.pos) this.fail("a name length was expected");
    const len = Number(this.s.slice(start, this.pos));
    if (this.pos + len > this.s.length) this.fail(`a name of ${len} characters runs past the end`);
    const id = this.s.slice(this.pos, this.pos + len);
    this.pos += len;
    return id.startsWith("_GLOBAL__N") ? "(anonymous namespace)" : id;
  }

  private bareFunctionType(): CxxType[] {
    const params: Node[] = [];
    while (this.pos < this.s.length) {
      if (this.peek() === ".") this.fail("a compiler-made clone (a '.' suffix) is not the function its callers name");
      params.push(this.type());
    }
    if (params.length === 0) this.fail("no parameter types (not a function)");
    if (params.length === 1 && params[0]?.k === "text" && params[0].text === "void") return [];
    return params.map((p) => ({ text: render(p), idBits: p.k === "text" ? p.idBits : p.k === "ptr" ? 64 : null }));
  }

  private type(): Node {
    const c = this.peek();
    const builtin = BUILTINS[c];
    if (builtin) {
      this.pos++;
      return { k: "text", text: builtin[0], idBits: builtin[1] };
    }
    let node: Node;
    switch (c) {
      case "D": {
        const d = this.s[this.pos + 1] ?? "";
        const name = D_BUILTINS[d];
        if (name) {
          this.pos += 2;
          return textNode(name);
        }
        if (d === "F") {
          this.pos += 2;
          const bits = this.number();
          this.expect("_");
          return textNode(`_Float${bits}`);
        }
        if (d === "p") this.fail("pack expansions are not supported");
        if (d === "v") this.fail("vector types are not supported");
        this.fail("decltype is not supported");
        break;
      }
      case "u":
        // A vendor's extended type: unlike the other builtins, substitutable.
        this.pos++;
        node = textNode(this.sourceName());
        break;
      case "P":
      case "R":
      case "O":
        this.pos++;
        node = { k: "ptr", op: c === "P" ? "*" : c === "R" ? "&" : "&&", to: this.type() };
        break;
      case "r":
      case "V":
      case "K": {
        const q = this.cvQualifiers();
        node = { k: "cv", q, to: this.type() };
        break;
      }
      case "F":
        node = this.functionType();
        break;
      case "A":
        node = this.arrayType();
        break;
      case "M": {
        this.pos++;
        const cls = this.type();
        node = { k: "memptr", cls, mem: this.type() };
        break;
      }
      case "N": {
        // A class or enum named by a nested name: its prefixes and itself are substitutable.
        this.pos++;
        if (/[rVKRO]/.test(this.peek())) this.fail("a qualified nested type name is not supported");
        const scope: string[] = [];
        let last: string | null = null;
        while (this.peek() !== "E") {
          if (last !== null) scope.push(last);
          const p = this.peek();
          if (p === "I") {
            if (last === null) this.fail("template arguments without a template name");
            last = `${scope.pop() ?? ""}${this.templateArgs()}`;
          } else if (p === "S") {
            if (last !== null) this.fail("a substitution inside a nested name is not supported");
            const sub = this.substitutionOrStd();
            if (sub === "St") {
              scope.push("std");
              last = this.unqualifiedName();
            } else {
              last = render(sub);
              continue;
            }
          } else if (p === "T") {
            this.fail("template parameters are not supported");
          } else {
            last = this.unqualifiedName(last ?? "");
          }
          this.subs.push(textNode(qualify(scope, last)));
        }
        this.pos++;
        return textNode(qualify(scope, last ?? ""));
      }
      case "S": {
        const sub = this.substitutionOrStd();
        const base = sub === "St" ? textNode(`std::${this.unqualifiedName()}`) : sub;
        if (sub === "St") this.subs.push(base);
        if (this.peek() !== "I") {
          if (sub === "St") return base;
          return sub;
        }
        node = textNode(`${render(base)}${this.templateArgs()}`);
        break;
      }
      case "T":
        this.fail("template parameters are not supported");
        break;
      case "Z":
        this.fail("local names (a function or class inside a function) are not supported");
        break;
      default:
        if (c >= "0" && c <= "9") {
          const name = this.sourceName();
          this.subs.push(textNode(name));
          if (this.peek() !== "I") return textNode(name);
          node = textNode(`${name}${this.templateArgs()}`);
          break;
        }
        this.fail(c === "" ? "the symbol ends where a type was expected" : `unexpected "${c}" where a type was expected`);
    }
    this.subs.push(node);
    return node;
  }

  private functionType(): Node {
    this.expect("F");
    if (this.peek() === "Y") this.pos++;
    const ret = this.type();
    const params: Node[] = [];
    let q = "";
    while (this.peek() !== "E") {
      if (this.peek() === "R" && this.s[this.pos + 1] === "E") {
        this.pos++;
        q = " &";
        continue;
      }
      if (this.peek() === "O" && this.s[this.pos + 1] === "E") {
        this.pos++;
        q = " &&";
        continue;
      }
      if (this.pos >= this.s.length) this.fail("a function type without its closing E");
      params.push(this.type());
    }
    this.pos++;
    const voidOnly = params.length === 1 && params[0]?.k === "text" && params[0].text === "void";
    return { k: "fn", ret, params: voidOnly ? [] : params, q };
  }

  private arrayType(): Node {
    this.expect("A");
    let dim = "";
    if (this.peek() !== "_") {
      if (!(this.peek() >= "0" && this.peek() <= "9")) this.fail("array dimensions that are expressions are not supported");
      dim = String(this.number());
    }
    this.expect("_");
    return { k: "array", dim, of: this.type() };
  }

  private templateArgs(): string {
    this.expect("I");
    const args: string[] = [];
    while (this.peek() !== "E") {
      if (this.pos >= this.s.length) this.fail("template arguments without their closing E");
      args.push(this.templateArg());
    }
    this.pos++;
    const text = args.filter((a) => a !== "").join(", ");
    // c++filt keeps C++03's space between two closing brackets (but not after an empty pack).
    return `<${text}${text.endsWith(">") && args.at(-1) !== "" ? " " : ""}>`;
  }

  private templateArg(): string {
    const c = this.peek();
    if (c === "L") {
      this.pos++;
      if (this.peek() === "_") this.fail("template arguments naming external entities are not supported");
      const t = this.type();
      const neg = this.peek() === "n";
      if (neg) this.pos++;
      const digits = this.number();
      this.expect("E");
      return literal(render(t), `${neg ? "-" : ""}${digits}`);
    }
    if (c === "X") this.fail("template arguments that are expressions are not supported");
    if (c === "J") {
      this.pos++;
      const pack: string[] = [];
      while (this.peek() !== "E") {
        if (this.pos >= this.s.length) this.fail("an argument pack without its closing E");
        pack.push(this.templateArg());
      }
      this.pos++;
      return pack.filter((a) => a !== "").join(", ");
    }
    return render(this.type());
  }

  /** "St" (the std:: prefix, which the caller completes), or the node a substitution stands for. */
  private substitutionOrStd(): Node | "St" {
    this.expect("S");
    const c = this.peek();
    if (c === "t") {
      this.pos++;
      return "St";
    }
    const abbr = STD_ABBREVIATIONS[c];
    if (abbr) {
      this.pos++;
      return textNode(abbr);
    }
    let index = 0;
    if (c !== "_") {
      const start = this.pos;
      while (/[0-9A-Z]/.test(this.peek())) this.pos++;
      if (start === this.pos) this.fail(`unexpected "${c}" after S`);
      index = parseInt(this.s.slice(start, this.pos), 36) + 1;
    }
    this.expect("_");
    const node = this.subs[index];
    if (!node) this.fail(`substitution ${index} refers past the ${this.subs.length} names seen so far`);
    return node;
  }

  private cvQualifiers(): string {
    let q = "";
    for (;;) {
      const c = this.peek();
      if (c === "r") q = `${q} restrict`;
      else if (c === "V") q = `${q} volatile`;
      else if (c === "K") q = `${q} const`;
      else break;
      this.pos++;
    }
    // Mangled inner-first (r, V, K); c++filt reads them out as "const volatile".
    return q.trim().split(" ").filter(Boolean).reverse().join(" ");
  }

  private number(): number {
    const start = this.pos;
    while (this.peek() >= "0" && this.peek() <= "9") this.pos++;
    if (start === this.pos) this.fail("a number was expected");
    return Number(this.s.slice(start, this.pos));
  }

  private peek(): string {
    return this.s[this.pos] ?? "";
  }

  private next(): string {
    return this.s[this.pos++] ?? "";
  }

  private expect(c: string): void {
    if (this.peek() !== c) this.fail(this.pos >= this.s.length ? `the symbol ends where "${c}" was expected` : `"${c}" expected, found "${this.peek()}"`);
    this.pos++;
  }

  private fail(reason: string): never {
    throw new MangledNameError(this.s, this.pos, reason);
  }
}

function textNode(text: string): Node {
  return { k: "text", text, idBits: null };
}

function qualify(scope: readonly string[], name: string): string {
  return [...scope, name].join("::");
}

/** A scope list whose entries may hold "A::B" (from a substitution): split at top-level "::". */
function splitScope(scope: readonly string[]): string[] {
  return scope.flatMap(splitTopLevel);
}

function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "<" || c === "(") depth++;
    else if (c === ">" || c === ")") depth--;
    else if (depth === 0 && c === ":" && text[i + 1] === ":") {
      out.push(text.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** A constructor's or destructor's name: its class's, without template arguments or ABI tags. */
function baseName(enclosing: string): string {
  const last = splitTopLevel(enclosing).at(-1) ?? "";
  return last.replace(/[<[].*$/s, "");
}

function renderQualifiers(q: string): string {
  // cv first, then the ref-qualifier: " const &" as c++filt prints it.
  const ref = /&+$/.exec(q)?.[0] ?? "";
  const cv = q.slice(0, q.length - ref.length).trim();
  return `${cv ? ` ${cv}` : ""}${ref ? ` ${ref}` : ""}`;
}

const LITERAL_SUFFIX: Record<string, string> = { int: "", "unsigned int": "u", long: "l", "unsigned long": "ul", "long long": "ll", "unsigned long long": "ull" };

function literal(type: string, value: string): string {
  if (type === "bool") return value === "0" ? "false" : "true";
  const suffix = LITERAL_SUFFIX[type];
  return suffix !== undefined ? `${value}${suffix}` : `(${type})${value}`;
}

function nestsDeclarator(node: Node): boolean {
  for (let n: Node = node; ; ) {
    if (n.k === "fn" || n.k === "array") return n !== node;
    if (n.k === "text") return false;
    n = n.k === "memptr" ? n.mem : n.to;
  }
}

/** A type as c++filt prints it. */
function render(node: Node): string {
  return renderAround(node, "");
}

// Declarator-style rendering: `inner` is what the type wraps ("*" for a pointer to it).
function renderAround(node: Node, inner: string): string {
  switch (node.k) {
    case "text":
      return `${node.text}${inner}`;
    case "cv":
      // A qualified function type is a member function's: the qualifiers follow its parameters.
      if (node.to.k === "fn") return renderAround({ ...node.to, q: ` ${node.q}${node.to.q}` }, inner);
      return renderAround(node.to, ` ${node.q}${inner}`);
    case "ptr":
      return renderAround(node.to, `${node.op}${inner}`);
    case "fn": {
      const params = `(${node.params.map(render).join(", ")})${node.q}`;
      const declarator = inner ? `(${inner.trim()})${params}` : params;
      // A function returning a pointer to a function (or array) nests: "int (*(*)())()".
      if (nestsDeclarator(node.ret)) return renderAround(node.ret, declarator);
      return `${render(node.ret)} ${declarator}`;
    }
    case "array":
      return `${render(node.of)} ${inner ? `(${inner.trim()}) ` : ""}[${node.dim}]`;
    case "memptr": {
      const cls = render(node.cls);
      if (node.mem.k === "fn") return renderAround(node.mem, `${cls}::*${inner}`);
      return `${render(node.mem)} ${cls}::*${inner}`;
    }
  }
}
