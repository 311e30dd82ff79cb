# Shared by the bench scripts (sourced, not run): CPU pinning, a temporary
# directory whose processes are stopped on exit, static builds, free ports,
# start-up waits and wrk's latency units.

# Servers on CPU 0 and the load generator on CPU 1, where there are two.
PIN_SERVER=() PIN_LOAD=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	PIN_SERVER=(taskset -c 0) PIN_LOAD=(taskset -c 1)
fi

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# Built as the Dockerfile builds the gateway (static, no cgo, no symbol
# tables), the reference programs the same way so they compare like for
# like: a cgo build maps libc too, about 1.5 MB more resident memory in each.
build() { CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$@"; }

# free_port: a loopback port nothing is bound to (the kernel picks it, so
# it is also free of outgoing connections' ports).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_file FILE LOG: until a server has printed its address
wait_file() {
	for _ in $(seq 200); do [ -s "$1" ] && return; sleep 0.05; done
	echo "server did not start:" >&2
	cat "$2" >&2
	exit 1
}

# to_ms: one of wrk's latencies (850.00us, 1.20ms, 2.00s) in milliseconds
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.3f", v}'; }

# rss_mb PID: resident memory in MiB (VmRSS, in kB, / 1024); the scripts
# print it as "MB".
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# rss_split PID -> "anonymous MB + file MB": the process's own memory, and
# the pages of its executable (and libraries) that are mapped, which the
# page cache holds once for every process running the same binary.
rss_split() { awk '/^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {printf "%.1f anonymous + %.1f file", a / 1024, f / 1024}' "/proc/$1/status"; }
