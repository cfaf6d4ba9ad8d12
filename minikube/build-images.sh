#!/usr/bin/env bash
# Builds the platform image (the repository's Dockerfile: every service and
# the migration Job) and the sandbox image (Dockerfile.sandbox) straight into the minikube node's
# container runtime, so the chart's development values use it without a
# registry (pullPolicy Never).
# shellcheck source=minikube/lib.sh
source "$(dirname "$0")/lib.sh"
require minikube

log "building $TAIDON_IMAGE in profile $TAIDON_PROFILE (first build: several minutes)"
minikube --profile "$TAIDON_PROFILE" image build --tag "$TAIDON_IMAGE" "$TAIDON_ROOT"
log "building $TAIDON_SANDBOX_IMAGE (the sandboxes' PostgreSQL)"
minikube --profile "$TAIDON_PROFILE" image build --tag "$TAIDON_SANDBOX_IMAGE" --file Dockerfile.sandbox "$TAIDON_ROOT"
for image in "$TAIDON_IMAGE" "$TAIDON_SANDBOX_IMAGE"; do
  minikube --profile "$TAIDON_PROFILE" image ls | grep -q "${image%%:*}" || die "$image is not in the node after the build"
done
log "built $TAIDON_IMAGE and $TAIDON_SANDBOX_IMAGE"
