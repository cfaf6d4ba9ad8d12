#!/usr/bin/env bash
# Builds the platform image (the repository's Dockerfile: every service, the
# migration Job and the sandbox PostgreSQL) straight into the minikube node's
# container runtime, so the chart's development values use it without a
# registry (pullPolicy Never).
# shellcheck source=minikube/lib.sh
source "$(dirname "$0")/lib.sh"
require minikube

log "building $TAIDON_IMAGE in profile $TAIDON_PROFILE (first build: several minutes)"
minikube --profile "$TAIDON_PROFILE" image build --tag "$TAIDON_IMAGE" "$TAIDON_ROOT"
minikube --profile "$TAIDON_PROFILE" image ls | grep -q "${TAIDON_IMAGE%%:*}" || die "the image is not in the node after the build"
log "built $TAIDON_IMAGE"
