// Asking an agent for JSON through a transport: answers other than 200 become one clear
// message (the agent's `error` or the API server's Status `message`), and 429 is waited
// out a bounded number of times.
import { setTimeout as sleep } from "node:timers/promises";
import { FieldError } from "../records/fields.js";
import { readText, type AgentResponse, type AgentTarget, type AgentTransport } from "./transport.js";

export class AgentHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "AgentHttpError";
  }
}

const MAX_WAITS = 20;

/**
 * GET with up to MAX_WAITS waits on 429 (Retry-After, at most 5 s each). `signal` ends the
 * waiting (a caller that gave up must not leave retries running behind it).
 */
export async function getPatiently(transport: AgentTransport, target: AgentTarget, path: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<AgentResponse> {
  for (let attempt = 0; ; attempt++) {
    const res = await transport.get(target, path, headers);
    if (res.status !== 429 || attempt >= MAX_WAITS) return res;
    res.body.resume();
    const after = Number(res.headers["retry-after"]);
    await sleep(Math.min(Number.isFinite(after) && after > 0 ? after : 1, 5) * 1000, undefined, { signal }).catch(() => undefined);
    if (signal?.aborted) throw new AgentHttpError(429, `GET ${path}: HTTP 429: still busy when given up on`);
  }
}

/** The body of a 200 as JSON; anything else throws AgentHttpError with the answer's message. */
export async function getJson<T>(transport: AgentTransport, target: AgentTarget, path: string, signal?: AbortSignal): Promise<T> {
  const res = await getPatiently(transport, target, path, {}, signal);
  if (res.status !== 200) throw await httpError(res, path);
  const text = await readText(res);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new AgentHttpError(res.status, `GET ${path}: not JSON: ${text.slice(0, 120)}`);
  }
}

/**
 * getJson, then `check` on the answer (it throws FieldError): an answer that is JSON but
 * not what an agent sends fails naming the field, e.g. `GET /records: unexpected answer:
 * files[0].etag: expected a string, got 5`.
 */
export async function getChecked<T>(transport: AgentTransport, target: AgentTarget, path: string, check: (value: unknown) => T, signal?: AbortSignal): Promise<T> {
  const value = await getJson<unknown>(transport, target, path, signal);
  try {
    return check(value);
  } catch (err) {
    if (err instanceof FieldError) throw new AgentHttpError(200, `GET ${path}: unexpected answer: ${err.message}`);
    throw err;
  }
}

/** "HTTP 503: <message>" from an agent's or the API server's error answer (body consumed). */
export async function httpError(res: AgentResponse, path: string): Promise<AgentHttpError> {
  let text = "";
  try {
    text = await readText(res, 64 * 1024);
  } catch {
    // the message is what we have
  }
  let message = text.trim().slice(0, 300);
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof body.error === "string") message = body.error;
    else if (typeof body.message === "string") message = body.message;
  } catch {
    // not JSON: the text itself
  }
  const hint = res.status === 403 ? " (the user needs get on pods/proxy: see deploy/examples/hookpoint-collector-rbac.yaml)" : "";
  return new AgentHttpError(res.status, `GET ${path}: HTTP ${res.status}${message ? `: ${message}` : ""}${hint}`);
}
