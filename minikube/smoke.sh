#!/usr/bin/env bash
# The smoke test of an installed Taidon (install.sh): what only a real cluster
# proves. Signs in anonymously through the gateway, runs SQL from a state
# never seen (replayed) and again from a fresh session (restored from the
# cached layer, nothing replayed), and checks that the NetworkPolicies are
# enforced: a sandbox reaches nothing, and only sql-runner (and env-manager)
# reach a sandbox's PostgreSQL. Exits non-zero on the first failure.
# shellcheck source=minikube/lib.sh
source "$(dirname "$0")/lib.sh"
require kubectl curl jq

port="${TAIDON_SMOKE_PORT:-18080}"
base="http://127.0.0.1:$port"
work="$(mktemp -d)"
forward_pid=""
cleanup() {
  if [ -n "$forward_pid" ]; then kill "$forward_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

k -n "$TAIDON_NAMESPACE" port-forward svc/taidon-gateway "$port:80" >"$work/port-forward.log" 2>&1 &
forward_pid=$!
for _ in $(seq 1 50); do
  curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$base/health/ready" >/dev/null || die "the gateway does not answer on $base (see $work/port-forward.log)"

# An anonymous learner: a new account and its access token.
sign_in() {
  curl -fsS -X POST "$base/api/auth/anonymous" -H 'content-type: application/json' -d '{}' | jq -er .accessToken
}

# Runs a tail and a head; prints the stream's `done` event.
run() {
  local token="$1" tail_sql="$2" head_sql="$3"
  jq -n --arg tail "$tail_sql" --arg head "$head_sql" '{tail: {sql: $tail}, head: $head}' >"$work/run.json"
  curl -fsS -N -X POST "$base/api/runs" \
    -H "authorization: Bearer $token" -H 'content-type: application/json' \
    --data @"$work/run.json" >"$work/stream.ndjson"
  if jq -e 'select(.type == "error")' "$work/stream.ndjson" >/dev/null; then
    die "the run reported an error: $(jq -c 'select(.type == "error")' "$work/stream.ndjson")"
  fi
  jq -ec 'select(.type == "done")' "$work/stream.ndjson"
}

log "1. sign in"
token="$(sign_in)" || die "anonymous sign-in failed"

# A state nobody has built: its name is new, so its key is too.
table="smoke_$(date +%s)_$RANDOM"
tail_sql="CREATE TABLE $table (id int PRIMARY KEY, note text); INSERT INTO $table SELECT g, md5(g::text) FROM generate_series(1, 1000) g;"
head_sql="SELECT count(*) FROM $table;"

log "2. a run from a fresh state (replayed)"
done_fresh="$(run "$token" "$tail_sql" "$head_sql")"
echo "$done_fresh" | jq -e '.outcome == "ok" and .stepsReplayed > 0' >/dev/null ||
  die "the fresh run did not replay its tail: $done_fresh"
grep -q '"1000"' "$work/stream.ndjson" || die "the fresh run did not count 1000 rows"

log "3. the same state from a new learner (restored from the cached layer)"
other="$(sign_in)"
done_cached="$(run "$other" "$tail_sql" "$head_sql")"
echo "$done_cached" | jq -e '.outcome == "ok" and .stepsReplayed == 0 and .layerKey != null' >/dev/null ||
  die "the second run was not served from the cache: $done_cached"
grep -q '"1000"' "$work/stream.ndjson" || die "the cached run did not count 1000 rows"
log "   fresh: $(echo "$done_fresh" | jq -c .timings), cached: $(echo "$done_cached" | jq -c .timings)"

# TCP connect with a 3 s deadline from inside a Pod (both images are Debian, with bash and coreutils): prints
# open or refused (a NetworkPolicy drops the packets, so refused is mostly a timeout).
connect_from() {
  local namespace="$1" pod="$2" host="$3" port="$4"
  # shellcheck disable=SC2016 # $0 and $1 are expanded by the Pod's bash, not here.
  if k -n "$namespace" exec "$pod" -- timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; then
    echo open
  else
    echo refused
  fi
}

log "4. NetworkPolicy: a sandbox reaches nothing, only the platform reaches a sandbox"
sandbox="$(k -n "$TAIDON_SANDBOX_NAMESPACE" get pods -o jsonpath='{.items[0].metadata.name}')"
[ -n "$sandbox" ] || die "no sandbox Pod in $TAIDON_SANDBOX_NAMESPACE"
sandbox_ip="$(k -n "$TAIDON_SANDBOX_NAMESPACE" get pod "$sandbox" -o jsonpath='{.status.podIP}')"
gateway_ip="$(k -n "$TAIDON_NAMESPACE" get svc taidon-gateway -o jsonpath='{.spec.clusterIP}')"

answer="$(connect_from "$TAIDON_SANDBOX_NAMESPACE" "$sandbox" "$gateway_ip" 80)"
[ "$answer" != "open" ] || die "a sandbox reached the gateway ($gateway_ip:80)"
answer="$(connect_from "$TAIDON_SANDBOX_NAMESPACE" "$sandbox" 1.1.1.1 443)"
[ "$answer" != "open" ] || die "a sandbox reached the internet (1.1.1.1:443)"
log "   sandbox egress refused ($answer)"

runner="$(k -n "$TAIDON_NAMESPACE" get pods -l app.kubernetes.io/component=sql-runner -o jsonpath='{.items[0].metadata.name}')"
answer="$(connect_from "$TAIDON_NAMESPACE" "$runner" "$sandbox_ip" 5432)"
[ "$answer" = "open" ] || die "sql-runner cannot reach a sandbox's PostgreSQL ($answer)"
gateway="$(k -n "$TAIDON_NAMESPACE" get pods -l app.kubernetes.io/component=gateway -o jsonpath='{.items[0].metadata.name}')"
answer="$(connect_from "$TAIDON_NAMESPACE" "$gateway" "$sandbox_ip" 5432)"
[ "$answer" != "open" ] || die "the gateway reached a sandbox's PostgreSQL"
log "   5432 open from sql-runner, refused from the gateway ($answer)"

log "smoke test passed"
