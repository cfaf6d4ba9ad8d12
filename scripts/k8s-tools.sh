#!/usr/bin/env bash
# Builds the programs the Kubernetes tests (e2e/k8s) run, from the Go module
# proxy, into a cache directory kept outside the checkout and named by the
# Kubernetes version:
#
#   ${TAIDON_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/taidon-tools}/k8s-<version>/bin
#
# kube-apiserver, kube-controller-manager, kube-scheduler and kubectl come from
# k8s.io/kubernetes; it is not meant to be required as a module (its go.mod
# points every k8s.io/* staging module at ./staging), so a throwaway module
# requires it with a `replace` for each staging module to the matching v0.X.Y
# release. etcd, kwok (fake nodes), helm and promtool are each built in a
# throwaway module of their own (etcd's and prometheus' go.mod carry replaces
# that `go install pkg@version` refuses).
#
# Every tool has a marker naming its version: a second run builds nothing.
# The module and build caches live under the tools dir too, so a rebuild
# after a version bump downloads and compiles only what changed.
#
# Cold times measured on this 2-core machine (2026-12-04, nice -n 10, empty
# caches, other engineers' tests and a benchmark loading the CPU, load ~9;
# a quiet machine is faster), as printed by this script:
#   kubernetes (apiserver, controller-manager, scheduler, kubectl)  800 s
#   etcd                                                             28 s
#   kwok                                                             66 s
#   helm                                                            101 s
#   promtool                                                        212 s
#   whole script (downloads included)                              1207 s (20 min)
# A warm run (all markers present) takes well under a second; the cache dir
# holds about 12 GB (binaries 0.6 GB, the rest module and build caches).
set -euo pipefail
cd "$(dirname "$0")/.."

# One Kubernetes release; every k8s.io/* staging module at the matching v0.X.Y.
K8S_VERSION=1.37.2
ETCD_VERSION=3.6.16
KWOK_VERSION=0.8.0
HELM_VERSION=4.3.2
# promtool ships in the prometheus module, whose Go versions are v0.<3xx>.
PROMETHEUS_VERSION=0.316.0

tools_dir="${TAIDON_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/taidon-tools}"
k8s_dir="$tools_dir/k8s-$K8S_VERSION"
bin_dir="$k8s_dir/bin"
mkdir -p "$bin_dir"
# Two set-ups on one machine (a session's and a clean clone's CI run) build into
# the same directories: the second waits for the first, then finds its markers.
exec 9>"$k8s_dir/.lock"
flock 9

if ! command -v go >/dev/null 2>&1; then
  echo "k8s-tools: no Go toolchain on PATH; the Kubernetes tests are skipped until one is" >&2
  exit 1
fi

# Caches under the tools dir: a CI machine that keeps the tools dir keeps them.
export GOMODCACHE="$tools_dir/go/mod"
export GOCACHE="$tools_dir/go/build"
# -mod=mod: the throwaway modules' go.sum is written as they resolve.
export GOFLAGS=-mod=mod
export CGO_ENABLED=0
# Never swap toolchains behind our back: the versions above need only Go 1.26.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
mkdir -p "$GOMODCACHE" "$GOCACHE"

# The proxy the go command already uses (go env GOPROXY); none is named here.
build_flags=(-trimpath "-ldflags=-s -w")
# Builds are CPU-heavy and the machine is shared.
nice_go=(nice -n 10 go)
TIMEFORMAT='%0R s'
failed=()

# Runs "$@" (a build step) timed; the step's output goes to a log kept next to
# the binaries so a failure can be read after the fact.
timed() {
  local name=$1
  shift
  local log="$k8s_dir/build-$name.log"
  echo "k8s-tools: building $name ..." >&2
  local start=$SECONDS rc=0
  # Not in an `if`: there bash would ignore set -e inside the step.
  local was_e=0
  [[ $- == *e* ]] && was_e=1
  set +e
  (
    set -e
    time "$@"
  ) >"$log" 2>&1
  rc=$?
  [ "$was_e" = 1 ] && set -e
  if [ "$rc" = 0 ]; then
    echo "k8s-tools: $name built in $((SECONDS - start)) s" >&2
    return 0
  fi
  echo "k8s-tools: $name FAILED after $((SECONDS - start)) s; the last lines of $log:" >&2
  tail -n 25 "$log" >&2
  failed+=("$name")
  return 1
}

