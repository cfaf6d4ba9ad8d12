#!/usr/bin/env bash
# Installs Taidon into the minikube cluster: the release namespace, the
# control-plane PostgreSQL (postgresql.yaml, its superuser password generated
# once and kept in a Secret), then charts/taidon with the development values.
# Run start.sh and build-images.sh first. Safe to run again (an upgrade).
# shellcheck source=minikube/lib.sh
source "$(dirname "$0")/lib.sh"
require kubectl helm openssl

k get namespace "$TAIDON_NAMESPACE" >/dev/null 2>&1 || k create namespace "$TAIDON_NAMESPACE"

if ! k -n "$TAIDON_NAMESPACE" get secret postgresql-superuser >/dev/null 2>&1; then
  password="$(openssl rand -hex 24)"
  k -n "$TAIDON_NAMESPACE" create secret generic postgresql-superuser \
    --from-literal=password="$password" \
    --from-literal=uri="postgresql://postgres:${password}@postgresql:5432/postgres"
  log "generated the control-plane superuser password (Secret postgresql-superuser)"
fi

log "starting the control-plane PostgreSQL"
k -n "$TAIDON_NAMESPACE" apply -f "$TAIDON_ROOT/minikube/postgresql.yaml"
k -n "$TAIDON_NAMESPACE" rollout status statefulset/postgresql --timeout=5m

log "installing charts/taidon (development values)"
helm upgrade --install taidon "$TAIDON_ROOT/charts/taidon" \
  --kube-context "$TAIDON_PROFILE" \
  --namespace "$TAIDON_NAMESPACE" \
  --values "$TAIDON_ROOT/charts/taidon/values-development.yaml" \
  --set sandbox.namespace="$TAIDON_SANDBOX_NAMESPACE" \
  --wait --timeout 15m

k -n "$TAIDON_NAMESPACE" get pods -o wide
log "installed; the gateway: minikube --profile $TAIDON_PROFILE service --namespace $TAIDON_NAMESPACE taidon-gateway --url"
