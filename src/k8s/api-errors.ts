// Turning @kubernetes/client-node's ApiException (whose message carries the
// whole response, headers included) into one clear sentence.
import { knownErrno } from "../errno-text.js";

/** The HTTP status of a failed API call, or undefined for a non-HTTP failure (DNS, refused, TLS). */
export function httpStatus(err: unknown): number | undefined {
  // ApiException carries `code`; a failed watch request (client-node's Watch) carries `statusCode`.
  const { code, statusCode } = (err ?? {}) as { code?: unknown; statusCode?: unknown };
  if (typeof code === "number") return code;
  return typeof statusCode === "number" ? statusCode : undefined;
}

/** The body of a failed call: the API server's Status parsed (client-node gives it as text or parsed), or the text when it is not JSON. */
function responseBody(err: unknown): unknown {
  const body = (err as { body?: unknown } | null)?.body;
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/** The API server's Status message of an ApiException, or the reason phrase the client recorded. */
export function apiMessage(err: unknown): string {
  const parsed = responseBody(err);
  if (typeof parsed === "string" && parsed.trim()) return parsed.trim().slice(0, 300);
  const msg = (parsed as { message?: unknown } | null)?.message;
  if (typeof msg === "string" && msg) return msg;
  const line = /^Message: (.*)$/m.exec(err instanceof Error ? err.message : "");
  return line?.[1]?.trim() || (err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err)) || "(no message)";
}

/**
 * Whether a failed write lost a race, so that reading the object again and writing anew can
 * succeed: a 409 Conflict, or a JSON patch whose `test` op no longer holds. The API server
 * answers the latter 422 Invalid, "the server rejected our request due to an error in our
 * request", with empty details; an object that fails validation is also 422 Invalid, but
 * names what is invalid (details.causes), and reading again cannot fix that.
 */
export function patchLostRace(err: unknown): boolean {
  const code = httpStatus(err);
  if (code === 409) return true;
  if (code !== 422) return false;
  const causes = (responseBody(err) as { details?: { causes?: unknown } } | null)?.details?.causes;
  return !(Array.isArray(causes) && causes.length > 0);
}

/**
 * One line for a failed call: "HTTP 403: <the API server's message>" for an API
 * error (client-node's ApiException carries the whole response in its message),
 * a network error in words ("connection refused"), otherwise the error's own first line.
 */
export function errorText(err: unknown): string {
  const code = httpStatus(err);
  if (code !== undefined) return `HTTP ${code}: ${apiMessage(err)}`;
  const words = knownErrno(err);
  if (words) return words;
  if (err instanceof Error) return err.message.split("\n")[0] || err.name;
  return String(err);
}

/** Who lacks a permission the API server refused: the webhook's own ServiceAccount (self-managed certificates). */
export const WEBHOOK_FORBIDDEN_HINT = "the webhook's ServiceAccount lacks this permission: apply the self-managed overlay's RBAC";
/** Who lacks a permission the API server refused: the user of a command's kubeconfig. */
export const USER_FORBIDDEN_HINT = "the kubeconfig's user lacks this permission";

/** "<action> failed: HTTP <code>: <API server's message>", with `forbiddenHint` (who lacks what) on a 403. */
export function describeApiError(action: string, err: unknown, forbiddenHint: string): Error {
  const code = httpStatus(err);
  if (code === undefined) return new Error(`${action} failed: ${errorText(err)}`);
  const hint = code === 403 ? ` (${forbiddenHint})` : "";
  return new Error(`${action} failed: ${errorText(err)}${hint}`);
}
