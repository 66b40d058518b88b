#!/bin/sh
# SPDX-License-Identifier: MIT
# `punchlab slurm --submit` on a real Slurm: a one-node cluster (Debian's
# munge, slurmctld and slurmd) configured in a temporary directory, ports off
# the defaults. It starts only what is not running already (a munged that
# answers on the default socket is used as it is) and stops exactly what it
# started, by pid, also after a failure. The smoke suite in 3 shards: the
# merge job's file has the cells and trial counts of the suite; with shard 2
# made to fail, the merge job still runs, names shard 2, merges the others
# and marks the file incomplete; shard 2 run again and merged again is whole.
# A shard stopped by SIGTERM (as at its time limit) writes its results, marked
# interrupted; one whose punchlab is killed is named with its trials file,
# resumed and merged again. Labs are built by the jobs: run it alone, under
# the lab lock.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
for p in munged munge slurmctld slurmd sbatch squeue scontrol scancel; do
	command -v "$p" > /dev/null || skip_all "no $p: scripts/deps.sh installs Slurm and munge"
done

# Who submits, and so whose the tasks are (Slurm runs them as the submitter;
# it is created if missing): an unprivileged user, so the shards' runs are
# rootless (docs/scale.md); PUNCHLAB_SLURM_USER=root tries it as root.
RUN_AS=${PUNCHLAB_SLURM_USER:-pltest}

t=$(mktemp -d /tmp/plslurm.XXXXXX)
chmod 755 "$t"
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$t"'
# what the tasks run must be reachable by RUN_AS, wherever the tree was
# cloned: the binary (ASan's runtime is a system library), the suite and its
# topologies, copied where every user can read them
mkdir "$t/bin"
cp "$PL" "$t/bin/punchlab"
cp -r "$SRC/experiments" "$SRC/topologies" "$t/"
PL=$t/bin/punchlab
smoke=$t/experiments/smoke.json
suite_cells=3

# ---- the cluster ----

