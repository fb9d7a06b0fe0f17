// Kubernetes quantities: the spelling the API server stores (storedQuantity)
// and the canonical one hookpoint writes (canonicalQuantity), derived by hand
// from apimachinery's rules. test/e2e/quantities.test.ts checks the same
// table against a real API server's round trips.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalResourceQuantity, compareQuantities, parseQuantity, QuantityError, roundUpToMilli } from "../../../src/quantity.js";
import { canonicalQuantity, QUANTITY_CASES, QUANTITY_ERRORS, storedQuantity, storedResourceQuantity } from "../../support/quantities.js";

describe("quantities as the API server spells them", () => {
  it.each(QUANTITY_CASES)("%s: stored as %s, in a resource list as %s, written by hookpoint as %s", (input, stored, inResources, written) => {
    expect(storedQuantity(input)).toBe(stored);
    expect(storedResourceQuantity(input)).toBe(inResources);
    expect(canonicalResourceQuantity(input)).toBe(written);
    // What hookpoint writes is kept as it is, and means what the API server would have stored.
    expect(storedResourceQuantity(written)).toBe(written);
    expect(compareQuantities(parseQuantity(written), parseQuantity(inResources))).toBe(0);
    expect(compareQuantities(roundUpToMilli(parseQuantity(written)), roundUpToMilli(parseQuantity(inResources)))).toBe(0);
  });

  it.each(QUANTITY_ERRORS)("%s is refused: %s", (input, message) => {
    expect(() => canonicalQuantity(input)).toThrow(QuantityError);
    expect(() => canonicalQuantity(input)).toThrow(message);
  });

  it("the canonical spellings are kept as they are by the API server, so writing them twice changes nothing", () => {
    const digits = fc.stringMatching(/^[0-9]{1,12}$/);
    const arb = fc.tuple(digits, fc.option(fc.stringMatching(/^[0-9]{1,10}$/), { nil: undefined }), fc.constantFrom("", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "e3", "e-2", "E6"));
    fc.assert(
      fc.property(arb, ([num, denom, suffix]) => {
        const input = `${num}${denom === undefined ? "" : `.${denom}`}${suffix}`;
        const canonical = canonicalQuantity(input);
        expect(storedQuantity(canonical)).toBe(canonical);
        expect(canonicalQuantity(canonical)).toBe(canonical);
        expect(compareQuantities(parseQuantity(canonical), parseQuantity(input))).toBe(0);
        const inResources = canonicalResourceQuantity(input);
        expect(storedResourceQuantity(inResources)).toBe(inResources);
        expect(canonicalResourceQuantity(inResources)).toBe(inResources);
      }),
      { numRuns: 3_000, seed: 13_2 },
    );
  });

  it("compares exactly, across suffixes", () => {
    const cmp = (a: string, b: string) => compareQuantities(parseQuantity(a), parseQuantity(b));
    expect(cmp("1Gi", "1024Mi")).toBe(0);
    expect(cmp("1G", "1Gi")).toBe(-1);
    expect(cmp("500m", "0.5")).toBe(0);
    expect(cmp("1001m", "1")).toBe(1);
    expect(cmp("1n", "0")).toBe(1);
    expect(cmp("9223372036854775807", "9Ei")).toBe(0); // BinarySI is capped at 2^63-1
  });
});
