# syntax=docker/dockerfile:1
# Cilium's Envoy image plus bpftrace, Node, the hookpoint agent and bpf/.
# cilium-envoy and its starter stay where Cilium puts them (/usr/bin). Cilium runs
# this Envoy as the cilium-envoy DaemonSet in kube-system, which the webhook never
# mutates: use this image by patching that DaemonSet (see the README).
#   docker build -f deploy/images/proxy-cilium.Dockerfile \
#     --build-arg CILIUM_ENVOY_VERSION=<the tag your Cilium release uses> \
#     -t hookpoint/proxy-cilium:0.1.0 .
ARG CILIUM_ENVOY_VERSION
ARG NODE_VERSION=20

FROM docker.io/library/node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# npm run build compiles bpf/*.bt into the typed catalog first (scripts/catalog).
COPY bpf ./bpf
COPY scripts/catalog ./scripts/catalog
# Runtime dependencies of the agent only: optional ones (pino-pretty, for the webhook's
# --pretty) stay out of the proxy's image.
RUN npm run build && npm prune --omit=dev --omit=optional --no-audit --no-fund

FROM docker.io/library/node:${NODE_VERSION}-bookworm-slim AS node

FROM quay.io/cilium/cilium-envoy:${CILIUM_ENVOY_VERSION}
USER root
# bpftrace runs the scripts; tini becomes the container's PID 1 in front of the
# agent (see hookpoint-launcher.sh): it reaps orphaned processes and passes SIGTERM to
# the agent alone, which passes it to the proxy command alone. util-linux's setpriv
# starts bpftrace in a session of its own that the kernel ends with the agent.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bpftrace tini util-linux \
 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=build /src/package.json /opt/hookpoint/package.json
COPY --from=build /src/node_modules /opt/hookpoint/node_modules
COPY --from=build /src/dist /opt/hookpoint/dist
COPY bpf /opt/hookpoint/bpf
COPY --chmod=0755 deploy/images/hookpoint-launcher.sh /usr/local/bin/hookpoint
RUN test -x /usr/bin/cilium-envoy \
 && test -x /usr/bin/cilium-envoy-starter \
 && bpftrace --version \
 && setpriv --pdeathsig KILL -- true \
 && hookpoint --version
ENTRYPOINT ["/usr/local/bin/hookpoint", "agent", "--", "/usr/bin/cilium-envoy-starter"]
