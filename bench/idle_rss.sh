#!/usr/bin/env bash
# Resident memory of an idle gateway, over several fresh starts: each start
# is the real binary (built as the Dockerfile builds it) against a real
# redis-server, read 2 s after /readyz answers. Prints each start's VmRSS
# and its split, then the median and range, in MiB (kB / 1024, as
# bench/load.sh prints them).
#
#   bench/idle_rss.sh          # 10 starts
#   STARTS=20 bench/idle_rss.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
STARTS=${STARTS:-10}
for c in redis-server redis-cli curl python3; do command -v "$c" >/dev/null || { echo "idle_rss.sh needs $c" >&2; exit 1; }; done
. bench/lib.sh

build "$tmp/gateway" ./cmd/gateway
rport=$(free_port)
"${PIN_SERVER[@]}" redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --dir "$tmp" --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done

: >"$tmp/rss"
for i in $(seq "$STARTS"); do
	gport=$(free_port) oport=$(free_port)
	env GATEWAY_LISTEN="127.0.0.1:$gport" GATEWAY_OPS_LISTEN="127.0.0.1:$oport" \
		GATEWAY_UPSTREAM="http://127.0.0.1:1" GATEWAY_REDIS_URL="redis://127.0.0.1:$rport/0" \
		GATEWAY_SECRET="$(head -c 32 /dev/urandom | base64)" GATEWAY_COOKIE_SECURE=false GATEWAY_LOG_LEVEL=warn \
		"${PIN_SERVER[@]}" "$tmp/gateway" serve >"$tmp/gateway.log" 2>&1 &
	gw=$!
	for _ in $(seq 200); do curl -fs -o /dev/null "http://127.0.0.1:$oport/readyz" && break; sleep 0.05; done
	curl -fs -o /dev/null "http://127.0.0.1:$oport/readyz" || { echo "gateway did not become ready:" >&2; cat "$tmp/gateway.log" >&2; exit 1; }
	sleep 2
	printf 'start %2d: %s MiB (%s)\n' "$i" "$(rss_mb "$gw")" "$(rss_split "$gw")"
	awk '/^VmRSS/ {print $2}' "/proc/$gw/status" >>"$tmp/rss"
	kill "$gw"
	wait "$gw" 2>/dev/null || true
done
sort -n "$tmp/rss" | awk -v n="$STARTS" '{v[NR]=$1} END {
	m = (n % 2) ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2
	c = 0; for (i = 1; i <= n; i++) if (v[i] <= 20480) c++
	printf "idle resident memory over %d starts: median %.2f MiB [%.2f-%.2f]; %d at or under 20 MiB\n", n, m/1024, v[1]/1024, v[n]/1024, c }'
