#!/usr/bin/env bash
# Two rbac instances on one PostgreSQL database behind HAProxy, as
# docs/operations.md ("A recipe: two instances behind HAProxy") describes it,
# started here as child processes on free loopback ports and checked:
#
#   - HAProxy terminates TLS and balances round-robin over both instances,
#     health-checking each with GET /status/v1/services;
#   - a login through the balancer works, and the balancer's requests reach both;
#   - a login token issued by one instance works on the other (and on both
#     after a login through the balancer), and logging out revokes it on both;
#   - the instances believe the balancer's X-Forwarded-* (trusted-proxies):
#     reset links name the balancer's https:// address, and the audit trail
#     has the client's address, never an X-Forwarded-For the client sent;
#   - the rate limits hold for the pair (counted in the database): with
#     rate-limit-per-account 5, the sixth wrong password for one login through
#     the balancer is refused, though each instance answered only about half.
#
# Everything lives in a temporary directory and every process is stopped when
# the script ends, however it ends. Nothing runs as a daemon.
#
# Usage: scripts/two-instances.sh <postgres://… URL of an empty database or schema>
# Environment:
#   RBAC_COMMAND    how to run the rbac command (default: node bin/rbac.js, which needs `npm ci`)
#   ADMIN_PASSWORD  admin's password: set on the first start of an empty database (default: a random one)
#   HAPROXY         the haproxy binary (default: haproxy from PATH; Debian: apt-get install haproxy)
# Needs curl, jq and openssl. Exit 0 when every check passed.

set -euo pipefail
cd "$(dirname "$0")/.."

