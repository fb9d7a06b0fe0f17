// Kubernetes resource quantities (k8s.io/apimachinery pkg/api/resource), ported
// exactly: the same scanner, the same suffixes, the same rounding (up to 1n,
// away from zero), the same cap and the same canonical spelling, so that what
// hookpoint writes is what the API server stores and a second pass finds
// nothing to change. Pure; numbers are exact (BigInt), never floating point.
//
// No npm package does this exactly (the client library's quantityToScalar is
// lossy and never spells a quantity), hence this port. Tests compare it with a
// real API server's round trips.

export type QuantityFormat = "DecimalExponent" | "BinarySI" | "DecimalSI";

export interface Quantity {
  /** The exact value: mantissa × 10^exponent. */
  mantissa: bigint;
  exponent: number;
  format: QuantityFormat;
  /** The input itself, where the API server keeps the caller's spelling (it does so when that spelling is already canonical-like). */
  kept?: string;
}

const INT64_MAX = (1n << 63n) - 1n;
const MAX_INT64_FACTORS = 18;
const NANO = -9;

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_EXPONENT = new Map(Object.entries(BINARY_SUFFIXES).map(([s, e]) => [e, s]));
const SUFFIX_CHARS = "eEinumkKMGTP";

/** Why a string is not a quantity: the API server's own three errors. */
export class QuantityError extends Error {
  override name = "QuantityError";
}

const FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX = "unable to parse quantity's suffix";

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

interface Scanned {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** parseQuantityString: sign, digits without leading zeros, fraction, suffix. */
function scan(str: string): Scanned {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === "-") {
    positive = false;
    pos++;
  } else if (str[0] === "+") pos++;
  while (pos < end && str[pos] === "0") pos++;
  if (pos >= end) return { positive, num: "0", denom: "", suffix: "" };
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  const num = str.slice(pos, i) || "0";
  if (i >= end) return { positive, num, denom: "", suffix: "" };
  pos = i;
  let denom = "";
  if (str[pos] === ".") {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { positive, num, denom, suffix: "" };
    pos = i;
  }
  const suffixStart = pos;
  i = pos;
  while (i < end && SUFFIX_CHARS.includes(str[i] as string)) i++;
  if (i >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  pos = i;
  if (str[pos] === "-" || str[pos] === "+") pos++;
  for (i = pos; i < end; i++) if (!isDigit(str[i])) throw new QuantityError(FORMAT_WRONG);
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

/** The suffixer's interpret(): base, exponent and format, or undefined. */
function interpret(suffix: string): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  const dec = DECIMAL_SUFFIXES[suffix];
  if (dec !== undefined && Object.prototype.hasOwnProperty.call(DECIMAL_SUFFIXES, suffix)) return { base: 10, exponent: dec, format: "DecimalSI" };
  const bin = BINARY_SUFFIXES[suffix];
  if (bin !== undefined && Object.prototype.hasOwnProperty.call(BINARY_SUFFIXES, suffix)) return { base: 2, exponent: bin, format: "BinarySI" };
  if (suffix.length > 1 && (suffix[0] === "e" || suffix[0] === "E")) {
    const rest = suffix.slice(1);
    if (!/^[+-]?\d+$/.test(rest)) return undefined;
    const parsed = BigInt(rest);
    if (parsed > INT64_MAX || parsed < -INT64_MAX - 1n) return undefined; // strconv.ParseInt range error
    return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)), format: "DecimalExponent" };
  }
  return undefined;
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** ParseQuantity: the value, its format and, where the API server keeps it, the caller's spelling. Throws QuantityError. */
export function parseQuantity(str: string): Quantity {
  if (str.length === 0) throw new QuantityError(FORMAT_WRONG);
  if (str === "0") return { mantissa: 0n, exponent: 0, format: "DecimalSI", kept: str };
  const { positive, num, denom, suffix } = scan(str);
  const interpreted = interpret(suffix);
  if (!interpreted) throw new QuantityError(SUFFIX);
  const { base, exponent } = interpreted;
  let format = interpreted.format;

  // The fast path (int64 arithmetic) decides whether the input spelling is kept.
  let precision: number;
  let scale = 0;
  let multiplier = 1n;
  if (base === 10) {
    scale = exponent;
    precision = MAX_INT64_FACTORS - (num.length + denom.length);
  } else if (denom.length === 0) {
    multiplier = 1n << BigInt(exponent);
    precision = 15 - num.length - Math.trunc(Math.fround((exponent * 3) / 10)) - 1;
  } else precision = -1;
  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= NANO) {
      const shifted = num + denom;
      const value = BigInt(shifted);
      const product = value * multiplier;
      if (product <= INT64_MAX) {
        const q: Quantity = { mantissa: positive ? product : -product, exponent: scale, format };
        const keep = format === "BinarySI" ? exponent % 10 === 0 && (value & 7n) !== 0n : scale % 3 === 0 && !shifted.endsWith("000") && shifted[0] !== "0";
        if (keep) q.kept = str;
        return q;
      }
    }
  }

  // The inf.Dec path: exact value, rounded up to 1n, BinarySI capped at 2^63-1.
  let mantissa = BigInt(num + denom);
  let exp = -denom.length;
  if (base === 10) exp += exponent;
  else mantissa *= 1n << BigInt(exponent);
  if (mantissa !== 0n && exp < NANO) {
    const div = 10n ** BigInt(NANO - exp);
    mantissa = mantissa / div + (mantissa % div === 0n ? 0n : 1n);
    exp = NANO;
  }
  if (format === "BinarySI" && compareParts(mantissa, exp, INT64_MAX, 0) > 0) {
    mantissa = INT64_MAX;
    exp = 0;
  }
  if (format === "BinarySI" && mantissa !== 0n && compareParts(mantissa, exp, 1n, 0) < 0) format = "DecimalSI";
  return { mantissa: positive ? mantissa : -mantissa, exponent: exp, format };
}

