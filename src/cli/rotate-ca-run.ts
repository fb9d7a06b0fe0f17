// `hookpoint certs rotate-ca`'s work: record the request on the Secret, say
// what happens next and how to watch it.
import { TLS_SECRET_NAME, WEBHOOK_CONFIGURATION_NAME } from "../k8s/install-names.js";
import { checkDnsLabel } from "../certs/names.js";
import { loadKubeConfig } from "../k8s/kubeconfig.js";
import { requestCaRotation } from "../k8s/rotate-ca-request.js";
import { ROTATE_CA_ANNOTATION } from "../k8s/tls-secret.js";
import { UsageError } from "./errors.js";

export interface RotateCaOptions {
  kubeconfig?: string;
  context?: string;
  namespace: string;
}

export async function runRotateCa(opts: RotateCaOptions, out: { stdout: (s: string) => void; stderr: (s: string) => void }, now = new Date()): Promise<void> {
  let namespace: string;
  try {
    namespace = checkDnsLabel("--namespace", opts.namespace);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const kc = loadKubeConfig({ file: opts.kubeconfig, context: opts.context });
  const secret = `${namespace}/${TLS_SECRET_NAME}`;
  const done = await requestCaRotation(kc, { namespace, secretName: TLS_SECRET_NAME, now });
  const at = done.requestedAt.toISOString().replace(/\.000Z$/, "Z");
  if (done.requestedAt > now) {
    out.stderr(
      `warning: this machine's clock (${now.toISOString()}) is not after the current CA's start (${done.ca.notBefore.toISOString()}), which the webhook's clock set: the request is dated ${at} so that the webhook acts on it; check this machine's clock\n`,
    );
  }
  if (done.pending) out.stdout(`an earlier request (${done.pending.toISOString()}) was still pending; it is replaced\n`);
  out.stdout(`requested a CA rotation on Secret ${secret}: annotation ${ROTATE_CA_ANNOTATION}=${at}\n`);
  out.stdout(`current CA: SHA-256 ${done.ca.fingerprint256}, issued ${done.ca.notBefore.toISOString()}, valid until ${done.ca.notAfter.toISOString()}\n`);
  out.stdout(
    [
      "next: at its next certificate check (--cert-check-interval, default 60 s) a webhook replica issues a new CA;",
      `      it joins the old one in the Secret and in the caBundle of ${WEBHOOK_CONFIGURATION_NAME} (the annotation is removed then),`,
      `      and a check later, once the new CA is read back from ${WEBHOOK_CONFIGURATION_NAME}, the serving certificate moves to it.`,
      "watch:",
      `  kubectl -n ${namespace} get secret ${TLS_SECRET_NAME} -o jsonpath='{.metadata.annotations}'   # the request is gone once a replica acted`,
      `  kubectl -n ${namespace} logs deploy/hookpoint-webhook | grep 'webhook certificate'   # action rotate-ca, then switch-serving`,
      "",
    ].join("\n"),
  );
}
