#!/bin/sh
# SPDX-License-Identifier: MIT
# SIGKILL of `punchlab run` at several points (early, while building, while
# the trials run), then `punchlab cleanup`: no namespace, state, helper or
# half-written results file of the run is left. And SIGTERM is as orderly as
# SIGINT: the results so far are written.
set -eu
PL=$1 SRC=$2
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "1..2"
n=0
for wait in 0.02 0.15 0.6 1.5 3; do
	n=$((n + 1))
	mkdir "$out/$n"
	"$PL" run "$SRC/experiments/smoke.json" --trials 10 -j 3 -o "$out/$n" --quiet >/dev/null 2>&1 &
	pid=$!
	sleep "$wait"
	kill -KILL $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	tag="r$((pid % 100000))-"
	# a killed run leaves its labs; cleanup takes every lab nobody owns
	for l in $(ls /run/punchlab 2>/dev/null | grep "^$tag" || true); do
		"$PL" cleanup "$l" >/dev/null
	done
	if ls /run/netns 2>/dev/null | grep -q "^pl-$tag"; then
		echo "not ok 1 - killed after ${wait}s: namespaces left: $(ls /run/netns | grep "^pl-$tag")"
		exit 1
	fi
	if ls /run/punchlab 2>/dev/null | grep -q "^$tag"; then
		echo "not ok 1 - killed after ${wait}s: state left"
		exit 1
	fi
	# a results file is either whole or absent (a killed run writes none)
	for f in "$out/$n"/*.json; do
		[ -e "$f" ] || continue
		python3 -c "import json, sys; json.load(open(sys.argv[1]))" "$f" \
			|| { echo "not ok 1 - killed after ${wait}s: half-written $f"; exit 1; }
	done
done
echo "ok 1 - SIGKILL at 5 points, then cleanup: nothing of the run is left"

mkdir "$out/term"
"$PL" run "$SRC/experiments/smoke.json" --trials 6 -o "$out/term" --quiet >/dev/null 2>&1 &
pid=$!
sleep 2
kill -TERM $pid
rc=0
wait $pid || rc=$?
f=$(ls "$out"/term/smoke-*.json)
python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert r['metadata']['interrupted'] and r['trials'], r['metadata']" "$f"
[ "$rc" = 130 ]
! ls /run/netns 2>/dev/null | grep -q "^pl-r$((pid % 100000))-"
echo "ok 2 - SIGTERM writes the results so far and takes the labs down"