DATABASE_URL=${1:?usage: scripts/two-instances.sh postgres://user@host/database}
RBAC_COMMAND=${RBAC_COMMAND:-node bin/rbac.js}
HAPROXY=${HAPROXY:-haproxy}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-$(openssl rand -base64 24)}
for tool in "$HAPROXY" curl jq openssl; do
  command -v "$tool" >/dev/null || { echo "two-instances: $tool is not installed" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rbac-two-instances.XXXXXX")
PIDS=()
cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    for log in "$WORK"/*.log; do [ -f "$log" ] && { echo "--- $log (last lines)" >&2; tail -n 20 "$log" >&2; }; done
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "two-instances: FAILED: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

free_port() {
  node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"
}

# Polls until `curl "$@"` prints `running` (at most about 60 s).
wait_running() {
  for _ in $(seq 1 120); do
    [ "$(curl -s "$@" 2>/dev/null || true)" = running ] && return 0
    sleep 0.5
  done
  return 1
}

PORT_A=$(free_port)
PORT_B=$(free_port)
PORT_LB=$(free_port)
A=http://127.0.0.1:$PORT_A
B=http://127.0.0.1:$PORT_B
LB=https://localhost:$PORT_LB
API=/rbac-api/v1

# --- the two instances: plain HTTP on loopback (the private side), the
# balancer (loopback here) trusted for X-Forwarded-For/-Proto/-Host.
start_instance() {
  local name=$1 port=$2
  mkdir -p "$WORK/$name"
  # shellcheck disable=SC2086  # RBAC_COMMAND is a command line
  RBAC_ADMIN_PASSWORD=$ADMIN_PASSWORD $RBAC_COMMAND serve \
    --database-url "$DATABASE_URL" --data-dir "$WORK/$name" \
    --insecure-http --host 127.0.0.1 --port "$port" --metrics-port 0 \
    --trusted-proxies loopback --rate-limit-per-account 5 >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  wait_running "http://127.0.0.1:$port/status/v1/simple" || fail "instance $name did not start"
  ok "instance $name runs at http://127.0.0.1:$port"
}
# One after the other: the first migrates the empty database and creates admin.
start_instance a "$PORT_A"
start_instance b "$PORT_B"

# --- HAProxy: TLS for the name clients use, round-robin, health checks.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$WORK/balancer.key" -out "$WORK/balancer.crt" 2>/dev/null
cat "$WORK/balancer.crt" "$WORK/balancer.key" >"$WORK/balancer.pem"
cat >"$WORK/haproxy.cfg" <<EOF
global
    log stderr format raw local0 notice

defaults
    mode http
    log global
    option httplog
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    # X-Forwarded-For: the client's address, for the service's rate limits and audit trail.
    option forwardfor

frontend rbac
    bind 127.0.0.1:$PORT_LB ssl crt $WORK/balancer.pem
    # What a client says it forwards for is dropped: the instances trust this
    # balancer's X-Forwarded-* (trusted-proxies), so only the balancer may set them.
    http-request del-header X-Forwarded-For
    http-request del-header X-Forwarded-Host
    http-request set-header X-Forwarded-Proto https
    default_backend rbac_instances

backend rbac_instances
    balance roundrobin
    option httpchk GET /status/v1/services
    http-check expect status 200
    # Which instance answered (a demonstration; leave it out in production).
    http-response set-header X-Served-By %s
    server a 127.0.0.1:$PORT_A check inter 2s
    server b 127.0.0.1:$PORT_B check inter 2s
EOF
"$HAPROXY" -c -q -f "$WORK/haproxy.cfg" || fail "haproxy refused its configuration"
# -db: stay in the foreground, a child of this script.
"$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
PIDS+=($!)
CA=(--cacert "$WORK/balancer.crt")
wait_running "${CA[@]}" "$LB/status/v1/simple" || fail "the balancer did not answer"
ok "HAProxy balances $LB over both instances"

login() { # login <base URL> [curl options…] → the token on stdout, or a failure naming the service's message
  local base=$1
  shift
  jq -n --arg password "$ADMIN_PASSWORD" '{login: "admin", password: $password}' |
    curl -sS --fail-with-body "$@" -X POST "$base$API/auth/token" -H 'Content-Type: application/json' -d @- | jq -er '.token // error(.msg)'
}
status_of() { # status_of <URL> <token> [curl options…] → the HTTP status of GET <URL>
  local url=$1 token=$2
  shift 2
  curl -s "$@" -o /dev/null -w '%{http_code}' "$url" -H "X-Authentication: $token"
}

# A login through the balancer; its token used through the balancer reaches both instances.
TOKEN=$(login "$LB" "${CA[@]}") || fail "login through the balancer"
ok "login through the balancer"
SERVED=()
for _ in 1 2 3 4; do
  headers=$(curl -sS --fail-with-body "${CA[@]}" -o /dev/null -D - "$LB$API/users/current" -H "X-Authentication: $TOKEN") || fail "GET /users/current through the balancer"
  SERVED+=("$(printf '%s' "$headers" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-served-by" { print $2 }')")
done
printf '%s\n' "${SERVED[@]}" | grep -qx a || fail "instance a never answered through the balancer (${SERVED[*]})"
printf '%s\n' "${SERVED[@]}" | grep -qx b || fail "instance b never answered through the balancer (${SERVED[*]})"
ok "the balancer's token works on both instances (answered by: ${SERVED[*]})"
[ "$(status_of "$A$API/users/current" "$TOKEN")" = 200 ] || fail "the balancer's token on instance a"
[ "$(status_of "$B$API/users/current" "$TOKEN")" = 200 ] || fail "the balancer's token on instance b"

# A token issued by instance a works on instance b.
TOKEN_A=$(login "$A") || fail "login on instance a"
[ "$(status_of "$B$API/users/current" "$TOKEN_A")" = 200 ] || fail "a token issued by instance a is refused by instance b"
ok "a token issued by instance a works on instance b"

# The instances believe the balancer's X-Forwarded-Proto and Host: reset links name it.
ADMIN_ID=$(curl -sS --fail-with-body "${CA[@]}" "$LB$API/users/current" -H "X-Authentication: $TOKEN" | jq -er .id) || fail "admin's id"
URL=$(curl -sS --fail-with-body "${CA[@]}" -X POST "$LB$API/users/$ADMIN_ID/password/reset" -H "X-Authentication: $TOKEN" -H 'Accept: application/json' \
  -H 'X-Forwarded-For: 203.0.113.7' | jq -er .url) ||
  fail "a reset token through the balancer"
case "$URL" in
  "$LB/auth/reset?token="*) ok "reset links name the balancer: ${URL%%\?*}" ;;
  *) fail "the reset link does not name the balancer ($LB): ${URL%%\?*}" ;;
esac

# The audit trail records the client's address as the balancer saw it, not one the client made up.
SOURCE=$(curl -sS --fail-with-body "${CA[@]}" "$LB$API/events?limit=1" -H "X-Authentication: $TOKEN" | jq -er '.events[0].source_address') || fail "the audit trail"
[ "$SOURCE" = 127.0.0.1 ] || fail "the reset token's audit event has source address $SOURCE, not the client's 127.0.0.1"
ok "the audit trail has the client's address from the balancer's X-Forwarded-For ($SOURCE), not a client-made one"

# Logging out through the balancer revokes the token on both instances.
[ "$(curl -s "${CA[@]}" -o /dev/null -w '%{http_code}' -X DELETE "$LB$API/tokens/current" -H "X-Authentication: $TOKEN")" = 204 ] || fail "logout through the balancer"
[ "$(status_of "$A$API/users/current" "$TOKEN")" = 401 ] || fail "instance a still accepts the revoked token"
[ "$(status_of "$B$API/users/current" "$TOKEN")" = 401 ] || fail "instance b still accepts the revoked token"
ok "logging out through the balancer revokes the token on both instances"
# The rate limits hold for the pair: five wrong passwords for one login through
# the balancer (both instances answer), then 429 — not ten, as two instances
# each counting alone would allow.
CODES=()
SERVED=()
for _ in 1 2 3 4 5 6; do
  answer=$(jq -n '{login: "rate-limit-check", password: "not the password"}' |
    curl -s "${CA[@]}" -o /dev/null -w '%{http_code} %header{x-served-by}' -X POST "$LB$API/auth/token" -H 'Content-Type: application/json' -d @-)
  CODES+=("${answer%% *}")
  SERVED+=("${answer#* }")
done
[ "${CODES[*]}" = "401 401 401 401 401 429" ] || fail "the per-account limit of 5 through the balancer answered ${CODES[*]} (answered by: ${SERVED[*]})"
printf '%s\n' "${SERVED[@]}" | grep -qx a && printf '%s\n' "${SERVED[@]}" | grep -qx b || fail "both instances should have answered (${SERVED[*]})"
ok "the rate limits hold for the pair: the sixth attempt is 429 (answered by: ${SERVED[*]})"
echo "two-instances: all checks passed"
