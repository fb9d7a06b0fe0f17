// `npm run istio:up` / `istio:down` / `istio:status`: the istiod of the local cluster
// (test/e2e/support/istiod.ts), which the real-Istio tests, the injector goldens and
// bench:injector share. `up` starts the cluster too when it is not running.
import { istiodStatus, ensureIstiod, stopIstiod } from "../../test/e2e/support/istiod.js";

const command = process.argv[2];
if (command === "up") {
  const i = await ensureIstiod();
  process.stdout.write(`${i.alreadyRunning ? "already running" : "running"}: istiod ${i.version} (pid ${i.pid}), injector ${i.injectUrl}, log ${i.logPath}\n`);
} else if (command === "down") {
  process.stdout.write((await stopIstiod()) ? "stopped\n" : "not running\n");
} else if (command === "status") {
  const s = istiodStatus();
  process.stdout.write(s ? `running: istiod ${s.version} (pid ${s.pid}), injector https://127.0.0.1:${s.ports.webhook}/inject\n` : "not running\n");
  if (!s) process.exitCode = 1;
} else {
  process.stderr.write("usage: istiod.ts up|down|status\n");
  process.exitCode = 2;
}
