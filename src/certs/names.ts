// Names a webhook serving certificate must carry. The API server reaches the
// webhook as <service>.<namespace>.svc; the other forms cover clients that use
// the short or fully-qualified names, and the loopback names serve local runs.

export const DEFAULT_SERVICE = "hookpoint-webhook";
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

const DEV_DNS_NAMES: readonly string[] = ["localhost"];
const DEV_IP_ADDRESSES: readonly string[] = ["127.0.0.1", "::1"];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Throws an error naming `what` when `value` is not a DNS-1123 label (Service and namespace names are). */
export function checkDnsLabel(what: string, value: string): string {
  if (value.length === 0 || value.length > 63 || !DNS_LABEL.test(value)) {
    throw new Error(
      `${what} must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Throws an error naming `what` when `value` is not a DNS-1123 subdomain (the cluster domain is one). */
function checkDnsSubdomain(what: string, value: string): string {
  if (value.length === 0 || value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new Error(`${what} must be a DNS-1123 subdomain such as "cluster.local", got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.<clusterDomain>`, in that order. */
export function serviceDnsNames(service: string, namespace: string, clusterDomain = DEFAULT_CLUSTER_DOMAIN): string[] {
  checkDnsLabel("service name", service);
  checkDnsLabel("namespace", namespace);
  checkDnsSubdomain("cluster domain", clusterDomain);
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.${clusterDomain}`];
}

/** What a serving certificate for a Service must name: the Service's DNS names, then the loopback names. */
export function servingSubjectAltNames(
  service: string,
  namespace: string,
  clusterDomain = DEFAULT_CLUSTER_DOMAIN,
): { dnsNames: string[]; ipAddresses: string[] } {
  return {
    dnsNames: [...serviceDnsNames(service, namespace, clusterDomain), ...DEV_DNS_NAMES],
    ipAddresses: [...DEV_IP_ADDRESSES],
  };
}
