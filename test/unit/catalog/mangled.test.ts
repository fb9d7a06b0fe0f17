import { describe, expect, it } from "vitest";
import { MangledNameError, parseMangledFunction, type CxxFunction } from "../../../src/catalog/mangled.js";

/** The function as c++filt prints it. */
function demangled(f: CxxFunction): string {
  return `${[...f.scope, f.name].join("::")}(${f.params.map((p) => p.text).join(", ")})${f.qualifiers}`;
}

function reason(symbol: string): string {
  try {
    parseMangledFunction(symbol);
  } catch (err) {
    if (err instanceof MangledNameError) return err.reason;
    throw err;
  }
  throw new Error(`${symbol} parsed`);
}

describe("parseMangledFunction", () => {
  it("reads a member function's scope, name and parameter types (the fixture's member hookpoints)", () => {
    expect(parseMangledFunction("_ZN5Envoy4Http21ConnectionManagerImpl12ActiveStream20hookpointDecodeStartEm")).toEqual({
      scope: ["Envoy", "Http", "ConnectionManagerImpl", "ActiveStream"],
      scopeKey: "5Envoy4Http21ConnectionManagerImpl12ActiveStream",
      name: "hookpointDecodeStart",
      nested: true,
      qualifiers: "",
      params: [{ text: "unsigned long", idBits: 64 }],
    });
    expect(parseMangledFunction("_ZN5Envoy6Router6Filter19hookpointRouteStartEv")).toEqual({
      scope: ["Envoy", "Router", "Filter"],
      scopeKey: "5Envoy6Router6Filter",
      name: "hookpointRouteStart",
      nested: true,
      qualifiers: "",
      params: [],
    });
  });

  it("keeps cv- and ref-qualifiers out of the scope key: a const member is in the same class", () => {
    const f = parseMangledFunction("_ZNK5Envoy3Foo15hookpointXStartEj");
    expect([f.scopeKey, f.qualifiers, f.params]).toEqual(["5Envoy3Foo", " const", [{ text: "unsigned int", idBits: 32 }]]);
    expect(parseMangledFunction("_ZNVKO3Foo3barEv").qualifiers).toBe(" const volatile &&");
    expect(parseMangledFunction("_ZNKR3Foo3strEv").qualifiers).toBe(" const &");
  });

  it("reads a global C++ function: no scope, not nested", () => {
    expect(parseMangledFunction("_Z20hookpointRouterStartm")).toEqual({ scope: [], scopeKey: "", name: "hookpointRouterStart", nested: false, qualifiers: "", params: [{ text: "unsigned long", idBits: 64 }] });
    // Internal linkage (a static function) is marked with L.
    expect(demangled(parseMangledFunction("_ZL19hookpointQuietStarti"))).toBe("hookpointQuietStart(int)");
  });

  it("says which parameter types can identify an interval: integers up to 64 bits, pointers, references", () => {
    const bits = (code: string): number | null => parseMangledFunction(`_ZN3Foo3barE${code}`).params[0]?.idBits ?? null;
    expect(["h", "a", "c", "t", "s", "j", "i", "m", "l", "y", "x"].map(bits)).toEqual([8, 8, 8, 16, 16, 32, 32, 64, 64, 64, 64]);
    expect(["PKc", "RN3Foo6StreamE", "ON3Foo6StreamE", "PFvvE"].map(bits)).toEqual([64, 64, 64, 64]);
    // bool, wide characters, floating point, 128-bit integers, classes and enums (the mangling
    // does not tell them apart), member pointers.
    expect(["b", "w", "Di", "d", "n", "o", "N3Foo2IdE", "M3Bari", "z"].map(bits)).toEqual([null, null, null, null, null, null, null, null, null]);
  });

  // Each expected text is what c++filt (GNU binutils 2.40) prints for the symbol.
  it.each([
    ["_ZN5Envoy4Http9CodecImplINS0_5Http1EE19hookpointParseStartEPKc", "Envoy::Http::CodecImpl<Envoy::Http::Http1>::hookpointParseStart(char const*)"],
    ["_ZN3Foo15hookpointXStartERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE", "Foo::hookpointXStart(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)"],
    ["_ZN5Envoy6Router6Filter19hookpointRouteStartERS1_", "Envoy::Router::Filter::hookpointRouteStart(Envoy::Router::Filter&)"],
    ["_ZN12_GLOBAL__N_13Foo15hookpointXStartEt", "(anonymous namespace)::Foo::hookpointXStart(unsigned short)"],
    ["_ZN3FooILi3ELb1EE15hookpointXStartEv", "Foo<3, true>::hookpointXStart()"],
    ["_ZNSt6vectorIiSaIiEE15hookpointXStartEv", "std::vector<int, std::allocator<int> >::hookpointXStart()"],
    ["_ZN1AINS_1BIiEEE3fooEv", "A<A::B<int> >::foo()"],
    ["_ZN4llvm11PassManagerINS_8FunctionEJEE3runEv", "llvm::PassManager<llvm::Function>::run()"],
    ["_ZN3FooIJicEE3barEv", "Foo<int, char>::bar()"],
    ["_ZN3FooIKcE3barEv", "Foo<char const>::bar()"],
    ["_ZN3Foo4nameB5cxx11Ev", "Foo::name[abi:cxx11]()"],
    ["_ZN3Foo3setEPFviE", "Foo::set(void (*)(int))"],
    ["_ZN3Foo3setEKPFvvE", "Foo::set(void (* const)())"],
    ["_ZN3Foo3barEPFPFivEvE", "Foo::bar(int (*(*)())())"],
    ["_ZN3Foo3getERA16_Kc", "Foo::get(char const (&) [16])"],
    ["_ZN3Foo3barEPA10_i", "Foo::bar(int (*) [10])"],
    ["_ZN3Foo3getEM3BarFviE", "Foo::get(void (Bar::*)(int))"],
    ["_ZN3Foo3barEPVKi", "Foo::bar(int const volatile*)"],
    ["_ZN3Foo3barESt6vectorIiSaIiEES1_", "Foo::bar(std::vector<int, std::allocator<int> >, std::allocator<int>)"],
    ["_ZN3Foo3barESsSo", "Foo::bar(std::basic_string<char, std::char_traits<char>, std::allocator<char> >, std::basic_ostream<char, std::char_traits<char> >)"],
    ["_ZN3Foo3barEDnDiDF16_", "Foo::bar(decltype(nullptr), char32_t, _Float16)"],
    ["_ZN3Foo3barEu6__bf16", "Foo::bar(__bf16)"],
    ["_ZN4llvm3orc22LazyCallThroughManager31resolveTrampolineLandingAddressEmNS_15unique_functionIKFvmEEE", "llvm::orc::LazyCallThroughManager::resolveTrampolineLandingAddress(unsigned long, llvm::unique_function<void (unsigned long) const>)"],
    ["_ZNSt8ios_base7failureB5cxx11D2Ev", "std::ios_base::failure[abi:cxx11]::~failure()"],
    ["_ZN5Envoy7Network14ConnectionImpl5writeERNS_6Buffer8InstanceEb", "Envoy::Network::ConnectionImpl::write(Envoy::Buffer::Instance&, bool)"],
  ])("%s reads as c++filt prints it", (symbol, text) => {
    expect(demangled(parseMangledFunction(symbol))).toBe(text);
  });

  it("splits a scope that came from a substitution or a standard abbreviation into its components", () => {
    expect(parseMangledFunction("_ZNSt6vectorIiSaIiEE15hookpointXStartEv").scope).toEqual(["std", "vector<int, std::allocator<int> >"]);
    expect(parseMangledFunction("_ZNKSs4sizeEv").scope).toEqual(["std", "basic_string<char, std::char_traits<char>, std::allocator<char> >"]);
  });

  it.each([
    ["_ZN3Foo15hookpointXStartIiEEvT_", "function templates are not supported"],
    ["_Z15hookpointXStartIiEvT_", "function templates are not supported"],
    ["_ZZN3Foo15hookpointXStartEvENKUlvE_clEv", "local names (a function or class inside a function) are not supported"],
    ["_ZThn8_N3Foo15hookpointXStartEv", "special names (thunks, guard variables, type info) are not functions to pair"],
    ["_ZN3Foo15hookpointXStartEv.isra.0", "a compiler-made clone (a '.' suffix) is not the function its callers name"],
    ["_ZN3FooplERKS_", "operator names are not supported"],
    ["_ZN3FooUlvE_15hookpointXStartEv", "unnamed types and lambdas are not supported"],
    ["_ZN3Foo1fILi1EEEvAplT_Li1E_i", "function templates are not supported"],
    ["_ZN3FooIXadL_Z1gvEEE1fEv", "template arguments that are expressions are not supported"],
    ["_ZN3Foo3barE", "no parameter types (not a function)"],
    ["_ZN3Foo40barEv", "a name of 40 characters runs past the end"],
    ["_ZN3Foo3barES5_", "substitution 6 refers past the 1 names seen so far"],
    ["_ZN3Foo3barEPN3Baz", "the symbol ends where a name was expected"],
    ["_ZN3Foo3barEPFvi", "a function type without its closing E"],
    ["_ZN3Foo3barEP", "the symbol ends where a type was expected"],
    ["_ZN3Foo3barEPA3", "the symbol ends where \"_\" was expected"],
    ["hookpointFiltersStart", "not a mangled C++ name (no _Z)"],
  ])("refuses %s: %s", (symbol, why) => {
    expect(reason(symbol)).toBe(why);
  });

  it("names the symbol and the offset in its error", () => {
    expect(() => parseMangledFunction("_ZN3Foo40barEv")).toThrow("_ZN3Foo40barEv: a name of 40 characters runs past the end (at offset 9)");
  });
});
