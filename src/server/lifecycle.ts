// Where the server is in its shutdown, shared by the routes and whoever shuts it
// down (run.ts): first not ready (the endpoint is being removed, requests are
// still answered), then closing (no new connections; every answer says
// `Connection: close`, so keep-alive clients move elsewhere cleanly).
export interface Lifecycle {
  /** /readyz answers 503 from now on. */
  stopping: boolean;
  /** Every answer carries `Connection: close` from now on. */
  closing: boolean;
}

export function newLifecycle(): Lifecycle {
  return { stopping: false, closing: false };
}