/** a × 10^ea compared with b × 10^eb. */
function compareParts(a: bigint, ea: number, b: bigint, eb: number): -1 | 0 | 1 {
  const e = Math.min(ea, eb);
  const x = a * 10n ** BigInt(ea - e);
  const y = b * 10n ** BigInt(eb - e);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return compareParts(a.mantissa, a.exponent, b.mantissa, b.exponent);
}

/** CanonicalizeBytes: the spelling the API server emits for a value it did not keep verbatim. */
export function formatQuantity(q: Quantity): string {
  if (q.mantissa === 0n) return "0";
  let format = q.format;
  if (format === "BinarySI") {
    if (compareParts(abs(q.mantissa), q.exponent, 1024n, 0) < 0) format = "DecimalSI";
    else if (q.exponent < 0 && q.mantissa % 10n ** BigInt(-q.exponent) !== 0n) format = "DecimalSI";
  }
  if (format === "BinarySI") {
    let n = q.exponent >= 0 ? q.mantissa * 10n ** BigInt(q.exponent) : q.mantissa / 10n ** BigInt(-q.exponent);
    let times = 0;
    while (n !== 0n && n % 1024n === 0n) {
      n /= 1024n;
      times++;
    }
    return `${n}${BINARY_BY_EXPONENT.get(times * 10) ?? ""}`;
  }
  let m = q.mantissa;
  let e = q.exponent;
  while (m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  // The exponent goes down to a multiple of 3 (Go's % keeps the sign, like JavaScript's).
  const r = e % 3;
  if (r === 1 || r === -2) {
    m *= 10n;
    e -= 1;
  } else if (r === 2 || r === -1) {
    m *= 100n;
    e -= 2;
  }
  if (format === "DecimalExponent") return e === 0 ? `${m}` : `${m}e${e}`;
  // Beyond 10^18 the API server finds no decimal suffix and writes the number alone; so does this.
  return `${m}${DECIMAL_BY_EXPONENT.get(e) ?? ""}`;
}

/**
 * Quantity.RoundUp(Milli): the API server rounds every quantity of a resource
 * list (requests, limits) up to 1m, away from zero (SetDefaults_ResourceList).
 * A spelling it kept survives only where no rounding was needed.
 */
export function roundUpToMilli(q: Quantity): Quantity {
  if (q.exponent >= -3) return q;
  const div = 10n ** BigInt(-3 - q.exponent);
  let mantissa = q.mantissa / div;
  if (q.mantissa % div !== 0n) mantissa += q.mantissa > 0n ? 1n : -1n;
  return { mantissa, exponent: -3, format: q.format };
}

/** The spelling hookpoint writes into requests and limits: canonical and rounded to 1m, which the API server keeps as it is (so a second pass changes nothing). Throws QuantityError. */
export function canonicalResourceQuantity(str: string): string {
  return formatQuantity(roundUpToMilli(parseQuantity(str)));
}
