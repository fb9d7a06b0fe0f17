// System errors in words: "permission denied", not EACCES; "connection refused",
// not ECONNREFUSED. Shared by every command, so each says the same thing the same way.

const TEXT: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EEXIST: "already exists",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
  EBUSY: "device or resource busy",
  EIO: "input/output error",
  EINVAL: "invalid argument",
  EXDEV: "cannot move across file systems",
  ENOTEMPTY: "directory not empty",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the other side",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed for now (DNS)",
  EPIPE: "the other side closed the connection",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available on this host",
  EAFNOSUPPORT: "address family not supported (IPv6 off?)",
};

/**
 * The words for a system error, or undefined for another error. Some clients
 * (the Kubernetes client's fetch) keep the code only in the message
 * ("request to ... failed, reason: connect ECONNREFUSED 127.0.0.1:1").
 */
export function knownErrno(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === "string") return TEXT[code];
  const inMessage = err instanceof Error ? /\breason: \w+ (E[A-Z_]+)\b/.exec(err.message)?.[1] : undefined;
  return inMessage ? TEXT[inMessage] : undefined;
}

/** What went wrong with `err` (a Node.js system error), in words; `what` names the missing thing for ENOENT. */
export function errnoText(err: unknown, what: "file" | "directory" | "file or directory" = "file or directory"): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === "ENOENT") return `no such ${what}`;
  if (code && TEXT[code]) return TEXT[code];
  return err instanceof Error ? err.message : String(err);
}
