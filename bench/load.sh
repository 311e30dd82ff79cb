#!/usr/bin/env bash
# Load comparison: the gateway (valid session cookie) against a bare
# httputil.ReverseProxy with no auth, in front of the same upstream, in one
# run; then revocation propagation between two replicas.
#
#   bench/load.sh            # 10 s per run
#   DURATION=30s bench/load.sh
#
# Servers run pinned to CPU 0 and wrk to CPU 1 (taskset) so they do not
# fight over a core. Installs wrk and redis-server with apt-get if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
DURATION=${DURATION:-10s}
HEAVY=${HEAVY:-32}      # connections for the throughput run
MODERATE=${MODERATE:-4} # connections for the latency run
ROUNDS=${ROUNDS:-3}     # alternating bare/gateway rounds per load; the median is reported

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v redis-server >/dev/null || need+=(redis-server)
if ((${#need[@]})); then
	echo "installing ${need[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
PIN_SERVER=() PIN_LOAD=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	PIN_SERVER=(taskset -c 0) PIN_LOAD=(taskset -c 1)
fi

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/loadrig" ./bench/loadrig

port=
for p in $(shuf -i 20000-60000 -n 50); do
	if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "no free port" >&2; exit 1; }
"${PIN_SERVER[@]}" redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$tmp" --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
REDIS="redis://127.0.0.1:$port/0"

GOMAXPROCS=1 "${PIN_SERVER[@]}" "$tmp/loadrig" -redis "$REDIS" >"$tmp/rig.json" 2>"$tmp/rig.log" &
pids+=($!)
for _ in $(seq 200); do [ -s "$tmp/rig.json" ] && break; sleep 0.05; done
[ -s "$tmp/rig.json" ] || { cat "$tmp/rig.log" >&2; exit 1; }
field() { sed -E "s/.*\"$1\":\"([^\"]*)\".*/\1/" "$tmp/rig.json"; }
BARE=$(field bare) GATEWAY=$(field gateway) COOKIE=$(field cookie) UPSTREAM=$(field upstream)

# Sanity: the gateway proxies with the cookie and refuses without it.
curl -fsS -o /dev/null -H "Cookie: $COOKIE" "$GATEWAY/api" || { echo "gateway refused the load cookie" >&2; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' "$GATEWAY/api")
[ "$code" = 401 ] || { echo "gateway without cookie answered $code, want 401" >&2; exit 1; }

redis_calls() { redis-cli -p "$port" info commandstats | awk -F'[=,:]' '/^cmdstat_/ && $1 !~ /cmdstat_info/ {s+=$3} END {print s+0}'; }
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.3f", v}'; }

# run NAME URL CONNS [header] -> prints "rps p50ms p99ms requests"
run() {
	local out
	if [ -n "${4:-}" ]; then
		out=$("${PIN_LOAD[@]}" wrk -t1 -c"$3" -d"$DURATION" --latency -H "$4" "$2/api")
	else
		out=$("${PIN_LOAD[@]}" wrk -t1 -c"$3" -d"$DURATION" --latency "$2/api")
	fi
	if echo "$out" | grep -q "Non-2xx"; then echo "$1: non-2xx answers during load" >&2; echo "$out" >&2; exit 1; fi
	local rps p50 p99 n
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1=="50%" {print $2}' | to_ms)
	p99=$(echo "$out" | awk '$1=="99%" {print $2}' | to_ms)
	n=$(echo "$out" | awk '/requests in/ {print $1}')
	echo "$rps $p50 $p99 $n"
}

echo "warming up…"
"${PIN_LOAD[@]}" wrk -t1 -c"$HEAVY" -d2s "$BARE/api" >/dev/null
"${PIN_LOAD[@]}" wrk -t1 -c"$HEAVY" -d2s -H "Cookie: $COOKIE" "$GATEWAY/api" >/dev/null

printf "\n%-9s %-5s %12s %10s %10s\n" target conns req/s p50_ms p99_ms
declare -A R
gw_requests=0 gw_calls=0
for conns in "$HEAVY" "$MODERATE"; do
	for round in $(seq "$ROUNDS"); do
		read -r rps p50 p99 _ < <(run bare "$BARE" "$conns")
		printf "%-9s %-5s %12s %10s %10s\n" bare "$conns" "$rps" "$p50" "$p99"
		R[bare_$conns]="${R[bare_$conns]:-} $rps:$p50:$p99"
		before=$(redis_calls)
		read -r rps p50 p99 n < <(run gateway "$GATEWAY" "$conns" "Cookie: $COOKIE")
		after=$(redis_calls)
		gw_requests=$((gw_requests + n)) gw_calls=$((gw_calls + after - before))
		printf "%-9s %-5s %12s %10s %10s\n" gateway "$conns" "$rps" "$p50" "$p99"
		R[gw_$conns]="${R[gw_$conns]:-} $rps:$p50:$p99"
	done
done

# Going direct to the upstream, for reference (no proxy at all).
read -r d_rps d_p50 d_p99 _ < <(run direct "$UPSTREAM" "$MODERATE")
printf "%-9s %-5s %12s %10s %10s\n" direct "$MODERATE" "$d_rps" "$d_p50" "$d_p99"

# median of field f over the rounds (robust to one noisy round)
mean() { echo "$1" | tr ' ' '\n' | awk -F: -v f="$2" 'NF {print $f}' | sort -g | awk '{v[NR]=$1} END {if (NR%2) printf "%.3f", v[(NR+1)/2]; else printf "%.3f", (v[NR/2]+v[NR/2+1])/2}'; }
echo
echo "summary (median of $ROUNDS alternating rounds each, same run, servers on one core, wrk on the other):"
for conns in "$HEAVY" "$MODERATE"; do
	b_rps=$(mean "${R[bare_$conns]}" 1) g_rps=$(mean "${R[gw_$conns]}" 1)
	b_p99=$(mean "${R[bare_$conns]}" 3) g_p99=$(mean "${R[gw_$conns]}" 3)
	b_p50=$(mean "${R[bare_$conns]}" 2) g_p50=$(mean "${R[gw_$conns]}" 2)
	awk -v c="$conns" -v br="$b_rps" -v gr="$g_rps" -v b50="$b_p50" -v g50="$g_p50" -v b99="$b_p99" -v g99="$g_p99" 'BEGIN {
		printf "  %2d connections: throughput gateway/bare = %.3f (%.0f vs %.0f req/s); p50 added %.3f ms; p99 added %.3f ms\n", c, gr/br, gr, br, g50-b50, g99-b99 }'
done
awk -v c="$MODERATE" -v r="$d_rps" -v p50="$d_p50" -v p99="$d_p99" -v g50="$(mean "${R[gw_$MODERATE]}" 2)" -v g99="$(mean "${R[gw_$MODERATE]}" 3)" 'BEGIN {
	printf "  going direct to the upstream (%d connections): %.0f req/s, p50 %.3f ms, p99 %.3f ms; the gateway adds p50 %.3f ms, p99 %.3f ms\n", c, r, p50, p99, g50-p50, g99-p99 }'
awk -v c="$gw_calls" -v n="$gw_requests" 'BEGIN { printf "  redis commands per proxied request: %.5f (%d commands over %d requests)\n", (n ? c/n : 0), c, n }'
echo "  targets: throughput ratio >= 0.90, p99 added <= 0.2 ms at moderate load, ~0 redis commands per request"

echo
kill "${pids[1]}" 2>/dev/null || true
"${PIN_SERVER[@]}" "$tmp/loadrig" -redis "$REDIS" -propagation 100 2>>"$tmp/rig.log" || { cat "$tmp/rig.log" >&2; exit 1; }
echo
"${PIN_SERVER[@]}" "$tmp/loadrig" -redis "$REDIS" -signins 20 2>>"$tmp/rig.log" || { cat "$tmp/rig.log" >&2; exit 1; }
