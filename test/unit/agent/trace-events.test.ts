import { describe, expect, it } from "vitest";
import { formatAddress, formatIpv6 } from "../../../src/agent/trace/addresses.js";
import { EventLineError, EventParser, hex, num, unescapeR } from "../../../src/agent/trace/events.js";
import { parseRequestHead } from "../../../src/agent/trace/http-head.js";
import { probeAddress } from "../../../src/agent/trace/request-trace.js";
import { table } from "../catalog/tables.js";

const parser = new EventParser([
  { tag: "R", fields: ["tid", "seq", "ts", "round"], meaning: "router" },
  { tag: "K", fields: ["tid", "seq", "part", "bytes"], meaning: "capture" },
]);

describe("event lines", () => {
  it("splits a line by its tag's declared fields; the last field keeps the rest of the line", () => {
    expect(parser.parse("R 42 7 123456789 3\n")).toEqual({ tag: "R", fields: { tid: "42", seq: "7", ts: "123456789", round: "3" } });
    expect(parser.parse("K 42 7 0 GET / HTTP/1.1\\x0d\\x0a").fields.bytes).toBe("GET / HTTP/1.1\\x0d\\x0a");
  });

  it("refuses an undeclared tag or a short line, saying which", () => {
    expect(() => parser.parse("X 1 2")).toThrow(new EventLineError('unknown event "X"'));
    expect(() => parser.parse("R 1 2")).toThrow(new EventLineError('event "R" has 2 field(s), expected 4'));
  });

  it("checks once that the script declares the fields the assembler reads", () => {
    expect(() => parser.require({ R: ["tid", "ts"] }, "demo")).not.toThrow();
    expect(() => parser.require({ R: ["tid", "fd", "end"] }, "demo")).toThrow('demo: event "R" lacks fields fd, end');
    expect(() => parser.require({ Q: ["tid"] }, "demo")).toThrow('demo: the header declares no "Q" event');
  });

  it("reads decimal and hexadecimal fields, and refuses anything else", () => {
    const e = parser.parse("R -1 7 ff 3");
    expect(num(e, "tid")).toBe(-1);
    expect(hex(e, "ts")).toBe(255n);
    expect(() => num(e, "ts")).toThrow('event "R": ts is not a number: "ff"');
    expect(() => hex(parser.parse("R 1 2 0x10 3"), "ts")).toThrow('event "R": ts is not hexadecimal: "0x10"');
  });

  it("turns bpftrace's %r text back into the bytes", () => {
    expect([...unescapeR("A\\x00\\xff\\x0d\\x0az")]).toEqual([0x41, 0, 0xff, 13, 10, 0x7a]);
    // A backslash not followed by xNN is itself.
    expect(unescapeR("a\\b").toString("latin1")).toBe("a\\b");
    // A printable byte is never escaped: "\x2d" is 4 bytes of the data, not a "-".
    expect(unescapeR(String.raw`id\x2d1 \x41\x7e\x7f`).toString("latin1")).toBe(String.raw`id\x2d1 \x41\x7e` + "\x7f");
  });
});

describe("socket addresses", () => {
  // sockaddr bytes 2..7 read as little-endian words: port 8080 (0x1f90) is stored 90 1f.
  it("formats IPv4 and IPv6 as ip:port and [ip6]:port, null when unknown", () => {
    expect(formatAddress((2n << 48n) | (0x901fn << 32n) | 0x0100007fn, 0n, 0n)).toBe("127.0.0.1:8080");
    expect(formatAddress((10n << 48n) | (0x5000n << 32n), 0n, 0x0100000000000000n)).toBe("[::1]:80");
    expect(formatAddress(0n, 0n, 0n)).toBeNull();
  });

  it("writes IPv6 as RFC 5952 says: the longest zero run shortened, IPv4-mapped in dotted form", () => {
    expect(formatIpv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])).toBe("2001:db8::1");
    expect(formatIpv6([0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])).toBe("2001:0:0:1::1");
    expect(formatIpv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7])).toBe("::ffff:10.0.0.7");
    expect(formatIpv6([0xfe, 0x80, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7])).toBe("fe80:1:2:3:4:5:6:7");
  });
});

describe("captured request heads", () => {
  const head = (s: string): ReturnType<typeof parseRequestHead> => parseRequestHead(Buffer.from(s, "latin1"));

  it("reads x-request-id, traceparent and the size of a complete head", () => {
    expect(head("POST /a HTTP/1.1\r\nHost: x\r\nX-Request-Id:  abc-1 \r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\ncontent-length: 12\r\n\r\nbody")).toEqual({
      requestId: "abc-1",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      headBytes: 142,
      contentLength: 12,
      chunked: false,
      bodyBytes: 12,
    });
  });

  it("never uses a header line the capture cuts off", () => {
    expect(head("GET / HTTP/1.1\r\nx-request-id: abcdef")?.requestId).toBeNull();
    expect(head("GET / HTTP/1.1\r\nx-request-id: abc\r\nhost: x")).toEqual({ requestId: "abc", traceparent: null, headBytes: null, contentLength: null, chunked: false, bodyBytes: null });
  });

  it("is not fooled by bytes that are not the start of an HTTP/1.x request", () => {
    expect(head("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")).toBeNull();
    expect(head("\x00\x00\x0d\x01\x05\x00\x00\x00\x03")).toBeNull();
    expect(head("ion: keep-alive\r\nx-request-id: later\r\n\r\n")).toBeNull();
  });

  it("has no length for a chunked body", () => {
    expect(head("POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n")).toMatchObject({ chunked: true, contentLength: null });
  });

  it("sizes a chunked body that ends in the capture (chunk lines, extensions and trailer included), and no other", () => {
    const h = "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n";
    expect(head(`${h}5\r\nhello\r\n0\r\n\r\n`)).toMatchObject({ headBytes: 47, bodyBytes: 15 });
    expect(head(`${h}5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nx-sum: 1\r\n\r\nGET /next HTTP/1.1\r\n`)).toMatchObject({ headBytes: 47, bodyBytes: 46 });
    // Cut off in a chunk, before the last chunk, or in the trailer: not known.
    expect(head(`${h}5\r\nhel`)?.bodyBytes).toBeNull();
    expect(head(`${h}5\r\nhello\r\n`)?.bodyBytes).toBeNull();
    expect(head(`${h}5\r\nhello\r\n0\r\nx-sum: 1\r\n`)?.bodyBytes).toBeNull();
    expect(head(`${h}zz\r\nhello\r\n0\r\n\r\n`)?.bodyBytes).toBeNull();
    expect(head("GET / HTTP/1.1\r\nhost: x\r\n\r\n")?.bodyBytes).toBe(0);
  });
});

describe("probe names", () => {
  it("gives the function address of a probe by address (decimal or hex) or by name", () => {
    const t = table({ _ZN5Envoy3FooEv: 0x19b80 });
    expect(probeAddress("uretprobe:/usr/local/bin/envoy:105344", t)).toBe(0x19b80n);
    expect(probeAddress('uretprobe:"/usr/local/bin/envoy":0x19b80', t)).toBe(0x19b80n);
    expect(probeAddress("uretprobe:/usr/local/bin/envoy:_ZN5Envoy3FooEv", t)).toBe(0x19b80n);
    expect(probeAddress("uretprobe:/usr/local/bin/envoy:_ZN5Envoy3BarEv", t)).toBeNull();
  });
});
