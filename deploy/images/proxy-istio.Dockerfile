# syntax=docker/dockerfile:1
# Istio's proxy image plus what tracing needs: bpftrace, Node, the hookpoint
# agent and the bundled bpf/ scripts. pilot-agent and Envoy stay where Istio puts
# them (/usr/local/bin), so the webhook's entrypoint `hookpoint agent --
# /usr/local/bin/pilot-agent` finds them. Build one per Istio version, matching
# the control plane:
#   docker build -f deploy/images/proxy-istio.Dockerfile --build-arg ISTIO_VERSION=1.28.0 \
#     -t hookpoint/proxy-istio:0.1.0-istio1.28.0 .
# Use the default (Ubuntu-based) proxyv2 tag, not -distroless: bpftrace comes from apt.
ARG ISTIO_VERSION=1.28.0
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

FROM docker.io/istio/proxyv2:${ISTIO_VERSION}
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
# Fail the build, not the pod, if a piece is missing.
RUN test -x /usr/local/bin/pilot-agent \
 && test -x /usr/local/bin/envoy \
 && bpftrace --version \
 && setpriv --pdeathsig KILL -- true \
 && hookpoint --version
# Istio's proxy identity; the webhook runs the container as root (bpftrace needs it)
# and the agent starts pilot-agent as 1337 again.
USER 1337:1337
ENTRYPOINT ["/usr/local/bin/hookpoint", "agent", "--", "/usr/local/bin/pilot-agent"]
