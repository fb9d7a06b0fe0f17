// A FIFO with a reader (cat) holding it open, for tests that write output into a pipe.
import { execFileSync, spawn } from "node:child_process";

/** Makes the FIFO `path` and starts reading it; `read()` gives what came through once the writer closed it. */
export function fifoReader(path: string): { read: () => Promise<string> } {
  execFileSync("mkfifo", [path]);
  const reader = spawn("cat", [path]);
  let text = "";
  reader.stdout.setEncoding("utf8").on("data", (d: string) => (text += d));
  const closed = new Promise((resolve) => reader.on("close", resolve));
  return {
    read: async () => {
      // A FIFO replaced by a plain file never gets a writer: end the reader after a bound.
      const timer = setTimeout(() => reader.kill(), 5000);
      await closed;
      clearTimeout(timer);
      return text;
    },
  };
}
