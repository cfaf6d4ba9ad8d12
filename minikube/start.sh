#!/usr/bin/env bash
# Starts a minikube cluster for Taidon with Calico, a CNI that enforces
# NetworkPolicy (minikube's default bridge CNI ignores them, and the sandboxes'
# "no egress" would then be a promise on paper), and labels its node for the
# snapshot-cache node agent.
# shellcheck source=minikube/lib.sh
source "$(dirname "$0")/lib.sh"
require minikube kubectl

cpus="${TAIDON_CPUS:-4}"
memory="${TAIDON_MEMORY:-8g}"
disk="${TAIDON_DISK:-40g}"

log "starting minikube profile $TAIDON_PROFILE ($cpus CPUs, $memory, Calico)"
minikube start \
  --profile "$TAIDON_PROFILE" \
  --cpus "$cpus" \
  --memory "$memory" \
  --disk-size "$disk" \
  --cni calico \
  --addons storage-provisioner,default-storageclass

log "waiting for Calico to be ready"
k -n kube-system rollout status daemonset/calico-node --timeout=5m

# One node does everything here: it is labelled for the node agent but not
# tainted (a taint would keep the platform's own Pods off the only node).
node="$(k get nodes -o jsonpath='{.items[0].metadata.name}')"
k label node "$node" taidon.dev/fast-disk=true --overwrite
# The node agent runs as the sandbox's uid 999 (its clones are then the sandbox's own) and a hostPath is not
# chowned by fsGroup: the directory is prepared on the node, as an operator prepares a fast disk (README.md).
minikube --profile "$TAIDON_PROFILE" ssh -- sudo install -d -o 999 -g 999 -m 0750 /var/lib/taidon/snapshot-cache
log "cluster ready: node $node labelled taidon.dev/fast-disk=true"
