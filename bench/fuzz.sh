#!/usr/bin/env bash
# Runs every Go fuzz target in the repository, one after another, each for
# the given time, and prints per target how long it ran, how many inputs it
# tried and whether it found a failure.
#
#   bench/fuzz.sh              # 1m per target
#   bench/fuzz.sh 10m          # 10 minutes per target
#   bench/fuzz.sh 30s FuzzCleanRedirect FuzzLoad   # only these targets
#   FUZZ_PARALLEL=2 bench/fuzz.sh 5m               # workers per target (default 1)
#
# A failure leaves its input under <package>/testdata/fuzz/<target>/: commit
# it with the fix, and `go test ./...` replays it from then on (the seed
# corpora in the f.Add calls run there too, so CI runs them on every change).
# Inputs that only widened coverage stay in Go's cache (go env GOCACHE).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
time=${1:-1m}
shift || true
parallel=${FUZZ_PARALLEL:-1}
logdir=$(mktemp -d)

# "package target" for each func Fuzz… in a _test.go file.
mapfile -t targets < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
	for t in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do echo "./$(dirname "${f#./}") $t"; done
done)
if (($#)); then
	want=" $* "
	mapfile -t targets < <(for pt in "${targets[@]}"; do [[ $want == *" ${pt#* } "* ]] && echo "$pt"; done)
fi
((${#targets[@]})) || { echo "no fuzz targets found" >&2; exit 1; }

summary=()
failed=0
for pt in "${targets[@]}"; do
	pkg=${pt% *} target=${pt#* }
	log=$logdir/$target.log
	echo "== $target ($pkg) for $time, $parallel worker(s), started $(date -u +%H:%M:%S)"
	start=$(date +%s)
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" -parallel "$parallel" "$pkg" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	corpus=$(grep -o 'total: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	if ((rc == 0)); then
		result="no failure"
	else
		failed=1
		result="FAILED: $(grep -m1 -E 'Failing input written to|--- FAIL|panic:' "$log" || echo "see log")"
		tail -30 "$log"
	fi
	line=$(printf '%-26s %6ss %12s execs %6s corpus  %s' "$target" "$secs" "${execs:-?}" "${corpus:-?}" "$result")
	echo "$line"
	summary+=("$line")
done
echo
echo "== summary (fuzz time $time per target; logs in $logdir)"
printf '%s\n' "${summary[@]}"
exit $failed
