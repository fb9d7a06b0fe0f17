// The webhook's default address: "::" (IPv6 with IPv4 mapped, so one socket
// answers both), or 0.0.0.0 on a host whose kernel has IPv6 switched off.
import net from "node:net";

export const DUAL_STACK = "::";
export const IPV4_ANY = "0.0.0.0";

/** Errors of a socket that cannot be IPv6 at all. */
const NO_IPV6 = new Set(["EAFNOSUPPORT", "EADDRNOTAVAIL", "EPROTONOSUPPORT"]);

/** DUAL_STACK when an IPv6 socket can listen here, else IPV4_ANY. */
export async function defaultListenHost(): Promise<string> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code && NO_IPV6.has(err.code)) resolve(IPV4_ANY);
      else reject(err);
    });
    probe.listen({ host: DUAL_STACK, port: 0, ipv6Only: false }, () => probe.close(() => resolve(DUAL_STACK)));
  });
}
