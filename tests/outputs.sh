#!/bin/sh
# SPDX-License-Identifier: MIT
# Output files and standard output (issue 16). `plot -o` replaces only a
# missing or regular file: never a device (/dev/full stays one), a
# directory, a fifo or a symlink; a link planted at the temporary name the
# old code used (FILE.tmp) is not followed; a write error is reported and
# leaves the target as it was. Every command whose stdout cannot be written
# (/dev/full) exits 1 and says so; a reader that goes away (| head -1) gets
# no message. Set OUTPUTS_DEV to a directory holding a `full` device to test
# another /dev/full (to run an old binary without harming the real one).
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
fx=$SRC/tests/data/results/fixture.json
big=$SRC/results/reference/paper-fig2-20261125T230516Z.json
full=${OUTPUTS_DEV:-/dev}/full
tmp=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$tmp"'
[ -c "$full" ] || bail "$full is not a character device"
# a binary that still renames over the device must not leave the machine
# without /dev/full
# shellcheck disable=SC2016 # expanded at exit
at_exit '[ -c "$full" ] || { rm -f "$full" && mknod -m 666 "$full" c 1 7; } || true'

plot() { # OUT: a heat map of the fixture to OUT
	"$PL" plot "$fx" -o "$1"
}
is_chardev() { test -c "$1"; }
same() { # FILE TEXT: FILE holds TEXT exactly
	printf '%s\n' "$2" | cmp - "$1"
}
is_svg() { head -c 200 "$1" | grep -q '<svg'; }
# no file of the test's directory but those named
only() { # DIR NAME...
	d=$1
	shift
	want=$(printf '%s\n' "$@" | sort)
	got=$(entries "$d" | sort)
	[ "$want" = "$got" ] || { echo "in $d: $got"; return 1; }
}
trap_kept() { # the victim of a planted FILE.tmp link is untouched, the plot written
	same "$tmp/trap/victim.txt" precious
	is_svg "$tmp/trap/s.svg"
	test -L "$tmp/trap/s.svg.tmp"
}
link_kept() {
	test -L "$tmp/link/s.svg"
	same "$tmp/link/real.svg" old
}
efbig_kept() {
	same "$tmp/efbig/s.svg" old
	only "$tmp/efbig" s.svg
}
# a write error: XFSZ ignored, so a write past 1 block fails with EFBIG
small_fs() { # OUT
	(trap '' XFSZ; ulimit -f 1; exec "$PL" plot "$fx" -o "$1")
}
to_full() { # CMD...: CMD with its stdout on the full device
	"$@" > "$full"
}
# a reader that reads one line and goes away; SIGPIPE ignored (as run, server,
# peer and proxy do) when $1 is "ignored"
head_one() { # ignored|default CMD...
	how=$1
	shift
	rc=0
	if [ "$how" = ignored ]; then
		{ (trap '' PIPE; exec "$@" 2> "$tmp/pipe.err") || rc=$?; echo "$rc" > "$tmp/pipe.rc"; } | head -1 > /dev/null
	else
		{ "$@" 2> "$tmp/pipe.err" || rc=$?; echo "$rc" > "$tmp/pipe.rc"; } | head -1 > /dev/null
	fi
	if [ -s "$tmp/pipe.err" ]; then
		cat "$tmp/pipe.err"
		return 1
	fi
	rc=$(cat "$tmp/pipe.rc")
	echo "exit status $rc"
	# ignored: 1; as it is: killed by SIGPIPE (128+13), or 1 when whoever
	# started the test ignores SIGPIPE too
	case $how/$rc in
	ignored/1 | default/141 | default/1) return 0 ;;
	*) return 1 ;;
	esac
}

plan 18

# first, while the device is surely one (a broken plot -o would replace it)
msg="cannot write to standard output: No space left on device"
check_refused 1 "export --csv > /dev/full exits 1" "punchlab export: $msg" to_full "$PL" export "$fx" --csv
check_refused 1 "table > /dev/full exits 1" "punchlab table: $msg" to_full "$PL" table "$fx"
check_refused 1 "diff > /dev/full exits 1" "punchlab diff: $msg" to_full "$PL" diff "$fx" "$fx"
check_refused 1 "predict > /dev/full exits 1" "punchlab predict: $msg" \
	to_full "$PL" predict "$SRC/experiments/traces/os-by-nat.txt"
check_refused 1 "run --dry-run > /dev/full exits 1" "punchlab run: $msg" \
	to_full "$PL" run --dry-run "$SRC/experiments/smoke.json"
check_refused 1 "topo ls > /dev/full exits 1" "punchlab topo: $msg" to_full "$PL" topo ls


check_refused 1 "plot -o /dev/full is refused" \
	"refusing to replace a character device" "$PL" plot "$fx" -o "$full"
check "/dev/full is still a character device" is_chardev "$full"

mkdir "$tmp/trap"
echo precious > "$tmp/trap/victim.txt"
ln -s victim.txt "$tmp/trap/s.svg.tmp"
check "plot -o s.svg beside a link s.svg.tmp -> victim.txt writes s.svg" plot "$tmp/trap/s.svg"
check "the victim of the link is unchanged" trap_kept

mkdir "$tmp/dir"
check_refused 1 "plot -o DIR is refused" "refusing to replace a directory" plot "$tmp/dir"

mkdir "$tmp/link"
echo old > "$tmp/link/real.svg"
ln -s real.svg "$tmp/link/s.svg"
check_refused 1 "plot -o a symlink to a file is refused" \
	"refusing to replace a symbolic link" plot "$tmp/link/s.svg"
check "the symlink and its file are unchanged" link_kept

mkdir "$tmp/fifo"
mkfifo "$tmp/fifo/s.svg"
check_refused 1 "plot -o a fifo is refused" "refusing to replace a fifo" plot "$tmp/fifo/s.svg"

mkdir "$tmp/efbig"
echo old > "$tmp/efbig/s.svg"
check_refused 1 "a write error (EFBIG) is reported with the path" \
	"s.svg: cannot write: File too large" small_fs "$tmp/efbig/s.svg"
check "the write error left the old file and no temporary file" efbig_kept

check "export | head -1: no message (SIGPIPE as it is)" head_one default "$PL" export "$big" --csv
check "export | head -1 with SIGPIPE ignored: exit 1, no message" head_one ignored "$PL" export "$big" --csv
