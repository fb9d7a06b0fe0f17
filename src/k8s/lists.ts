// Paginated, abortable lists of the two resources the decision reads. Lists
// are paged (like client-go's reflector) so 10,000 namespaces never arrive as
// one huge response, and time out so a blackholed API server cannot hang a
// (re)list forever.
import { CoreV1Api, CustomObjectsApi, Observable, type ConfigurationOptions, type KubeConfig, type ObservableMiddleware, type RequestContext, type ResponseContext } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION, POLICY_PLURAL, type NamespaceInfo } from "../policy/types.js";

const PAGE_SIZE = 500;
export const DEFAULT_LIST_TIMEOUT_MS = 60_000;

/** What the informer caches of a Namespace: only what the decision reads. */
export interface NamespaceItem {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; resourceVersion?: string; labels?: Record<string, string> };
}

export interface PolicyItem {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; resourceVersion?: string; generation?: number; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ItemList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string };
  items: T[];
}

export interface ListOptions {
  /** Aborts the list (stop()). */
  signal?: AbortSignal;
  /** Whole list, all pages (default 60 s). */
  timeoutMs?: number;
  pageSize?: number;
}

interface Page<T> {
  metadata?: { resourceVersion?: string; _continue?: string; continue?: string };
  items?: T[];
}

export const NAMESPACES_PATH = "/api/v1/namespaces";
export const POLICIES_PATH = `/apis/${API_GROUP}/${API_VERSION}/${POLICY_PLURAL}`;

export interface Lister {
  namespaces(options?: ListOptions): Promise<ItemList<NamespaceItem>>;
  policies(options?: ListOptions): Promise<ItemList<PolicyItem>>;
}

export function createLister(kubeConfig: KubeConfig): Lister {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  return {
    async namespaces(options = {}) {
      const list = await listAll<NamespaceItem>(options, (page) =>
        core.listNamespace({ limit: page.limit, ...(page.cont ? { _continue: page.cont } : {}) }, page.config) as Promise<Page<NamespaceItem>>,
      );
      return { ...list, items: list.items.map(slimNamespace) };
    },
    policies(options = {}) {
      return listAll<PolicyItem>(options, (page) =>
        custom.listClusterCustomObject(
          { group: API_GROUP, version: API_VERSION, plural: POLICY_PLURAL, limit: page.limit, ...(page.cont ? { _continue: page.cont } : {}) },
          page.config,
        ) as Promise<Page<PolicyItem>>,
      );
    },
  };
}

export function namespaceInfo(item: NamespaceItem): NamespaceInfo {
  return { name: item.metadata.name, labels: item.metadata.labels ?? {} };
}

function slimNamespace(ns: NamespaceItem): NamespaceItem {
  const { name, resourceVersion, labels } = ns.metadata;
  return { metadata: { name, ...(resourceVersion !== undefined ? { resourceVersion } : {}), labels: labels ?? {} } };
}

async function listAll<T>(
  options: ListOptions,
  fetchPage: (page: { limit: number; cont: string | undefined; config: ConfigurationOptions }) => Promise<Page<T>>,
): Promise<ItemList<T>> {
  const config = requestOptions(options);
  const items: T[] = [];
  let resourceVersion: string | undefined;
  let cont: string | undefined;
  do {
    const page = await fetchPage({ limit: options.pageSize ?? PAGE_SIZE, cont, config });
    // Every page of one paged list is served from the same resourceVersion: the first page's.
    resourceVersion ??= page.metadata?.resourceVersion;
    items.push(...(page.items ?? []));
    cont = page.metadata?._continue || page.metadata?.continue || undefined;
  } while (cont);
  return { metadata: resourceVersion !== undefined ? { resourceVersion } : {}, items };
}

/** Request options that end an API call on `options.signal` or after `options.timeoutMs` (default 60 s). */
export function requestOptions(options: Pick<ListOptions, "signal" | "timeoutMs">): ConfigurationOptions {
  const signals = [AbortSignal.timeout(options.timeoutMs ?? DEFAULT_LIST_TIMEOUT_MS)];
  if (options.signal) signals.push(options.signal);
  return withSignal(AbortSignal.any(signals));
}

/** Request options that attach an AbortSignal to every request of an API call. */
function withSignal(signal: AbortSignal): ConfigurationOptions {
  // The object-parameter API hands options to the observable API, so the middleware is observable-style.
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(signal);
      return new Observable(Promise.resolve(ctx));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: "append" };
}
