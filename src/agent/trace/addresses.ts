// Socket addresses as envoy-request-trace prints them: the first 24 bytes of a sockaddr
// read as little-endian words. `packed` = family << 48 | the 2 port bytes << 32 | (IPv4)
// the 4 address bytes; `a6`, `b6` = the 16 IPv6 address bytes. Pure.

const AF_INET = 2n;
const AF_INET6 = 10n;

/** "ip:port" or "[ip6]:port"; null when the script did not see the address. */
export function formatAddress(packed: bigint, a6: bigint, b6: bigint): string | null {
  const family = packed >> 48n;
  const portWord = Number((packed >> 32n) & 0xffffn);
  // sin_port is big-endian; the script read it as a little-endian u16.
  const port = ((portWord & 0xff) << 8) | (portWord >> 8);
  if (family === AF_INET) {
    const v = Number(packed & 0xffffffffn);
    return `${v & 0xff}.${(v >>> 8) & 0xff}.${(v >>> 16) & 0xff}.${v >>> 24}:${port}`;
  }
  if (family === AF_INET6) return `[${formatIpv6([...leBytes(a6), ...leBytes(b6)])}]:${port}`;
  return null;
}

function leBytes(v: bigint): number[] {
  const out: number[] = [];
  for (let i = 0n; i < 8n; i++) out.push(Number((v >> (8n * i)) & 0xffn));
  return out;
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as "::", IPv4-mapped as ::ffff:a.b.c.d. */
export function formatIpv6(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (best < 0) return hexes.join(":");
  return `${hexes.slice(0, best).join(":")}::${hexes.slice(best + bestLen).join(":")}`;
}
