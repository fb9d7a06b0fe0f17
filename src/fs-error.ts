// File-system errors in words: "permission denied", not EACCES. Shared by every
// command that reads or writes files, so each says the same thing the same way.

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
};

/** What went wrong with `err` (a Node.js system error), in words; `what` names the missing thing for ENOENT. */
export function fsErrorText(err: unknown, what: "file" | "directory" | "file or directory" = "file or directory"): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === "ENOENT") return `no such ${what}`;
  if (code && TEXT[code]) return TEXT[code];
  return err instanceof Error ? err.message : String(err);
}
