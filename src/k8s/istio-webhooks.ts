// The cluster's Istio injector webhooks, for explain and enable --workload's
// judgement of templates Istio's injector would hand over (istio-injection.ts
// decides; this only lists). One list of MutatingWebhookConfigurations; a refusal
// (RBAC) is reported, not thrown: the caller then assumes Istio's default install.
import { AdmissionregistrationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { istioWebhooksOf, type ConfigurationLike, type IstioWebhook } from "../admission/istio-injection.js";
import { errorText } from "./api-errors.js";
import { plainConfiguration } from "./routing-patch.js";

export type IstioWebhooksRead = { ok: true; webhooks: IstioWebhook[] } | { ok: false; problem: string };

export async function listIstioWebhooks(kubeConfig: KubeConfig): Promise<IstioWebhooksRead> {
  try {
    const list = await kubeConfig.makeApiClient(AdmissionregistrationV1Api).listMutatingWebhookConfiguration();
    return { ok: true, webhooks: istioWebhooksOf(list.items.map((c) => plainConfiguration(c) as ConfigurationLike)) };
  } catch (err) {
    return { ok: false, problem: `cannot list MutatingWebhookConfigurations: ${errorText(err)}` };
  }
}
