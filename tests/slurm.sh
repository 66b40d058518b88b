#!/bin/sh
# SPDX-License-Identifier: MIT
# `punchlab slurm` without a cluster: the scripts it writes (absolute,
# quoted paths; one task per shard, --shard K/N as `run` takes it; a merge
# after any end of the array), the command it prints, and each bad input
# refused with a clear error before anything is submitted. No lab is built,
# no job submitted: tests/root/slurm.sh does that on a real one-node Slurm.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
tmp=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$tmp"'
smoke=$SRC/experiments/smoke.json
# a directory name that needs quoting in a shell and in an #SBATCH line
odd="$tmp/o d'd\"%a\$x"

# the scripts name the shards 1..N, the binary, the suite and DIR by their
# absolute paths, and the merge expects N shards
scripts_written() {
	(cd "$tmp" && "$PL" slurm ../"$(basename "$tmp")"/../"$(basename "$tmp")"/s.json \
		--shards 2 -o "$odd" --partition p1,p2 --time 1-00:30 --trials 5 -j 2) \
		> "$tmp/cmd" 2> "$tmp/err"
	s=$odd/shards.sbatch m=$odd/merge.sbatch
	grep -qx '#SBATCH --array=1-2' "$s"
	grep -qx '#SBATCH --partition=p1,p2' "$s"
	grep -qx '#SBATCH --time=1-00:30' "$m"
	grep -qx '#SBATCH --cpus-per-task=2' "$s"
	# DIR's % doubled in the pattern, its quote escaped; the task's %a kept
	grep -qF "#SBATCH --output=\"$tmp/o d'd\\\"%%a\$x/logs/shard-%a.out\"" "$s"
	grep -qF "'$PL' run '$tmp/s.json' --shard \"\$k/2\" -o \"\$dir/shard-\$k\" --quiet --trials 5 -j 2" "$s"
	grep -qF 'merge --expect-shards "$n"' "$m"
	grep -qx 'n=2' "$m"
	sh -n "$s"
	sh -n "$m"
	[ -d "$odd/logs" ]
}
# the printed command is one shell line that names both scripts, the merge
# after any end of the array
command_printed() {
	sh -n "$tmp/cmd"
	grep -qF -- '--dependency=afterany:' "$tmp/cmd"
	# the shell reads the scripts' paths back as they are
	eval "set -- $(sed -n "s/^jid=\$(sbatch --parsable \(.*\)) && .*/\1/p" "$tmp/cmd")"
	[ "$1" = "$odd/shards.sbatch" ]
}
# the shards script's dir= line, read by sh, is DIR
dir_quoted() {
	eval "$(grep '^dir=' "$odd/shards.sbatch")"
	# shellcheck disable=SC2154 # set by the eval
	[ "$dir" = "$odd" ]
}
# as a user who cannot write DIR (root writes anywhere: the test drops to nobody)
unwritable() {
	mkdir "$tmp/ro"
	chmod 555 "$tmp/ro"
	chmod 755 "$tmp"
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups "$PL" slurm "$smoke" --shards 2 -o "$tmp/ro"
	else
		"$PL" slurm "$smoke" --shards 2 -o "$tmp/ro"
	fi
}

cp "$smoke" "$tmp/s.json"
sed -i "s|\"../topologies/|\"$SRC/topologies/|" "$tmp/s.json"

plan 16
check "slurm writes both scripts: array 1-N, absolute quoted paths, options passed on" scripts_written
check "the printed command parses and submits the merge afterany the array" command_printed
check "DIR is quoted for the shell" dir_quoted
check_refused 2 "--shards above the suite's cells is refused" \
	"--shards 4 is more than the 3 cells of $smoke: a shard would have none (at most 3)" \
	"$PL" slurm "$smoke" --shards 4 -o "$tmp/four"
check "nothing is written for a refused --shards" [ ! -e "$tmp/four" ]
check_refused 1 "--submit with no sbatch on PATH is refused" \
	"--submit runs sbatch, and there is none on PATH ($tmp/nopath)" \
	env PATH="$tmp/nopath" "$PL" slurm "$smoke" --shards 2 -o "$tmp/nosb" --submit
check "nothing is written without sbatch" [ ! -e "$tmp/nosb" ]
touch "$tmp/file"
check_refused 1 "-o a file is refused" "-o $tmp/file: not a directory" \
	"$PL" slurm "$smoke" --shards 2 -o "$tmp/file"
check_refused 1 "-o a directory that cannot be written is refused" \
	"cannot write in $tmp/ro: Permission denied" unwritable
check_refused 1 "-o a non-empty directory is refused (the merge would take old results)" \
	"is not empty" "$PL" slurm "$smoke" --shards 2 -o "$odd"
check_refused 1 "-o a path with a backslash is refused (sbatch would drop the log's pattern)" \
	"a path with a backslash or a control character cannot be named in an #SBATCH line" \
	"$PL" slurm "$smoke" --shards 2 -o "$tmp/a\\b"
check "nothing is made for it" [ ! -e "$tmp/a\\b" ]
check_refused 2 "--partition with a space is refused" "--partition wants a name" \
	"$PL" slurm "$smoke" --shards 2 -o "$tmp/p" --partition "a b"
check_refused 2 "--time that is no Slurm time is refused" "--time wants a Slurm time limit" \
	"$PL" slurm "$smoke" --shards 2 -o "$tmp/t" --time "1h"
check_refused 2 "--shards and -o are required" "needs --shards N and -o DIR" \
	"$PL" slurm "$smoke" --shards 2
check_refused 1 "a suite with an error is refused with FILE:LINE:COL" \
	"all-excluded.json:3:13: suite: no cells" \
	"$PL" slurm "$SRC/tests/data/bad-suites/all-excluded.json" --shards 1 -o "$tmp/bad"
