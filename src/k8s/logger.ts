import { apiMessage, httpStatus } from "./api-errors.js";

// The slice of a pino logger the cluster modules use: fixed messages, data in fields.
export interface SourceLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * One line for a failed call: "HTTP 403: <the API server's message>" for an API
 * error (client-node's ApiException carries the whole response in its message),
 * otherwise the error's own first line ("connect ECONNREFUSED ...").
 */
export function errorText(err: unknown): string {
  const code = httpStatus(err);
  if (code !== undefined) return `HTTP ${code}: ${apiMessage(err)}`;
  if (err instanceof Error) return err.message.split("\n")[0] || err.name;
  return String(err);
}