new_module() {
  local dir=$1
  rm -rf "$dir"
  mkdir -p "$dir"
  (cd "$dir" && go mod init "taidon.local/tools/$(basename "$dir")" >/dev/null 2>&1)
}

build_kubernetes() {
  local mod="$k8s_dir/src/kubernetes"
  new_module "$mod"
  cd "$mod"
  # The staging modules are the `=> ./staging/...` replaces of kubernetes' own go.mod.
  go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" >download.json
  local gomod
  gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' download.json)
  local staging
  staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$gomod")
  local m
  for m in $staging; do
    go mod edit -replace "$m=$m@v0.${K8S_VERSION#1.}"
  done
  go mod edit -require "k8s.io/kubernetes@v$K8S_VERSION"
  cat >tools.go <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
  go mod tidy -e
  "${nice_go[@]}" build "${build_flags[@]}" -o "$bin_dir/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl
}

build_etcd() {
  local mod="$k8s_dir/src/etcd"
  new_module "$mod"
  cd "$mod"
  # etcd's own main (module go.etcd.io/etcd/v3) is this one line over etcdmain.
  cat >main.go <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  go mod tidy
  "${nice_go[@]}" build "${build_flags[@]}" -o "$bin_dir/etcd" .
}

# A program from a module that is built as it is: a throwaway module requires
# it at the version named and builds the package.
build_program() {
  local name=$1 module=$2 version=$3 package=$4
  local mod="$k8s_dir/src/$name"
  new_module "$mod"
  cd "$mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$package" >tools.go
  go get "$module@v$version" "$package@v$version"
  go mod tidy
  "${nice_go[@]}" build "${build_flags[@]}" -o "$bin_dir/$name" "$package"
}

# build_step NAME MARKER-VERSION FUNCTION ARGS...: runs when the marker is missing.
build_step() {
  local name=$1 version=$2
  shift 2
  local marker="$k8s_dir/.built-$name-$version"
  [ -f "$marker" ] && return 0
  # Called plainly (not in an `if`), so set -e holds inside the step.
  set +e
  timed "$name" "$@"
  local rc=$?
  set -e
  if [ "$rc" = 0 ]; then
    touch "$marker"
  fi
}

total_start=$SECONDS
build_step kubernetes "$K8S_VERSION" build_kubernetes
build_step etcd "$ETCD_VERSION" build_etcd
build_step kwok "$KWOK_VERSION" build_program kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
# kwok does nothing without stages: its "fast" set (nodes Ready with heartbeats,
# Pods Running at once, deletion honoured), from the module's source, as one
# config file of Stage documents for `kwok --config`.
kwok_stages="$k8s_dir/kwok-stages.yaml"
if [ ! -f "$kwok_stages" ] && [ -f "$k8s_dir/.built-kwok-$KWOK_VERSION" ]; then
  stage_src="$GOMODCACHE/sigs.k8s.io/kwok@v$KWOK_VERSION/kustomize/stage"
  for f in "$stage_src"/node/fast/node-initialize.yaml "$stage_src"/node/heartbeat/node-heartbeat.yaml "$stage_src"/pod/fast/pod-*.yaml; do
    echo "---"
    cat "$f"
  done >"$kwok_stages.tmp" && mv "$kwok_stages.tmp" "$kwok_stages"
fi
build_step helm "$HELM_VERSION" build_program helm helm.sh/helm/v4 "$HELM_VERSION" helm.sh/helm/v4/cmd/helm
build_step promtool "$PROMETHEUS_VERSION" build_program promtool github.com/prometheus/prometheus "$PROMETHEUS_VERSION" github.com/prometheus/prometheus/cmd/promtool
if [ $((SECONDS - total_start)) -gt 0 ]; then
  echo "k8s-tools: done in $((SECONDS - total_start)) s: $bin_dir" >&2
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "k8s-tools: could not build: ${failed[*]} (logs in $k8s_dir); the tests that need them fail or skip" >&2
  exit 1
fi
