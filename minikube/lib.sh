#!/usr/bin/env bash
# Shared settings of the minikube scripts; sourced, not run. Every value can be
# overridden from the environment.
set -euo pipefail

# The minikube profile (its own VM or container, so it never touches another cluster).
TAIDON_PROFILE="${TAIDON_PROFILE:-taidon}"
# Namespace of the release; the sandboxes get the chart's sandbox namespace.
TAIDON_NAMESPACE="${TAIDON_NAMESPACE:-taidon}"
TAIDON_SANDBOX_NAMESPACE="${TAIDON_SANDBOX_NAMESPACE:-taidon-sandboxes}"
# The image the chart's development values name (taidon:dev, never pulled).
TAIDON_IMAGE="${TAIDON_IMAGE:-taidon:dev}"
# The sandbox image the chart's values name.
TAIDON_SANDBOX_IMAGE="${TAIDON_SANDBOX_IMAGE:-taidon/sandbox-postgres:18}"
# The repository's root, whatever directory the script is run from.
TAIDON_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TAIDON_PROFILE TAIDON_NAMESPACE TAIDON_SANDBOX_NAMESPACE TAIDON_IMAGE TAIDON_SANDBOX_IMAGE TAIDON_ROOT

log() {
  printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required (see minikube/README.md)"
  done
}

# kubectl against the profile's cluster, whatever the current context is.
k() {
  kubectl --context "$TAIDON_PROFILE" "$@"
}
