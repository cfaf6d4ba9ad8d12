#!/usr/bin/env bash
# Everything in order: a cluster, the image, the install, the smoke test.
# shellcheck source=minikube/lib.sh
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"
"$here/start.sh"
"$here/build-images.sh"
"$here/install.sh"
"$here/smoke.sh"
