# One image for the whole platform (docs/adr/0035-kubernetes-packaging.md): every
# service and the migration Job run it, each with its own command
# (`node services/<name>/dist/server.js`). The workspaces share one lockfile and
# one built tree, so one image is one build and one thing to scan, pin and pull
# on every node. The sandboxes' PostgreSQL is Dockerfile.sandbox.
#
#   docker build -t taidon:dev .        (minikube/build-images.sh does this)

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY backend/kit/package.json backend/kit/
COPY backend/contracts/package.json backend/contracts/
COPY backend/gateway/package.json backend/gateway/
COPY apps/local/package.json apps/local/
COPY frontend/main/package.json frontend/main/
COPY services/idp/package.json services/idp/
COPY services/user-profile/package.json services/user-profile/
COPY services/audit-log/package.json services/audit-log/
COPY services/snapshot-cache/package.json services/snapshot-cache/
COPY services/env-manager/package.json services/env-manager/
COPY services/sql-runner/package.json services/sql-runner/
COPY services/vcs-sync/package.json services/vcs-sync/
COPY services/exercises/package.json services/exercises/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# git: vcs-sync keeps projects as working trees; btrfs-progs: snapshot-cache's
# btrfs driver; tini as PID 1 forwards signals and reaps the children git and
# the spawner leave.
RUN apt-get update -qq \
  && apt-get install -y -qq --no-install-recommends git btrfs-progs tini ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --gid 10001 taidon \
  && useradd --uid 10001 --gid 10001 --home-dir /home/taidon --create-home --shell /usr/sbin/nologin taidon
WORKDIR /app
COPY --from=build --chown=root:root /src /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
# Numeric, so the kubelet can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "backend/gateway/dist/server.js"]
