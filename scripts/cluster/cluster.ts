// `npm run cluster:up` / `cluster:down` / `cluster:status`: the local test cluster.
import { Command, InvalidArgumentError } from "commander";
import { ClusterError } from "./layout.js";
import { down, status, up } from "./control.js";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`not a TCP port: ${value}`);
  return n;
}

const program = new Command("cluster")
  .description("local kube-apiserver + etcd on 127.0.0.1 for hookpoint's end-to-end tests")
  .option("--dir <path>", "cluster directory", undefined);

program
  .command("up")
  .description("build the binaries if needed, start etcd and kube-apiserver, write the admin kubeconfig (idempotent)")
  .option("--port <port>", "kube-apiserver port (default: a free one)", port)
  .action(async (o: { port?: number }) => {
    const c = await up({ dir: program.opts<{ dir?: string }>().dir, apiserverPort: o.port });
    process.stdout.write(`${c.alreadyRunning ? "already running" : "running"}: ${c.server}\nexport KUBECONFIG=${c.kubeconfigPath}\n`);
  });

program
  .command("down")
  .description("stop the cluster and delete its state (logs stay); fine when none runs")
  .action(async () => {
    const r = await down({ dir: program.opts<{ dir?: string }>().dir });
    process.stdout.write(r.stopped ? "stopped\n" : "not running\n");
  });

program
  .command("status")
  .description("exit 0 and print the server when the cluster is running, exit 1 otherwise")
  .action(async () => {
    const c = await status({ dir: program.opts<{ dir?: string }>().dir });
    process.stdout.write(c ? `running: ${c.server} (etcd pid ${c.pids.etcd}, kube-apiserver pid ${c.pids.apiserver})\nexport KUBECONFIG=${c.kubeconfigPath}\n` : "not running\n");
    if (!c) process.exitCode = 1;
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (!(e instanceof ClusterError)) throw e;
  process.stderr.write(`hookpoint cluster: ${e.message}\n${e.details ? e.details.replace(/^/gm, "  | ") + "\n" : ""}`);
  process.exitCode = e.exitCode;
}
