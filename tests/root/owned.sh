#!/bin/sh
# SPDX-License-Identifier: MIT
# `topo down` of a lab that a running `punchlab run` owns is refused, as
# cleanup refuses it. Taken anyway (--force), the run ends as interrupted:
# it writes the trials it has, and its metadata says why.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
out=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$out"'

# The results format is read here only.
interrupted_by_the_lab() { # DIR
	set -- "$1"/smoke-*.json
	[ $# = 1 ] || { echo "not one results file: $*"; return 1; }
	python3 - "$1" "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from plresults import load
md = load(sys.argv[1])["metadata"]
assert md["interrupted"], md
assert "was removed during the run" in md.get("interrupted_reason", ""), md
PY
}
# the name of the first lab of TAG that is up, within 10 s
lab_up_of() { # TAG
	i=0
	while [ $i -lt 200 ]; do
		for d in /run/punchlab/"$1"*; do
			if grep -qs '"status": "up"' "$d/state.json"; then
				echo "${d##*/}"
				return 0
			fi
		done
		sleep 0.05
		i=$((i + 1))
	done
	echo "no lab of $1 came up" >&2
	return 1
}
# waits up to 60 s for the run PID to end; its status in $rc
wait_run() { # PID
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
}
cleanup_run() { # TAG
	for l in $(entries /run/punchlab | grep "^$1" || true); do
		"$PL" cleanup "$l"
	done
}
pid="" tag=""
# shellcheck disable=SC2016 # expanded at exit
at_exit '[ -z "$pid" ] || kill -KILL "$pid"; [ -z "$tag" ] || cleanup_run "$tag"'

plan 7
# 3 cells of 100 trials: the run is still at its first cell when its lab goes
"$PL" run "$SRC/experiments/smoke.json" --trials 100 -o "$out" --quiet >/dev/null 2>"$out/run.err" &
pid=$!
tag="r$((pid % 100000))-"
lab=$(lab_up_of "$tag")
check_refused 1 "topo down refuses a lab the run owns" "is in use by process $pid" \
	"$PL" topo down "$lab"
check "the refused lab is whole" test -e "/run/netns/pl-$lab-server"
check "topo down --force takes it" "$PL" topo down --force "$lab"
wait_run "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
check_status 130 "the run ends as interrupted" "$rc" "$out/run.err"
check "its results say interrupted, and why" interrupted_by_the_lab "$out"
check_absent "no lab of the run is left" "^$tag" entries /run/punchlab
mkdir -p "$out/fake/${tag}0-1"
check_rc 1 "the check sees a leftover" absent "^$tag" entries "$out/fake"
