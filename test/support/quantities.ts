// Quantity spellings and what the API server makes of them, shared by the unit
// test (the port) and the e2e test (a real kube-apiserver's round trips).
import { formatQuantity, parseQuantity, roundUpToMilli } from "../../src/quantity.js";

/** The spelling of a plain quantity field the API server keeps as it is (canonical). Throws QuantityError. */
export function canonicalQuantity(str: string): string {
  return formatQuantity(parseQuantity(str));
}

/** What the API server stores and returns for a plain quantity field written as `str` (JSON string; surrounding blanks are trimmed). Throws QuantityError. */
export function storedQuantity(str: string): string {
  const q = parseQuantity(str.trim());
  return q.kept ?? formatQuantity(q);
}

/** What the API server stores and returns for a quantity of a resource list (requests, limits). Throws QuantityError. */
export function storedResourceQuantity(str: string): string {
  const q = roundUpToMilli(parseQuantity(str.trim()));
  return q.kept ?? formatQuantity(q);
}

/**
 * [written, stored in a plain quantity field (emptyDir sizeLimit), stored in a
 * resource list (requests/limits: rounded up to 1m), what hookpoint writes into
 * a resource list (canonical, rounded)]
 */
export const QUANTITY_CASES: readonly (readonly [string, string, string, string])[] = [
  ["0", "0", "0", "0"],
  ["0.5", "500m", "500m", "500m"],
  [".5", "500m", "500m", "500m"],
  ["1.5", "1500m", "1500m", "1500m"],
  ["1000m", "1", "1", "1"],
  ["1000", "1k", "1k", "1k"],
  ["1024", "1024", "1024", "1024"],
  ["250m", "250m", "250m", "250m"],
  ["0.1m", "100u", "1m", "1m"],
  ["0.0000000001", "1n", "1m", "1m"],
  ["1n", "1n", "1m", "1m"],
  ["1024Mi", "1Gi", "1Gi", "1Gi"],
  ["1Gi", "1Gi", "1Gi", "1Gi"],
  ["8Gi", "8Gi", "8Gi", "8Gi"],
  ["1.5Gi", "1536Mi", "1536Mi", "1536Mi"],
  ["1.5Ki", "1536", "1536", "1536"],
  ["0.5Ki", "512", "512", "512"],
  ["0.5Mi", "512Ki", "512Ki", "512Ki"],
  ["2048Ki", "2Mi", "2Mi", "2Mi"],
  ["100Ki", "100Ki", "100Ki", "100Ki"],
  ["9Ei", "9223372036854775807", "9223372036854775807", "9223372036854775807"],
  ["1e3", "1e3", "1e3", "1e3"],
  ["12e6", "12e6", "12e6", "12e6"],
  ["1.5e3", "1500", "1500", "1500"],
  ["1E3", "1E3", "1E3", "1e3"],
  ["1e-10", "1e-9", "1e-3", "1e-3"],
  ["1E", "1E", "1E", "1E"],
  ["1000E", "1", "1", "1"],
  ["1000k", "1M", "1M", "1M"],
  ["128974848", "128974848", "128974848", "128974848"],
  ["129e6", "129e6", "129e6", "129e6"],
  ["129M", "129M", "129M", "129M"],
  ["123Mi", "123Mi", "123Mi", "123Mi"],
  ["01", "01", "01", "1"],
  ["+1", "+1", "+1", "1"],
  ["1.", "1.", "1.", "1"],
  ["000", "0", "0", "0"],
  ["1.0", "1", "1", "1"],
  ["2.000", "2", "2", "2"],
];

/** [written, the API server's message] */
export const QUANTITY_ERRORS: readonly (readonly [string, string])[] = [
  ["1e3m", "quantities must match the regular expression"],
  ["1.2.3", "quantities must match the regular expression"],
  ["1Gib", "quantities must match the regular expression"],
  ["1ki", "unable to parse quantity's suffix"],
  ["", "quantities must match the regular expression"],
  ["1 Gi", "quantities must match the regular expression"],
];
