// Answers for requests Node's HTTP parser rejects before Fastify sees them
// (cut-off requests, malformed heads, timeouts): the same { statusCode, error,
// message } shape as every other error, with a message that says what happened.
import type { Socket } from "node:net";

interface ParserError extends Error {
  code?: string;
}

export function clientErrorAnswer(err: ParserError): { statusCode: number; error: string; message: string } {
  switch (err.code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { statusCode: 408, error: "Request Timeout", message: "the request was not received in time" };
    case "HPE_HEADER_OVERFLOW":
      return { statusCode: 431, error: "Request Header Fields Too Large", message: "the request headers are too large" };
    case "HPE_INVALID_EOF_STATE":
      return { statusCode: 400, error: "Bad Request", message: "the connection was closed before the request was complete" };
    default:
      return { statusCode: 400, error: "Bad Request", message: `malformed HTTP request (${err.code ?? err.message})` };
  }
}

export function handleClientError(err: ParserError, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const answer = clientErrorAnswer(err);
  const body = JSON.stringify(answer);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${answer.statusCode} ${answer.error}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
