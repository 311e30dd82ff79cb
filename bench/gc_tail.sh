#!/usr/bin/env bash
# Tail latency against garbage-collector settings: the bare proxy and one
# gateway process per setting (each its own process, one shared redis and
# upstream), driven in interleaved rounds at a moderate load, so every
# setting is compared with the bare proxy in the same minute.
#
#   bench/gc_tail.sh                                   # GOGC=100, GOGC=400, collector off
#   VARIANTS="g100:GOGC=100 g200:GOGC=200" bench/gc_tail.sh
#   ROUNDS=9 DURATION=10s CONNS=4 bench/gc_tail.sh
#
# A variant is NAME:VAR=VALUE[,VAR=VALUE…]; "off" runs with GOGC=off and a
# 2 GiB GOMEMLIMIT, so no collection happens during the rounds (a
# diagnostic, not a setting to run with). Servers run on CPU 0 and wrk on
# CPU 1 (taskset) where there are two CPUs. Needs wrk, redis-server, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
VARIANTS=${VARIANTS:-"gogc100:GOGC=100 gogc400:GOGC=400 off:GOGC=off,GOMEMLIMIT=2GiB"}
ROUNDS=${ROUNDS:-7}
DURATION=${DURATION:-8s}
CONNS=${CONNS:-4}
for c in wrk redis-server curl python3; do command -v "$c" >/dev/null || { echo "gc_tail.sh needs $c" >&2; exit 1; }; done
. bench/lib.sh

echo "building…"
build "$tmp/gateway" ./cmd/gateway
build "$tmp/bareproxy" ./bench/bareproxy
build "$tmp/upstream" ./bench/upstream

rport=$(free_port)
"${PIN_SERVER[@]}" redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --dir "$tmp" --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
REDIS="redis://127.0.0.1:$rport/0"
"${PIN_SERVER[@]}" "$tmp/upstream" -listen 127.0.0.1:0 >"$tmp/upstream.addr" 2>"$tmp/upstream.log" &
pids+=($!)
wait_file "$tmp/upstream.addr" "$tmp/upstream.log"
UPSTREAM=$(cat "$tmp/upstream.addr")
"${PIN_SERVER[@]}" "$tmp/bareproxy" -listen 127.0.0.1:0 -upstream "$UPSTREAM" >"$tmp/bare.addr" 2>"$tmp/bare.log" &
pids+=($!)
wait_file "$tmp/bare.addr" "$tmp/bare.log"

declare -A URL
URL[bare]=$(cat "$tmp/bare.addr")
names=(bare)
SECRET=$(head -c 32 /dev/urandom | base64)
PASSWORD="load test password 1234"
printf '%s\n' "$PASSWORD" | env GATEWAY_REDIS_URL="$REDIS" "$tmp/gateway" users add loaduser \
	--email loaduser@example.com --role user --password-stdin >/dev/null
COOKIE=""
for v in $VARIANTS; do
	name=${v%%:*} settings=${v#*:}
	gport=$(free_port) oport=$(free_port)
	# shellcheck disable=SC2086 # settings split on purpose
	env ${settings//,/ } GATEWAY_LISTEN="127.0.0.1:$gport" GATEWAY_OPS_LISTEN="127.0.0.1:$oport" \
		GATEWAY_UPSTREAM="$UPSTREAM" GATEWAY_REDIS_URL="$REDIS" GATEWAY_SECRET="$SECRET" GATEWAY_COOKIE_SECURE=false \
		GATEWAY_LOG_LEVEL=warn GATEWAY_RATE_LIMIT_PER_SESSION=1000000/s GATEWAY_RATE_LIMIT_SESSION_BURST=1000000 \
		"${PIN_SERVER[@]}" "$tmp/gateway" serve >"$tmp/gateway.$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 200); do curl -fs -o /dev/null "http://127.0.0.1:$oport/readyz" && break; sleep 0.05; done
	curl -fs -o /dev/null "http://127.0.0.1:$oport/readyz" || { echo "gateway $name did not start:" >&2; cat "$tmp/gateway.$name.log" >&2; exit 1; }
	URL[$name]="http://127.0.0.1:$gport"
	names+=("$name")
	if [ -z "$COOKIE" ]; then # one session, valid on every replica (same secret, same redis)
		COOKIE=$(curl -s -o /dev/null -D - --data-urlencode username=loaduser --data-urlencode "password=$PASSWORD" \
			"${URL[$name]}/.gateway/login" | tr -d '\r' | awk -F'[ ;]' 'tolower($1)=="set-cookie:" && $2 ~ /^gateway_session=/ {print $2}')
		[ -n "$COOKIE" ] || { echo "sign-in gave no session cookie" >&2; exit 1; }
	fi
done
for n in "${names[@]}"; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" "${URL[$n]}/api")
	[ "$code" = 200 ] || { echo "$n answered $code with the cookie" >&2; exit 1; }
	"${PIN_LOAD[@]}" wrk -t1 -c"$CONNS" -d2s -H "Cookie: $COOKIE" "${URL[$n]}/api" >/dev/null
done

printf "%-10s %-5s %10s %8s %8s\n" target round req/s p50_ms p99_ms
: >"$tmp/rounds"
k=${#names[@]}
for r in $(seq "$ROUNDS"); do
	for i in $(seq 0 $((k - 1))); do
		n=${names[$(((i + r) % k))]}
		out=$("${PIN_LOAD[@]}" wrk -t1 -c"$CONNS" -d"$DURATION" --latency -H "Cookie: $COOKIE" "${URL[$n]}/api")
		if echo "$out" | grep -q Non-2xx; then echo "$n: non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
		rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
		p50=$(echo "$out" | awk '$1=="50%" {print $2}' | to_ms)
		p99=$(echo "$out" | awk '$1=="99%" {print $2}' | to_ms)
		printf "%-10s %-5s %10s %8s %8s\n" "$n" "$r" "$rps" "$p50" "$p99"
		echo "$n $r $rps $p50 $p99" >>"$tmp/rounds"
	done
done

echo
echo "summary at $CONNS connections: median over $ROUNDS interleaved rounds of $DURATION [range]; p99 added is per round against the bare proxy"
python3 - "$tmp/rounds" "${names[@]}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
bare = {r[1]: float(r[4]) for r in rows if r[0] == "bare"}
for name in sys.argv[2:]:
    rs = [r for r in rows if r[0] == name]
    p50 = [float(r[3]) for r in rs]
    p99 = [float(r[4]) for r in rs]
    added = [float(r[4]) - bare[r[1]] for r in rs]
    print(f"  {name:10s} {statistics.median([float(r[2]) for r in rs]):8.0f} req/s, p50 {statistics.median(p50):.3f} ms, "
          f"p99 {statistics.median(p99):.3f} ms [{min(p99):.3f}–{max(p99):.3f}], "
          f"p99 added {statistics.median(added):+.3f} ms [{min(added):+.3f}–{max(added):+.3f}]")
PY
