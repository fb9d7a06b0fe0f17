// What the apiserver said when it refused a request: @kubernetes/client-node 1.x
// throws ApiException with the HTTP code and the metav1.Status as JSON text.
import { ApiException } from "@kubernetes/client-node";

export interface ApiRefusal {
  code: number;
  /** metav1.Status reason: Forbidden, Invalid, AlreadyExists, ... ("" when the body has none). */
  reason: string;
  /** metav1.Status message, exactly as a kubectl user would read it. */
  message: string;
}

/** The refusal carried by `e`, or undefined when `e` is not an API error. */
export function apiError(e: unknown): ApiRefusal | undefined {
  if (!(e instanceof ApiException)) return undefined;
  const code = (e as ApiException<unknown>).code;
  const body: unknown = (e as ApiException<unknown>).body;
  let status: { reason?: unknown; message?: unknown } = {};
  try {
    status = (typeof body === "string" ? JSON.parse(body) : body ?? {}) as typeof status;
  } catch {
    status = { message: String(body) };
  }
  return { code, reason: typeof status.reason === "string" ? status.reason : "", message: typeof status.message === "string" ? status.message : "" };
}

/** Awaits a request that must be refused, and returns how it was refused. */
export async function refusal(request: Promise<unknown>): Promise<ApiRefusal> {
  let result: unknown;
  try {
    result = await request;
  } catch (e) {
    const r = apiError(e);
    if (r) return r;
    throw e;
  }
  throw new Error(`expected the apiserver to refuse the request, but it answered: ${JSON.stringify(result).slice(0, 500)}`);
}
