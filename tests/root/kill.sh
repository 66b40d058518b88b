#!/bin/sh
# SPDX-License-Identifier: MIT
# SIGKILL of `punchlab run` at several points (early, while building, while
# the trials run), then `punchlab cleanup`: no namespace, state, helper,
# process in the run's namespaces or half-written results file of the run is
# left. And SIGTERM is as orderly as SIGINT: the results so far are written
# and the labs taken down. Last, each "nothing left" check is shown to see a
# leftover, on fake listings.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
out=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$out"'

# The results format is read here only.
interrupted_so_far() { # DIR
	set -- "$1"/smoke-*.json
	[ $# = 1 ] || { echo "not one results file: $*"; return 1; }
	python3 - "$1" "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from plresults import load
r = load(sys.argv[1])
assert r["metadata"]["interrupted"] and r["trials"], r["metadata"]
PY
}
# a results file is either whole or absent (a killed run writes no RUN.json),
# and its trials file holds whole lines only: at most the trials in flight are lost
whole_or_absent() { # DIR
	for f in "$1"/*.json; do
		[ -e "$f" ] || continue
		python3 -c "import json, sys; json.load(open(sys.argv[1]))" "$f"
	done
	for f in "$1"/*.trials.ndjson; do
		[ -e "$f" ] || continue
		python3 -c "
import sys
sys.path.insert(0, sys.argv[2])
from plresults import read_trials
read_trials(sys.argv[1])" "$f" "$SRC/tests"
	done
}

# A run's labs are named r<pid>-<worker>-<cell>: TAG is r<pid>-.
# ns_inodes TAG: the inodes of the run's namespaces (what /proc/PID/ns/net shows)
ns_inodes() {
	for f in /run/netns/pl-"$1"*; do
		if [ -e "$f" ]; then stat -L -c %i "$f"; fi
	done
}
# hold_ns TAG: a process that holds the run's namespaces open (from outside
# them) until it is killed, its pid in $holder. The kernel hands a freed
# namespace's inode number to the next namespace made, at once: without the
# hold, a namespace that a test beside this one makes could take the number
# of one of the run's after it went, and its processes would pass for the
# run's leftovers.
hold_ns() {
	rm -f "$out/held"
	python3 -c '
import os, sys, time
held = [open(p) for p in sys.argv[2:] if os.path.exists(p)]
open(sys.argv[1], "w").close()
time.sleep(300)' "$out/held" /run/netns/pl-"$1"* &
	holder=$!
	i=0
	while [ ! -e "$out/held" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
release_ns() {
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	holder=""
}
# helpers_of TAG: "PID START" of each helper the run's labs recorded
helpers_of() {
	python3 - /run/punchlab/"$1"*/state.json <<'PY'
import json, sys
for p in sys.argv[1:]:
    try:
        st = json.load(open(p))
    except FileNotFoundError:  # no lab of the run: the glob stayed as it was
        continue
    for h in st.get("helpers", []):
        print(h["pid"], h["start"])
PY
}
# procs [PROC]: "PID START net:[INODE]" for every process; START is field 22
# of its stat, as the state records it (a reused pid has another); PROC is
# /proc, or a fake one
procs() {
	for d in "${1:-/proc}"/[0-9]*; do
		{ read -r st < "$d/stat" && ns=$(readlink "$d/ns/net"); } 2>/dev/null || continue
		set -f
		# shellcheck disable=SC2086 # fields 3... after the command name, which may hold spaces
		set -- ${st##*) }
		set +f
		echo "${d##*/} ${20} $ns"
	done
}
# the lines of procs for the helpers given as "PID START" lines
helper_pattern() {
	j=$(printf '%s' "$1" | paste -s -d '|' -)
	printf '^(%s) \n' "${j:-none}"
}
# the lines of procs for processes in the namespaces given as inode lines
netns_pattern() {
	j=$(printf '%s' "$1" | paste -s -d '|' -)
	printf ' net:\\[(%s)\\]$\n' "${j:-none}"
}
# the listing of the real /proc is right: it shows this very shell as it is
procs_sees_self() {
	got=$(procs | grep "^$$ ")
	want="$$ $(cut -d ' ' -f 22 /proc/$$/stat) $(readlink /proc/$$/ns/net)"
	[ "$got" = "$want" ] || { echo "procs says '$got', /proc '$want'"; return 1; }
}
cleanup_run() { # TAG
	for l in $(entries /run/punchlab | grep "^$1" || true); do
		"$PL" cleanup "$l"
	done
}
# if the test stops early: no run of it goes on, and none of its labs stays
pid="" tags="" holder=""
# shellcheck disable=SC2016 # expanded at exit
at_exit '[ -z "$pid" ] || kill -KILL "$pid"; [ -z "$holder" ] || kill "$holder"; for t in $tags; do cleanup_run "$t"; done'

plan $((5 * 7 + 6 + 6 + 6))
for wait in 0.02 0.15 0.6 1.5 3; do
	mkdir "$out/$wait"
	# 90 trials take longer than the last kill point: every kill hits a running run
	"$PL" run "$SRC/experiments/smoke.json" --trials 30 -j 3 -o "$out/$wait" --quiet >/dev/null 2>&1 &
	pid=$!
	tag="r$((pid % 100000))-"
	tags="$tags $tag"
	sleep "$wait"
	kill -KILL $pid
	rc=0
	wait $pid 2>/dev/null || rc=$?
	pid=""
	check_status 137 "SIGKILL after ${wait}s: the run was running" "$rc"
	# what the killed run left, before cleanup takes it
	hold_ns "$tag"
	inodes=$(ns_inodes "$tag") helpers=$(helpers_of "$tag")
	note "killed after ${wait}s: $(echo "$inodes" | grep -c .) namespaces, $(echo "$helpers" | grep -c .) helpers"
	# a killed run leaves its labs; cleanup takes every lab nobody owns
	check "SIGKILL after ${wait}s: cleanup of the run's labs" cleanup_run "$tag"
	check_absent "SIGKILL after ${wait}s: no namespace left" "^pl-$tag" entries /run/netns
	check_absent "SIGKILL after ${wait}s: no state left" "^$tag" entries /run/punchlab
	check_absent "SIGKILL after ${wait}s: no helper left" "$(helper_pattern "$helpers")" procs
	check_absent "SIGKILL after ${wait}s: no process left in the run's namespaces" \
		"$(netns_pattern "$inodes")" procs
	release_ns
	check "SIGKILL after ${wait}s: no half-written results file" whole_or_absent "$out/$wait"
done

mkdir "$out/term"
"$PL" run "$SRC/experiments/smoke.json" --trials 6 -o "$out/term" --quiet >/dev/null 2> "$out/term.err" &
pid=$!
tag="r$((pid % 100000))-"
tags="$tags $tag"
sleep 2
hold_ns "$tag"
inodes=$(ns_inodes "$tag") helpers=$(helpers_of "$tag")
kill -TERM $pid
rc=0
wait $pid || rc=$?
pid=""
check_status 130 "SIGTERM: punchlab run exits 130" "$rc" "$out/term.err"
check "SIGTERM writes the results so far, marked interrupted" interrupted_so_far "$out/term"
check_absent "SIGTERM takes the run's namespaces down" "^pl-$tag" entries /run/netns
check_absent "SIGTERM takes the run's state down" "^$tag" entries /run/punchlab
check_absent "SIGTERM ends the run's helpers" "$(helper_pattern "$helpers")" procs
check_absent "SIGTERM leaves no process in the run's namespaces" "$(netns_pattern "$inodes")" procs
release_ns

# SIGINT while `topo up` builds: the build stops where it is and removes
# what it made, instead of finishing the lab first. The 65 namespaces of
# max-lab are slowed to 0.1 s each with strace (mount(2) binds each one), so
# a whole build takes 6.5 s or more; the signal comes once a few namespaces
# exist, and the command must be gone well before the build could be whole.
if command -v strace >/dev/null; then
	lab="km$(($$ % 100000))"
	# LeakSanitizer cannot run under ptrace
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -o /dev/null -e trace=mount -e inject=mount:delay_exit=100000 \
		"$PL" topo up "$SRC/tests/data/max-lab.json" --name "$lab" >/dev/null 2> "$out/up.err" &
	spid=$!
	at_exit "\"$PL\" topo down --force $lab >/dev/null 2>&1 || true"
	made=0 i=0
	while [ "$made" -lt 5 ] && [ $i -lt 200 ]; do
		made=$(entries /run/netns | grep -c "^pl-$lab-" || true)
		sleep 0.05
		i=$((i + 1))
	done
	upid=$(pgrep -P "$spid" | head -n 1 || true)
	note "topo up: $made namespaces of 65 when SIGINT came"
	check "topo up was building when the signal came (some namespaces, not all)" \
		test "$made" -ge 5 -a "$made" -lt 65 -a -n "$upid"
	kill -INT "${upid:-$spid}"
	i=0
	while kill -0 "$spid" 2>/dev/null && [ $i -lt 40 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "SIGINT ends topo up within 4 s, not after the whole build" test $i -lt 40
	kill -KILL "$spid" 2>/dev/null || true
	rc=0
	wait "$spid" || rc=$?
	check_status 130 "SIGINT while building: topo up exits 130" "$rc" "$out/up.err"
	check "SIGINT while building: topo up says it was interrupted" \
		grep -q "interrupted while building lab $lab" "$out/up.err"
	check_absent "SIGINT while building: no namespace left" "^pl-$lab-" entries /run/netns
	check_absent "SIGINT while building: no state left" "^$lab\$" entries /run/punchlab
else
	for w in "was building" "ends within 4 s" "exits 130" "says it was interrupted" \
		"no namespace left" "no state left"; do
		skip "SIGINT while topo up builds: $w" "strace is not installed"
	done
fi

# The checks above see a leftover: the same listings and patterns on fake
# /run/netns, /run/punchlab and /proc holding one (a helper 4242 started at
# 777, in namespace 4026532999); and a reused pid is not the helper.
fake=$out/fake tag="r$(($$ % 100000))-"
mkdir -p "$fake/netns" "$fake/punchlab/${tag}0-1" "$fake/proc/4242/ns"
touch "$fake/netns/pl-${tag}0-1-nat-a"
printf '4242 (a) b) S %s 777 0\n' "1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0" > "$fake/proc/4242/stat"
ln -s "net:[4026532999]" "$fake/proc/4242/ns/net"
check_rc 1 "the namespace check sees a namespace left" absent "^pl-$tag" entries "$fake/netns"
check_rc 1 "the state check sees a state left" absent "^$tag" entries "$fake/punchlab"
check_rc 1 "the helper check sees a helper left" absent "$(helper_pattern "4242 777")" procs "$fake/proc"
check_rc 0 "the helper check does not take a reused pid for the helper" \
	absent "$(helper_pattern "4242 778")" procs "$fake/proc"
check_rc 1 "the namespace process check sees a process left" \
	absent "$(netns_pattern "1234
4026532999")" procs "$fake/proc"
check "procs lists this test's own process with its start time and namespace" procs_sees_self
