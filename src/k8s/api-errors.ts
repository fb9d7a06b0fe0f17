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

/** The API server's Status message of an ApiException, or the reason phrase the client recorded. */
export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown } | null)?.body;
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      if (body.trim()) return body.trim().slice(0, 300);
    }
  }
  const msg = (parsed as { message?: unknown } | null)?.message;
  if (typeof msg === "string" && msg) return msg;
  const line = /^Message: (.*)$/m.exec(err instanceof Error ? err.message : "");
  return line?.[1]?.trim() || (err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err)) || "(no message)";
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
