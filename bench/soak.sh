#!/usr/bin/env bash
# Soak: two replicas of the real gateway binary on one real redis-server,
# 200 signed-in sessions (50 users × 4) under steady proxied load, while a
# driver revokes sessions, signs people out everywhere and changes their
# passwords through the real API, one action a second. Every revoked cookie
# is tried on both replicas once the revocation bound (100 ms, the
# propagation target in the design) has passed, and any acceptance after it
# is counted: it must be 0. RSS and goroutines of both replicas are read
# from /metrics every 10 s and reported (start, end, max).
#
#   bench/soak.sh            # 10 minutes
#   bench/soak.sh 2m         # shorter
#   SOAK_RATE=2000 SOAK_ACTION_EVERY=500ms bench/soak.sh 10m
#
# Exits non-zero when a revoked cookie was accepted after the bound.
# Installs redis-server with apt-get if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
duration=${1:-10m}
if ! command -v redis-server >/dev/null; then
	echo "installing redis-server"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/gateway" ./cmd/gateway
go build -o "$tmp/soakrig" ./bench/soakrig
exec "$tmp/soakrig" -gateway "$tmp/gateway" -duration "$duration" \
	-rate "${SOAK_RATE:-1000}" -action-every "${SOAK_ACTION_EVERY:-1s}" -bound "${SOAK_BOUND:-100ms}" \
	-users "${SOAK_USERS:-50}" -sessions-per-user "${SOAK_SESSIONS_PER_USER:-4}"