started="" # pids of what this test started, for stop_started
ctld=""	   # of them, slurmctld's
# stop_started: the jobs still in the cluster cancelled (a run that gets
# SIGTERM takes its labs down itself), then SIGTERM to each daemon this test
# started, up to 10 s for it to go, then SIGKILL; nothing else is touched
stop_started() {
	if [ -n "$ctld" ] && kill -0 "$ctld" 2> /dev/null; then
		squeue -h -o %A 2> /dev/null | sort -u | xargs -r scancel 2> /dev/null || :
		wait_empty 30
	fi
	for p in $started; do kill "$p" 2> /dev/null || :; done
	for p in $started; do
		i=0
		while kill -0 "$p" 2> /dev/null && [ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$p" 2> /dev/null || :
	done
}
at_exit stop_started

if munge -n 2> /dev/null | unmunge > /dev/null 2>&1; then
	auth_info="" # the machine's munged, as it is
	note "munged already runs: using it"
else
	mkdir -m 700 "$t/munge"
	mkdir -m 755 "$t/msock"
	dd if=/dev/urandom of="$t/munge/key" bs=128 count=1 2> /dev/null
	chmod 400 "$t/munge/key"
	munged -F --key-file="$t/munge/key" --socket="$t/msock/sock" --pid-file="$t/munge/pid" \
		--log-file="$t/munge/log" --seed-file="$t/munge/seed" > "$t/munge/out" 2>&1 &
	started="$started $!"
	auth_info="AuthInfo=socket=$t/msock/sock"
fi

base=$((20000 + ($$ % 5000) * 2))
cpus=$(nproc)
mkdir "$t/state" "$t/spool" "$t/log"
cat > "$t/slurm.conf" << EOF
ClusterName=pl$$
SlurmctldHost=localhost
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
AuthType=auth/munge
$auth_info
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
KillWait=10
MinJobAge=600
StateSaveLocation=$t/state
SlurmdSpoolDir=$t/spool
SlurmctldPidFile=$t/slurmctld.pid
SlurmdPidFile=$t/slurmd.pid
SlurmctldLogFile=$t/log/slurmctld.log
SlurmdLogFile=$t/log/slurmd.log
ReturnToService=2
NodeName=localhost CPUs=$cpus RealMemory=500 State=UNKNOWN
PartitionName=pl Nodes=localhost Default=YES MaxTime=30 State=UP
EOF
chmod 644 "$t/slurm.conf"
export SLURM_CONF="$t/slurm.conf"

slurmctld -D -i > "$t/log/slurmctld.out" 2>&1 &
ctld=$!
started="$started $!"
slurmd -D > "$t/log/slurmd.out" 2>&1 &
started="$started $!"

# wait_empty SECONDS: until the cluster holds no job
wait_empty() {
	i=0
	while [ -n "$(squeue -h -o %A 2> /dev/null)" ] && [ "$i" -lt "$(($1 * 2))" ]; do
		sleep 0.5
		i=$((i + 1))
	done
}
node_idle() {
	i=0
	until [ "$(sinfo -h -n localhost -o %t 2> /dev/null)" = idle ]; do
		i=$((i + 1))
		[ "$i" -lt 60 ] || { sinfo; tail -20 "$t/log/slurmctld.log" "$t/log/slurmd.log"; return 1; }
		sleep 0.5
	done
}

# ---- the user who submits ----

# as_user CMD...: CMD as RUN_AS. sbatch passes the submitter's environment
# to the tasks: XDG_RUNTIME_DIR is the user's /run/user/UID, as a login
# session on a cluster's front end gives it, which need not exist on the
# node that runs a task (here no session of RUN_AS made it).
as_user() {
	if [ "$RUN_AS" = root ]; then
		"$@"
	else
		runuser -u "$RUN_AS" -- env SLURM_CONF="$SLURM_CONF" PATH="$PATH" \
			XDG_RUNTIME_DIR="/run/user/$(id -u "$RUN_AS")" "$@"
	fi
}
if [ "$RUN_AS" != root ]; then
	id "$RUN_AS" > /dev/null 2>&1 || useradd --create-home --shell /bin/sh "$RUN_AS"
fi
mkdir "$t/work"
chown "$RUN_AS" "$t/work"
# the shards run rootless with the fallback runtime directory (no
# XDG_RUNTIME_DIR of RUN_AS exists here): removed afterwards if this test
# made it (docs/scale.md)
rt_dir=/tmp/punchlab-$(id -u "$RUN_AS")
if [ "$RUN_AS" != root ] && [ ! -e "$rt_dir" ]; then
	# shellcheck disable=SC2016 # expanded at exit
	at_exit 'rm -rf "$rt_dir"'
fi

# ---- the checks' helpers ----

# job_state ID: "STATE EXIT" of a job, e.g. "COMPLETED 0:0"
job_state() {
	scontrol show job -o "$1" | tr ' ' '\n' | sed -n 's/^JobState=//p;s/^ExitCode=//p' | paste -sd' '
}
# wait_job ID: until the job has ended (up to 240 s)
wait_job() {
	i=0
	while :; do
		case $(job_state "$1") in
		PENDING* | RUNNING* | CONFIGURING* | COMPLETING* | "") ;;
		*) return 0 ;;
		esac
		i=$((i + 1))
		[ "$i" -lt 480 ] || return 1
		sleep 0.5
	done
}
# what a one-machine run of the suite has: its cells' ids, each with the suite's trials
"$PL" run "$smoke" --dry-run | awk 'length($1) == 12 && $1 ~ /^[0-9a-f]+$/ { print $1 }' |
	sort > "$t/ids"
trials=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["trials"])' "$smoke")

