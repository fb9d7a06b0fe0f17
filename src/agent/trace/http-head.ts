// The start of an HTTP/1.1 request as captured from a socket (the first bytes of a read
// or write): its x-request-id, traceparent and size, from header lines that are complete
// in the capture (a line the capture cuts off is never used). Pure.
//
// Example: "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
// has headBytes 47 and bodyBytes 15 (its chunked body ends inside the capture).

export interface RequestHead {
  /** The x-request-id header's value, when a complete line carries one. */
  requestId: string | null;
  traceparent: string | null;
  /** Bytes of the head up to and including its blank line; null when the capture ends first. */
  headBytes: number | null;
  /** Content-Length, when a complete line carries one (and no chunked encoding). */
  contentLength: number | null;
  chunked: boolean;
  /**
   * Bytes of the body as framed on the wire: 0 without Content-Length and chunked coding,
   * the Content-Length, or a chunked body's size with its chunk lines and trailer when it
   * ends inside the capture; null when not known.
   */
  bodyBytes: number | null;
}

const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ \S+ HTTP\/1\.[01]$/;
const VISIBLE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

/** The head's facts, or null when the bytes do not start with an HTTP/1.x request line. */
export function parseRequestHead(bytes: Buffer): RequestHead | null {
  const text = bytes.toString("latin1");
  const firstEnd = text.indexOf("\r\n");
  if (firstEnd < 0 || !REQUEST_LINE.test(text.slice(0, firstEnd))) return null;
  const head: RequestHead = { requestId: null, traceparent: null, headBytes: null, contentLength: null, chunked: false, bodyBytes: null };
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
  if (head.headBytes !== null) head.bodyBytes = head.chunked ? chunkedLength(text, head.headBytes) : (head.contentLength ?? 0);
  return head;
}

/** Bytes of the chunked body starting at `from` up to its trailer's blank line, or null when the text ends first. */
function chunkedLength(text: string, from: number): number | null {
  let pos = from;
  for (;;) {
    const end = text.indexOf("\r\n", pos);
    if (end < 0) return null;
    // chunk-size [; chunk-ext]
    const size = /^([0-9a-fA-F]{1,8})[ \t]*(;.*)?$/.exec(text.slice(pos, end));
    if (!size) return null;
    const n = parseInt(size[1]!, 16);
    pos = end + 2;
    if (n === 0) break;
    if (text.slice(pos + n, pos + n + 2) !== "\r\n") return null;
    pos += n + 2;
  }
  // The trailer section: header lines, then a blank line.
  for (;;) {
    const end = text.indexOf("\r\n", pos);
    if (end < 0) return null;
    const blank = end === pos;
    pos = end + 2;
    if (blank) break;
  }
  return pos - from;
}
