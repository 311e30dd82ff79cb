#!/usr/bin/env bash
# Load comparison, each server in a process of its own:
#
#   bare     bench/bareproxy: httputil.ReverseProxy, no auth, upstream idle
#            pool sized like the gateway's (256 per host)
#   gateway  the real gateway binary with a real redis-server, a user created
#            with `gateway users add` and a session cookie from a real sign-in
#   nginx    nginx proxy_pass with a keepalive upstream pool (native code: the
#            limit an operator could pick instead)
#
# all in front of the same upstream (bench/upstream), also its own process.
# Servers run on CPU 0 and wrk on CPU 1 (taskset) where there are two CPUs.
# Rounds are interleaved (bare, gateway, nginx, rotating the order), at 32
# and at 4 connections; the summary gives medians over rounds and the range.
#
#   bench/load.sh                          # 5 rounds of 10 s per target and load
#   ROUNDS=7 DURATION=20s bench/load.sh
#   PROFILE=/tmp/prof bench/load.sh        # also CPU and heap profiles of the gateway under load
#   EXTRAS=0 bench/load.sh                 # skip propagation and sign-in timing
#   GW_GOGC=200 bench/load.sh              # GOGC (and GW_GOMEMLIMIT) for the gateway process only
#   GW_ACCESS_LOG=1 bench/load.sh          # with log.access on (lines go to a file in the temp dir)
#   ASSERTION=1 bench/load.sh              # with the signed identity header on (assertion.enabled)
#
# Installs wrk, redis-server and nginx-light with apt-get if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
DURATION=${DURATION:-10s}
HEAVY=${HEAVY:-32}      # connections for the throughput load
MODERATE=${MODERATE:-4} # connections for the latency load
ROUNDS=${ROUNDS:-5}     # interleaved rounds per load; medians are reported
EXTRAS=${EXTRAS:-1}     # also revocation propagation and sign-in timing
PROFILE=${PROFILE:-}    # directory for gateway profiles under load (optional)

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v redis-server >/dev/null || need+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v python3 >/dev/null || need+=(python3-minimal) # free ports (bench/lib.sh)
if ((${#need[@]})); then
	echo "installing ${need[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
. bench/lib.sh
HZ=$(getconf CLK_TCK)

echo "building…"
build "$tmp/gateway" ./cmd/gateway
build "$tmp/bareproxy" ./bench/bareproxy
build "$tmp/upstream" ./bench/upstream
build "$tmp/loadrig" ./bench/loadrig

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# redis-server on a free port, nothing on disk
rport=$(free_port)
"${PIN_SERVER[@]}" redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --dir "$tmp" --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
REDIS="redis://127.0.0.1:$rport/0"

# the upstream app
"${PIN_SERVER[@]}" "$tmp/upstream" -listen "127.0.0.1:$(free_port)" >"$tmp/upstream.addr" 2>"$tmp/upstream.log" &
UP_PID=$!
pids+=($UP_PID)
wait_file "$tmp/upstream.addr" "$tmp/upstream.log"
UPSTREAM=$(cat "$tmp/upstream.addr")

# the bare proxy
"${PIN_SERVER[@]}" "$tmp/bareproxy" -listen "127.0.0.1:$(free_port)" -upstream "$UPSTREAM" >"$tmp/bare.addr" 2>"$tmp/bare.log" &
BARE_PID=$!
pids+=($BARE_PID)
wait_file "$tmp/bare.addr" "$tmp/bare.log"
BARE=$(cat "$tmp/bare.addr")

# nginx with a keepalive pool to the upstream
nport=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    upstream app {
        server ${UPSTREAM#http://};
        keepalive 256;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$nport;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
        }
    }
}
EOF
"${PIN_SERVER[@]}" "$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" 2>"$tmp/nginx.log" &
NGINX_PID=$!
pids+=($NGINX_PID)
NGINXURL="http://127.0.0.1:$nport"

# the gateway: the real binary, configured through its environment
gport=$(free_port) oport=$(free_port)
GW_ENV=(
	GATEWAY_LISTEN="127.0.0.1:$gport" GATEWAY_OPS_LISTEN="127.0.0.1:$oport"
	GATEWAY_UPSTREAM="$UPSTREAM" GATEWAY_REDIS_URL="$REDIS"
	GATEWAY_SECRET="$(head -c 32 /dev/urandom | base64)" GATEWAY_COOKIE_SECURE=false
	GATEWAY_LOG_LEVEL=warn
	# The per-session limiter stays on, so its cost is measured, but high
	# enough that one session driven by wrk is never refused.
	GATEWAY_RATE_LIMIT_PER_SESSION=1000000/s GATEWAY_RATE_LIMIT_SESSION_BURST=1000000
)
[ -n "$PROFILE" ] && GW_ENV+=(GATEWAY_OPS_PPROF=true)
[ "${GW_ACCESS_LOG:-0}" = 1 ] && GW_ENV+=(GATEWAY_LOG_ACCESS=true)
[ "${ASSERTION:-0}" = 1 ] && GW_ENV+=(GATEWAY_ASSERTION_ENABLED=true)
[ -n "${GW_GOGC:-}" ] && GW_ENV+=(GOGC="$GW_GOGC")
[ -n "${GW_GOMEMLIMIT:-}" ] && GW_ENV+=(GOMEMLIMIT="$GW_GOMEMLIMIT")
env "${GW_ENV[@]}" "${PIN_SERVER[@]}" "$tmp/gateway" serve >"$tmp/gateway.log" 2>&1 &
GW_PID=$!
pids+=($GW_PID)
GATEWAY="http://127.0.0.1:$gport"
OPS="http://127.0.0.1:$oport"
for _ in $(seq 200); do curl -fs -o /dev/null "$OPS/readyz" && break; sleep 0.05; done
curl -fs -o /dev/null "$OPS/readyz" || { echo "gateway did not become ready:" >&2; cat "$tmp/gateway.log" >&2; exit 1; }
for _ in $(seq 100); do curl -s -o /dev/null "$NGINXURL/" && break; sleep 0.05; done

sleep 2 # let start-up garbage go before reading resident memory
declare -A RSS
RSS[gw_start]=$(rss_mb $GW_PID) RSS[bare_start]=$(rss_mb $BARE_PID) RSS[nginx_start]=$(rss_mb $NGINX_PID)
RSS[gw_start_split]=$(rss_split $GW_PID) RSS[bare_start_split]=$(rss_split $BARE_PID)

# a user and a real sign-in (password form, production argon2id parameters)
PASSWORD="load test password 1234"
printf '%s\n' "$PASSWORD" | env GATEWAY_REDIS_URL="$REDIS" "$tmp/gateway" users add loaduser \
	--email loaduser@example.com --role user --password-stdin >/dev/null
COOKIE=$(curl -s -o /dev/null -D - --data-urlencode username=loaduser --data-urlencode "password=$PASSWORD" \
	"$GATEWAY/.gateway/login" | tr -d '\r' | awk -F'[ ;]' 'tolower($1)=="set-cookie:" && $2 ~ /^gateway_session=/ {print $2}')
[ -n "$COOKIE" ] || { echo "sign-in gave no session cookie" >&2; cat "$tmp/gateway.log" >&2; exit 1; }
HDR="Cookie: $COOKIE"

# Sanity: every target answers 200 with the cookie; the gateway refuses without it.
for u in "$BARE" "$GATEWAY" "$NGINXURL"; do
	curl -fsS -o /dev/null -H "$HDR" "$u/api" || { echo "$u refused the load request" >&2; exit 1; }
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$GATEWAY/api")
[ "$code" = 401 ] || { echo "gateway without cookie answered $code, want 401" >&2; exit 1; }
if [ "${ASSERTION:-0}" = 1 ]; then
	curl -fsS "$GATEWAY/.gateway/.well-known/jwks.json" | grep -q '"kid"' ||
		{ echo "ASSERTION=1 but the gateway publishes no signing key" >&2; exit 1; }
fi
sleep 5
RSS[gw_signedin]=$(rss_mb $GW_PID)

redis_calls() { redis-cli -p "$rport" info commandstats | awk -F'[=,:]' '/^cmdstat_/ && $1 !~ /cmdstat_info/ {s+=$3} END {print s+0}'; }

# run URL CONNS PID -> "rps p50ms p99ms requests cpu_us_per_req upstream_cpu_us_per_req"
run() {
	local out c0 u0 c1 u1
	c0=$(cpu_ticks "$3") u0=$(cpu_ticks $UP_PID)
	out=$("${PIN_LOAD[@]}" wrk -t1 -c"$2" -d"$DURATION" --latency -H "$HDR" "$1/api")
	c1=$(cpu_ticks "$3") u1=$(cpu_ticks $UP_PID)
	if echo "$out" | grep -q "Non-2xx"; then echo "$1: non-2xx answers during load" >&2; echo "$out" >&2; exit 1; fi
	local rps p50 p99 n
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1=="50%" {print $2}' | to_ms)
	p99=$(echo "$out" | awk '$1=="99%" {print $2}' | to_ms)
	n=$(echo "$out" | awk '/requests in/ {print $1}')
	awk -v rps="$rps" -v p50="$p50" -v p99="$p99" -v n="$n" -v c="$((c1 - c0))" -v u="$((u1 - u0))" -v hz="$HZ" \
		'BEGIN {printf "%s %s %s %d %.1f %.1f\n", rps, p50, p99, n, c*1e6/hz/n, u*1e6/hz/n}'
}

echo "gateway $(git describe --always --dirty 2>/dev/null || echo '(no git)'); extra settings: ${GW_ENV[*]:9}"
echo "warming up…"
for u in "$BARE" "$GATEWAY" "$NGINXURL"; do "${PIN_LOAD[@]}" wrk -t1 -c"$HEAVY" -d2s -H "$HDR" "$u/api" >/dev/null; done

declare -A URL PID R
URL[bare]=$BARE URL[gateway]=$GATEWAY URL[nginx]=$NGINXURL
PID[bare]=$BARE_PID PID[gateway]=$GW_PID PID[nginx]=$NGINX_PID
targets=(bare gateway nginx)
gw_requests=0 gw_calls=0
printf "\n%-8s %-5s %-5s %10s %8s %8s %12s %12s\n" target conns round req/s p50_ms p99_ms cpu_us/req upstr_us/req
for conns in "$HEAVY" "$MODERATE"; do
	for round in $(seq "$ROUNDS"); do
		for i in 0 1 2; do
			t=${targets[$(((i + round) % 3))]}
			before=$(redis_calls)
			read -r rps p50 p99 n cpu ucpu < <(run "${URL[$t]}" "$conns" "${PID[$t]}")
			after=$(redis_calls)
			if [ "$t" = gateway ]; then gw_requests=$((gw_requests + n)) gw_calls=$((gw_calls + after - before)); fi
			printf "%-8s %-5s %-5s %10s %8s %8s %12s %12s\n" "$t" "$conns" "$round" "$rps" "$p50" "$p99" "$cpu" "$ucpu"
			R[${t}_${conns}_$round]="$rps $p50 $p99 $cpu"
		done
	done
done
for t in "${targets[@]}"; do RSS[${t}_load]=$(rss_mb "${PID[$t]}"); done

# Going direct to the upstream, for reference (no proxy at all).
read -r d_rps d_p50 d_p99 _ < <(run "$UPSTREAM" "$MODERATE" $UP_PID)

# stats LIST -> "median min max"
stats() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{v[NR]=$1} END {m = (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.3f %.3f %.3f", m, v[1], v[NR]}'; }
# field TARGET CONNS N -> that field of every round
field() { local r; for r in $(seq "$ROUNDS"); do awk -v f="$3" '{printf "%s ", $f}' <<<"${R[${1}_${2}_$r]}"; done; }
# versus A B CONNS N OP -> per-round B/A (OP=ratio) or B-A (OP=diff) of field N
versus() {
	local r a b out=""
	for r in $(seq "$ROUNDS"); do
		a=$(echo "${R[${1}_${3}_$r]}" | awk -v f="$4" '{print $f}') b=$(echo "${R[${2}_${3}_$r]}" | awk -v f="$4" '{print $f}')
		out+="$(awk -v a="$a" -v b="$b" -v op="$5" 'BEGIN {printf "%.4f", op == "ratio" ? b/a : b-a}') "
	done
	echo "$out"
}
fmt() { awk -v s="$1" -v d="$2" 'BEGIN {split(s, v, " "); printf "%." d "f [%." d "f–%." d "f]", v[1], v[2], v[3]}'; }

echo
echo "summary: median over $ROUNDS interleaved rounds of $DURATION [range], each server its own process"
[ ${#PIN_SERVER[@]} -gt 0 ] && echo "(servers and redis on CPU 0, wrk on CPU 1)"
for conns in "$HEAVY" "$MODERATE"; do
	echo
	echo "  $conns connections:"
	for t in "${targets[@]}"; do
		printf "    %-8s %s req/s, p50 %s ms, p99 %s ms, CPU %s µs/request\n" "$t" \
			"$(fmt "$(stats "$(field $t "$conns" 1)")" 0)" "$(fmt "$(stats "$(field $t "$conns" 2)")" 3)" \
			"$(fmt "$(stats "$(field $t "$conns" 3)")" 3)" "$(fmt "$(stats "$(field $t "$conns" 4)")" 1)"
	done
	for pair in "bare gateway" "bare nginx" "nginx gateway"; do
		set -- $pair
		printf "    %-16s throughput %s, CPU/request %s, p50 added %s ms, p99 added %s ms\n" "$2/$1:" \
			"$(fmt "$(stats "$(versus $1 $2 "$conns" 1 ratio)")" 3)" "$(fmt "$(stats "$(versus $1 $2 "$conns" 4 ratio)")" 2)" \
			"$(fmt "$(stats "$(versus $1 $2 "$conns" 2 diff)")" 3)" "$(fmt "$(stats "$(versus $1 $2 "$conns" 3 diff)")" 3)"
	done
done
echo
printf "  direct to the upstream (%s connections): %s req/s, p50 %s ms, p99 %s ms\n" "$MODERATE" "$d_rps" "$d_p50" "$d_p99"
awk -v c="$gw_calls" -v n="$gw_requests" 'BEGIN { printf "  redis commands per proxied request: %.5f (%d commands over %d requests)\n", (n ? c/n : 0), c, n }'
sleep 5
RSS[gw_after]=$(rss_mb $GW_PID)
echo "  resident memory (MB): gateway ${RSS[gw_start]} idle after start-up, ${RSS[gw_signedin]} after the sign-in, ${RSS[gateway_load]} at the end of the load, ${RSS[gw_after]} 5 s later;"
echo "                        bare proxy ${RSS[bare_start]} idle, ${RSS[bare_load]} after the load; nginx ${RSS[nginx_start]} idle, ${RSS[nginx_load]} after the load"
echo "                        idle after start-up, split: gateway ${RSS[gw_start_split]}, bare proxy ${RSS[bare_start_split]}"
echo "  targets: gateway/bare throughput >= 0.95 at $HEAVY connections, CPU/request <= 1.10, p99 added <= 0.2 ms at $MODERATE, idle RSS <= 20 MB, ~0 redis commands per request"

if [ -n "$PROFILE" ]; then
	mkdir -p "$PROFILE"
	echo
	echo "profiling the gateway under load ($HEAVY connections, 15 s) into $PROFILE"
	"${PIN_LOAD[@]}" wrk -t1 -c"$HEAVY" -d20s -H "$HDR" "$GATEWAY/api" >/dev/null &
	wrkpid=$!
	sleep 2
	curl -fsS -o "$PROFILE/gateway-cpu.pprof" "$OPS/debug/pprof/profile?seconds=15"
	curl -fsS -o "$PROFILE/gateway-allocs.pprof" "$OPS/debug/pprof/allocs"
	curl -fsS -o "$PROFILE/gateway-heap.pprof" "$OPS/debug/pprof/heap?gc=1"
	wait $wrkpid
	echo "  go tool pprof -top $PROFILE/gateway-cpu.pprof"
fi

if [ "$EXTRAS" = 1 ]; then
	echo
	"${PIN_SERVER[@]}" "$tmp/loadrig" -redis "$REDIS" -propagation 100 2>>"$tmp/rig.log" || { cat "$tmp/rig.log" >&2; exit 1; }
	echo
	"${PIN_SERVER[@]}" "$tmp/loadrig" -redis "$REDIS" -signins 20 2>>"$tmp/rig.log" || { cat "$tmp/rig.log" >&2; exit 1; }
fi