# merged_ok MERGED MISSING IDS: the file validates, holds the cells of IDS
# (a file of ids) with TRIALS trials each and no other, and its "incomplete"
# names the shards of MISSING ("" for a whole merge)
merged_ok() {
	python3 - "$1" "$2" "$3" "$trials" "$suite_cells" "$SRC/docs/results.schema.json" \
		"$SRC/tests" << 'PY'
import sys
sys.path.insert(0, sys.argv[7])
from plresults import validate
merged, missing, ids, trials, ncells = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
r = validate(merged, sys.argv[6])
want = sorted(open(ids).read().split())
got = sorted(c["id"] for c in r["cells"])
assert got == want, (got, want)
for c in r["cells"]:
    assert c["trials"] == trials, c
per = {}
for t in r["trials"]:
    per.setdefault(t["cell"], set()).add(t["trial"])
assert all(per[i] == set(range(trials)) for i in want), per
assert sorted(per) == want, per
inc = r["metadata"].get("incomplete")
if not missing:
    assert inc is None, inc
else:
    miss = [int(k) for k in missing.split()]
    assert inc == {"shards": 3, "missing_shards": miss, "interrupted_shards": [],
                   "cells_without_trials": ncells - len(want)}, inc
assert "shard" not in r["metadata"], r["metadata"]
assert len(r["metadata"]["merged_from"]) == 3 - len(missing.split()), r["metadata"]["merged_from"]
PY
}
# the lines of a shard's dry run: its cells' ids
shard_ids() { # K OUT
	"$PL" run "$smoke" --dry-run --shard "$1/3" |
		awk 'length($1) == 12 && $1 ~ /^[0-9a-f]+$/ { print $1 }' > "$2"
}
only() { # DIR GLOB: the one file of DIR matching GLOB
	set -- "$1"/$2
	[ $# = 1 ] && [ -f "$1" ] || { echo "not one file: $*" >&2; return 1; }
	echo "$1"
}
# the labs of runs (r<pid>-...) the submitting user has, as punchlab lists them
labs() { as_user "$PL" topo ls | awk 'NR > 1 && $1 ~ /^r[0-9]+-/ { print $1 }'; }
labs > "$t/labs-before"
# new_labs: namespaces of runs that were not there before the test
new_labs() { labs | grep -vxF -f "$t/labs-before" || :; }

plan 32
check "the one-node cluster is up: localhost idle" node_idle
check "$RUN_AS can run this punchlab (its build directory must be readable by $RUN_AS)" \
	as_user "$PL" --version

# ---- the whole suite in 3 shards ----

# a name that needs quoting in the scripts, for the shell and for #SBATCH
out="$t/work/who le'\"%x"
submit_whole() {
	as_user "$PL" slurm "$smoke" --shards 3 --submit -o "$out" > "$t/submit.out"
	sed -n 's/^array job \([0-9]*\):.*/\1/p' "$t/submit.out" > "$t/array"
	sed -n 's/^merge job \([0-9]*\):.*/\1/p' "$t/submit.out" > "$t/merge"
	[ -s "$t/array" ] && [ -s "$t/merge" ]
}
check "punchlab slurm --shards 3 --submit as $RUN_AS prints the array's and the merge's job ids" \
	submit_whole
array=$(cat "$t/array" 2> /dev/null || :)
merge=$(cat "$t/merge" 2> /dev/null || :)
check "the merge job ends" wait_job "$merge"
merge_completed() { [ "$(job_state "$merge")" = "COMPLETED 0:0" ]; }
check "the merge job completed, exit 0" merge_completed
# field VALUE of job ID: "StartTime" -> 2026-11-26T01:02:03
job_field() { scontrol show job -o "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# afterany: the merge started once every task of the array had ended
merge_after_tasks() {
	start=$(job_field "$merge" StartTime)
	for k in 1 2 3; do
		end=$(job_field "${array}_$k" EndTime)
		echo "task $k ended $end, merge started $start"
		[ "$(job_state "${array}_$k")" = "COMPLETED 0:0" ]
		[ "$(date -d "$start" +%s)" -ge "$(date -d "$end" +%s)" ]
	done
}
check "the merge job started after every task of the array had ended" merge_after_tasks
note "array job $array, merge job $merge: $(job_state "$merge")"
tasks_as_user() {
	for k in 1 2 3; do
		f=$(only "$out/shard-$k" '*.json')
		[ "$(stat -c %U "$f")" = "$RUN_AS" ]
		grep -q "\"shard\": *\"$k/3\"" "$f"
	done
}
check "each task ran its shard K/3 as $RUN_AS into DIR/shard-K" tasks_as_user
merged=$(only "$out/merged" '*.json' 2> /dev/null || echo "$out/merged/none")
check "the merged file has the suite's cells, by id, with its trials each, and is whole" \
	merged_ok "$merged" "" "$t/ids"
table_same() {
	"$PL" table "$merged" > "$t/table"
	cmp "$t/table" "$out/table.txt"
}
check "DIR/table.txt is the merged file's table" table_same
check_absent "a whole merge's table is not marked incomplete" "INCOMPLETE" cat "$out/table.txt"

# ---- shard 2 fails: DIR/shard-2 is a file, so its run cannot write ----

out2=$t/work/fail
submit_failing() {
	as_user "$PL" slurm "$smoke" --shards 3 -o "$out2" > "$t/cmd" 2> "$t/cmd.err"
	as_user touch "$out2/shard-2"
	# the command punchlab slurm printed, as a user would paste it
	as_user sh -c "$(cat "$t/cmd")" > "$t/submit2.out"
	sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' "$t/submit2.out" > "$t/merge2"
	[ -s "$t/merge2" ]
}
check "the printed command submits the array and the merge" submit_failing
merge2=$(cat "$t/merge2" 2> /dev/null || :)
check "the merge job ends after a failed shard" wait_job "$merge2"
check "the merge job ran and exited 1: a shard failed" \
	sh -c "scontrol show job -o '$merge2' | grep -q 'JobState=FAILED .*ExitCode=1:0'"
names_shard2() {
	cat "$out2/logs/merge.out" "$out2/logs/shard-2.out"
	grep -qF "punchlab slurm: shard 2/3 failed: exit status 1, no results; its log: $out2/logs/shard-2.out" \
		"$out2/logs/merge.out"
}
check "the merge job's output names shard 2, its exit status and its log" names_shard2
check_absent "no other shard is named" "shard [13]/3 failed" cat "$out2/logs/merge.out"
shard_ids 1 "$t/ids13"
shard_ids 3 "$t/ids3"
cat "$t/ids3" >> "$t/ids13"
merged2=$(only "$out2/merged" '*.json' 2> /dev/null || echo "$out2/merged/none")
check "the others are merged: shards 1 and 3's cells, whole, marked incomplete: shard 2 missing" \
	merged_ok "$merged2" "2" "$t/ids13"
check "the table starts with INCOMPLETE and names shard 2" \
	grep -qx "INCOMPLETE: shard 2 of 3 missing: 1 of 3 cells without trials" "$out2/table.txt"
check "the merge named shard 2 on stderr too" grep -q "^punchlab merge: incomplete: shard 2 of 3 missing" \
	"$out2/logs/merge.out"

# ---- shard 2 run again, as docs/scale.md says: --array=K, then the merge ----

rerun_shard2() {
	as_user rm "$out2/shard-2"
	as_user sbatch --parsable --array=2 "$out2/shards.sbatch" > "$t/rerun"
	wait_job "$(cut -d';' -f1 "$t/rerun")_2"
	as_user sbatch --parsable "$out2/merge.sbatch" > "$t/remerge"
	m3=$(cut -d';' -f1 "$t/remerge")
	wait_job "$m3"
	[ "$(job_state "$m3")" = "COMPLETED 0:0" ]
}
check "shard 2 run again (sbatch --array=2) and merged again: the merge job exits 0" rerun_shard2
newest=$(ls -t "$out2"/merged/*.json | head -n 1)
check "the new merge is whole: the suite's cells and trials" merged_ok "$newest" "" "$t/ids"
check_absent "its table is not marked incomplete" "INCOMPLETE" cat "$out2/table.txt"

# ---- a shard stopped mid-run as at its time limit: SIGTERM to its batch shell ----

out3=$t/work/cancel
# trials_in FILE: how many trials a trials file holds so far
trials_in() { [ -f "$1" ] && echo $(($(wc -l < "$1") - 1)) || echo 0; }
cancel_shard1() {
	as_user "$PL" slurm "$smoke" --shards 3 --trials 12 --submit -o "$out3" > "$t/submit3.out"
	sed -n 's/^array job \([0-9]*\):.*/\1/p' "$t/submit3.out" > "$t/array3"
	a3=$(cat "$t/array3")
	sed -n 's/^merge job \([0-9]*\):.*/\1/p' "$t/submit3.out" > "$t/merge3"
	i=0
	# once shard 1 has a trial on disk, and long before its 12th
	until [ "$(trials_in "$(ls "$out3"/shard-1/*.trials.ndjson 2> /dev/null | head -n 1)")" -ge 1 ]; do
		i=$((i + 1))
		[ "$i" -lt 240 ] || return 1
		sleep 0.25
	done
	# what #SBATCH --signal=B:TERM@120 sends before the time limit
	as_user scancel --batch --signal=TERM "${a3}_1"
	wait_job "$(cat "$t/merge3")"
}
check "shard 1 gets SIGTERM once it has a trial on disk; the merge job ends" cancel_shard1
merge3=$(cat "$t/merge3" 2> /dev/null || :)
a3=$(cat "$t/array3" 2> /dev/null || :)
interrupted_named() {
	cat "$out3/logs/merge.out" "$out3/logs/shard-1.out"
	grep -qF "punchlab slurm: shard 1/3 failed: exit status 130, its results so far merged" \
		"$out3/logs/merge.out"
	[ "$(job_state "$merge3")" = "FAILED 1:0" ]
	echo "shard 1's task: $(job_state "${a3}_1")"
	job_state "${a3}_1" | grep -q " 130:0$"
}
check "the stopped shard wrote its results, exit 130, and the merge names it" interrupted_named
interrupted_marked() {
	python3 - "$(ls -t "$out3"/merged/*.json | head -n 1)" "$SRC/tests" << 'PY'
import sys
sys.path.insert(0, sys.argv[2])
from plresults import load
r = load(sys.argv[1])
inc = r["metadata"]["incomplete"]
assert inc["interrupted_shards"] == [1] and inc["missing_shards"] == [], inc
assert r["metadata"]["interrupted"] is True, r["metadata"]
n = sum(c["trials"] for c in r["cells"])
assert 2 * 12 < n < 3 * 12, n  # shards 2 and 3 whole, shard 1 cut short
PY
}
check "the merged file lists shard 1 under interrupted_shards, with its trials so far" interrupted_marked
check "the table says shard 1 was interrupted" grep -q "^INCOMPLETE: shard 1 interrupted" "$out3/table.txt"

# ---- a shard's punchlab killed (SIGKILL): no results but its trials file; its
# labs left; resumed, merged whole ----

out4=$t/work/kill
# first_trial: until shard 1 of OUT4 has a trial on disk
first_trial() {
	i=0
	until [ "$(trials_in "$(ls "$out4"/shard-1/*.trials.ndjson 2> /dev/null | head -n 1)")" -ge 1 ]; do
		i=$((i + 1))
		[ "$i" -lt 240 ] || return 1
		sleep 0.25
	done
}
kill_shard1() {
	as_user "$PL" slurm "$smoke" --shards 3 --trials 12 --submit -o "$out4" > "$t/submit4.out"
	a4=$(sed -n 's/^array job \([0-9]*\):.*/\1/p' "$t/submit4.out")
	sed -n 's/^merge job \([0-9]*\):.*/\1/p' "$t/submit4.out" > "$t/merge4"
	first_trial
	# the task's punchlab, by its exact command line (an OOM kill, say)
	pid=$(ps -eo pid=,args= | awk -v want="$PL run $smoke --shard 1/3 -o $out4/shard-1 --quiet --trials 12" \
		'{ p = $1; sub(/^ *[0-9]+ /, ""); if ($0 == want) print p }')
	[ -n "$pid" ] && [ "$(echo "$pid" | wc -l)" = 1 ]
	kill -KILL "$pid"
	wait_job "$(cat "$t/merge4")"
}
check "shard 1 gets SIGKILL once it has a trial on disk; the merge job ends" kill_shard1
killed_named() {
	cat "$out4/logs/merge.out"
	f=$(only "$out4/shard-1" '*.trials.ndjson')
	grep -qF "punchlab slurm: shard 1/3 failed: exit status 137, no results but a killed run's trials (punchlab run --resume $f)" \
		"$out4/logs/merge.out"
}
check "the merge job names the killed shard and the trials file to resume" killed_named
# what the SIGKILL left of shard 1's run: its labs, taken down with cleanup by name
new_labs > "$t/killed-labs"
note "labs the SIGKILL left: $(paste -sd' ' "$t/killed-labs")"
resume_merge() {
	[ ! -s "$t/killed-labs" ] || as_user "$PL" cleanup $(cat "$t/killed-labs") > /dev/null
	f=$(only "$out4/shard-1" '*.trials.ndjson')
	as_user "$PL" run "$smoke" --shard 1/3 --trials 12 --resume "$f" -o "$out4/shard-1" --quiet
	as_user sbatch --parsable "$out4/merge.sbatch" > "$t/merge5"
	m5=$(cut -d';' -f1 "$t/merge5")
	wait_job "$m5"
	[ "$(job_state "$m5")" = "COMPLETED 0:0" ]
}
check "shard 1 resumed from its trials file and merged again: the merge job exits 0" resume_merge
whole12() {
	python3 - "$(ls -t "$out4"/merged/*.json | head -n 1)" "$SRC/tests" << 'PY'
import sys
sys.path.insert(0, sys.argv[2])
from plresults import load
r = load(sys.argv[1])
assert "incomplete" not in r["metadata"], r["metadata"]["incomplete"]
assert sorted(c["trials"] for c in r["cells"]) == [12, 12, 12], r["cells"]
PY
}
check "the new merge is whole: 3 cells of 12 trials" whole12

# ---- nothing left ----

check_absent "no lab of the runs is left" "." new_labs
mkdir "$t/fake"
touch "$t/fake/r99999-0-x"
check_rc 1 "the check sees a leftover" absent "." sh -c "ls '$t/fake' | grep -vxF -f '$t/labs-before'"
stopped() {
	stop_started
	for p in $started; do
		if kill -0 "$p" 2> /dev/null; then
			echo "still running: $p"
			return 1
		fi
	done
}
check "the daemons this test started are gone, by pid" stopped
