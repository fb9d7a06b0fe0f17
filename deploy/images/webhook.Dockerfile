# syntax=docker/dockerfile:1
# The hookpoint webhook: Node 20, non-root, production dependencies only.
# Build from the repository root:
#   docker build -f deploy/images/webhook.Dockerfile -t hookpoint/webhook:0.1.0 .
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
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM docker.io/library/node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/hookpoint
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# 65532: the conventional "nonroot" uid; the Deployment runs it with runAsNonRoot.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/node", "/opt/hookpoint/dist/cli/main.js"]
CMD ["webhook", "--port", "8443", "--cert", "/etc/hookpoint/tls/tls.crt", "--key", "/etc/hookpoint/tls/tls.key"]
