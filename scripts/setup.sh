#!/usr/bin/env bash
# Prepares a fresh Debian machine with Node 20 for Taidon: the few Debian
# packages the platform and its tests use, then the npm packages (lockfile
# exact). Safe to run again; installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# psql: the tests compare our statement splitting with what psql sends, and
# bench/plan times `psql -f`. btrfs-progs: the btrfs layer driver (loop image).
# chromium: the e2e tests and bench/ui drive it with playwright-core. git: vcs-sync
# keeps every project as a Git working tree. shellcheck: e2e/k8s checks the minikube/
# scripts with it (they need a real cluster to run).
debian_packages=(postgresql-client btrfs-progs chromium git shellcheck)

missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]}); tests that need them are skipped" >&2
  fi
fi

# schemathesis (a test tool from PyPI): the fuzzing suite (e2e/fuzz.test.ts) runs it
# against the OpenAPI document. It goes into a virtualenv kept outside the
# checkout, named by its version, so a second setup (or CI with a warm cache)
# installs nothing.
SCHEMATHESIS_VERSION=4.32.5
tools_dir="${TAIDON_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/taidon-tools}"
schemathesis_dir="$tools_dir/schemathesis-$SCHEMATHESIS_VERSION"
if [ ! -f "$schemathesis_dir/.installed" ]; then
  # Debian's python3 makes virtualenvs only with python3-venv (ensurepip) installed.
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
  fi
  rm -rf "$schemathesis_dir"
  if python3 -m venv "$schemathesis_dir" &&
    "$schemathesis_dir/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"; then
    touch "$schemathesis_dir/.installed"
  else
    rm -rf "$schemathesis_dir"
    echo "setup: could not install schemathesis $SCHEMATHESIS_VERSION (python3 with venv and pip needed); the fuzzing suite fails until it is" >&2
  fi
fi

# Exactly the lockfile (which lists every platform's optional packages, as npm
# writes it, so neither this nor a later `npm install` changes it).
npm ci --no-audit --no-fund
