// The start of an HTTP/1.1 request as captured from a socket (the first bytes of a read
// or write): its x-request-id, traceparent and size, from header lines that are complete
// in the capture (a line the capture cuts off is never used). Pure.

export interface RequestHead {
  /** The x-request-id header's value, when a complete line carries one. */
  requestId: string | null;
  traceparent: string | null;
  /** Bytes of the head up to and including its blank line; null when the capture ends first. */
  headBytes: number | null;
  /** Content-Length, when a complete line carries one (and no chunked encoding). */
  contentLength: number | null;
  chunked: boolean;
}

const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ \S+ HTTP\/1\.[01]$/;
const VISIBLE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

/** The head's facts, or null when the bytes do not start with an HTTP/1.x request line. */
export function parseRequestHead(bytes: Buffer): RequestHead | null {
  const text = bytes.toString("latin1");
  const firstEnd = text.indexOf("\r\n");
  if (firstEnd < 0 || !REQUEST_LINE.test(text.slice(0, firstEnd))) return null;
  const head: RequestHead = { requestId: null, traceparent: null, headBytes: null, contentLength: null, chunked: false };
  let pos = firstEnd + 2;
  for (;;) {
    const end = text.indexOf("\r\n", pos);
    if (end < 0) break; // the capture ends inside this line
    if (end === pos) {
      head.headBytes = end + 2;
      break;
    }
    const line = text.slice(pos, end);
    pos = end + 2;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "x-request-id" && head.requestId === null && VISIBLE.test(value)) head.requestId = value;
    else if (name === "traceparent" && head.traceparent === null) head.traceparent = value;
    else if (name === "content-length" && /^\d{1,15}$/.test(value)) head.contentLength = Number(value);
    else if (name === "transfer-encoding" && value.toLowerCase().includes("chunked")) head.chunked = true;
  }
  if (head.chunked) head.contentLength = null;
  return head;
}
