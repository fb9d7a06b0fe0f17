// A byte relay: every connection accepted by `server` is joined, both ways, to a new
// connection made by `connect`. Both ends of PodNetwork.reachHostLoopback use it; run as
// a script (`relay.ts SOCKET PORT`, inside a network namespace) it listens on that
// namespace's 127.0.0.1:PORT and relays to the Unix socket SOCKET.
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { pathToFileURL } from "node:url";

/** A server relaying each accepted connection to `connect()`; open sockets are kept in `sockets` (for cleanup). */
export function relayServer(connect: () => Socket, sockets = new Set<Socket>()): Server {
  return createServer((accepted) => {
    const other = connect();
    const end = (): void => {
      accepted.destroy();
      other.destroy();
    };
    for (const sock of [accepted, other]) {
      sockets.add(sock);
      sock.on("error", end).on("close", end).once("close", () => sockets.delete(sock));
    }
    accepted.pipe(other).pipe(accepted);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [socketPath, port] = process.argv.slice(2);
  relayServer(() => createConnection(socketPath as string)).listen(Number(port), "127.0.0.1", () => console.log("listening"));
}
