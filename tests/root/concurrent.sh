#!/bin/sh
# SPDX-License-Identifier: MIT
# Two `punchlab run -j 8` at once on a machine where /run/netns does not exist
# yet, as after a boot: 2 processes x 8 threads race to prepare it. It must be
# mounted exactly once (pthread_once in a process, flock across processes),
# every lab must come up and go down, and both runs must be whole.
# Runs in a private mount namespace with a fresh tmpfs on /run, so the host's
# /run/netns is neither needed nor touched; mount(2) is slowed with strace
# (when installed) to widen the window the race needs.
set -eu
PL=$1 SRC=$2
# into a private mount namespace first: tap.sh's files and exit trap belong
# to the process that stays (an exec after sourcing it left its directory)
if [ "$(id -u)" = 0 ] && [ -z "${PL_PRIVATE_RUN:-}" ]; then
	exec unshare --mount --propagation private -- env PL_PRIVATE_RUN=1 sh "$0" "$@"
fi
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
mount -t tmpfs punchlab-test /run
mount --make-shared /run # as systemd leaves it
out=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit '"$PL" cleanup --force >/dev/null 2>&1; rm -rf "$out"'

slow=""
if command -v strace >/dev/null; then
	slow="strace -f -qq -o /dev/null -e trace=mount -e inject=mount:delay_exit=100000"
	# LeakSanitizer cannot run under ptrace
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	export ASAN_OPTIONS
else
	note "strace is not installed: the race runs at its natural speed"
fi

# every cell of the suite in the run's summaries (as many as its dry run lists)
ncells=$("$PL" run --dry-run "$SRC/experiments/traces.json" | sed -n '1s/^.*: \([0-9]*\) cells .*$/\1/p')
all_cells() { # RESULTS
	python3 - "$1" "$SRC/tests" "$ncells" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from plresults import load
r = load(sys.argv[1])
want = int(sys.argv[3])
assert len(r["cells"]) == r["suite"]["cells"] == want, (len(r["cells"]), r["suite"]["cells"], want)
assert not r["metadata"]["interrupted"]
PY
}
# mounts at /run/netns itself (stacked ones too), made after our tmpfs /run
# (the host's, copied into this mount namespace, lies hidden under it)
# the mounts at /run/netns on our /run, stacked ones too: by their parents
# (field 2), not by comparing ids, which the kernel reuses (the lowest free
# one), so that a bind made after /run can have a smaller id than /run's
netns_mounts() { # [MOUNTINFO]
	awk '$5 == "/run" { run = $1 } $5 == "/run/netns" { parent[$1] = $2 }
	     END { for (i in parent) { p = parent[i]; k = 0
		     while ((p in parent) && k++ < 100) p = parent[p]
		     n += p == run }
		   print n + 0 }' "${1:-/proc/self/mountinfo}"
}
# a namespace bind-mounted more than once
twice() {
	awk '$5 ~ "^/run/netns/" { print $5 }' /proc/self/mountinfo | sort | uniq -d
}

both_whole() {
	for d in "$out/a" "$out/b"; do
		set -- "$d"/traces-*.json
		[ $# = 1 ] || { echo "results files in $d: $*"; return 1; }
		all_cells "$1"
	done
}

plan 8
mkdir "$out/a" "$out/b"
# shellcheck disable=SC2086
$slow "$PL" run "$SRC/experiments/traces.json" -j 8 --trials 1 -o "$out/a" --quiet 2> "$out/a.err" &
pa=$!
# shellcheck disable=SC2086
$slow "$PL" run "$SRC/experiments/traces.json" -j 8 --trials 1 -o "$out/b" --quiet 2> "$out/b.err" &
pb=$!
dup="" waited=0
while kill -0 $pa 2>/dev/null || kill -0 $pb 2>/dev/null; do
	dup="$dup$(twice)"
	sleep 0.2
	waited=$((waited + 1))
	if [ $waited = 600 ]; then # 2 minutes: a mount storm never ends
		note "still running after 120 s: stopped, with $(netns_mounts) mounts at /run/netns"
		kill -KILL $pa $pb 2>/dev/null || true
	fi
done
ra=0 rb=0
wait $pa || ra=$?
wait $pb || rb=$?
check_status 0 "the first run -j 8 succeeds" "$ra" "$out/a.err"
check_status 0 "the second run -j 8, side by side, succeeds" "$rb" "$out/b.err"
check "/run/netns is mounted exactly once" test "$(netns_mounts)" = 1
# the count on fake mount tables: a bind with an id below /run's is ours too,
# a mount stacked on it is a second one
printf '65 45 254:0 /run/netns /run/netns\n72 45 0:39 / /run\n60 72 0:39 /netns /run/netns\n' >"$out/mi1"
printf '72 45 0:39 / /run\n73 72 0:39 /netns /run/netns\n74 73 0:39 /netns /run/netns\n' >"$out/mi2"
check "the count takes a /run/netns whose id is below /run's" test "$(netns_mounts "$out/mi1")" = 1
check "the count sees a /run/netns mounted twice" test "$(netns_mounts "$out/mi2")" = 2
check "no namespace was ever bind-mounted twice" test -z "$dup"
check "both runs are whole: one results file each, every cell of the suite ($ncells) in it" both_whole
check_absent "no namespace or lab state is left" . find /run/netns /run/punchlab -mindepth 1
