# SPDX-License-Identifier: MIT
# TAP for the shell tests, in POSIX sh. A test sources it after `set -eu`:
#
#   . "$SRC/tests/tap.sh"
#   skip_all "why"                 1..0 # SKIP why, exit 0 (before the plan)
#   plan N                         1..N first (or no plan: 1..N is printed at exit)
#   at_exit 'shell code'           cleanup, run at exit even after a failure or
#                                  a SIGINT/SIGTERM/SIGHUP (the last added runs first)
#   check "what" CMD [ARG...]      ok N - what if CMD exits 0, else not ok N - what
#   check_rc RC "what" CMD...      ... if CMD exits with status RC exactly
#   check_status RC "what" STATUS [LOG...]
#                                  ... if STATUS (a background job's, from `wait`)
#                                  is RC; the LOGs are shown when it is not
#   check_refused RC "what" TEXT CMD...
#                                  ... if CMD exits RC and says TEXT (a fixed
#                                  string) on stderr: a refusal and its message
#   check_absent "what" PATTERN CMD...
#                                  ... if CMD exits 0 and no line of its output
#                                  matches the extended regex PATTERN
#   skip "what" "why"              ok N - what # SKIP why
#   note "text"                    # text (a diagnostic line, also after an ok)
#   bail "why"                     Bail out! why, exit 1
#
# A failed check prints the command and its output (stdout and stderr) as
# "# " lines, and the script goes on; at exit it fails when a check failed,
# when the number of checks is not the plan, or when a command outside a
# check failed (set -e), which prints "Bail out!" so the TAP stays valid.
#
# CMD runs in a subshell with set -e in force, so a shell function can hold a
# sequence of steps and any failing step fails the check; assignments in it
# do not reach the script. Call the checks as plain statements, not inside
# `if`, `&&` or `||`: there the shell ignores set -e, in the function too.
# A "what" must not hold '#' (TAP reads what follows it as a directive).
#
# Helpers for the checks:
#   absent PATTERN CMD...          0 if nothing CMD lists matches PATTERN;
#                                  1 (printing the matches) if something does;
#                                  2 if CMD itself fails
#   entries DIR                    DIR's names, one a line; none when DIR does not exist

_tap_n=0 _tap_failed=0 _tap_plan="" _tap_done="" _tap_at_exit=""
_tap_dir=$(mktemp -d "${TMPDIR:-/tmp}/tap.XXXXXX")

at_exit() {
	_tap_at_exit="$1
$_tap_at_exit"
}

plan() {
	_tap_plan=$1
	echo "1..$1"
}

skip_all() {
	printf '1..0 # SKIP %s\n' "$1"
	_tap_done=1
	exit 0
}

bail() {
	printf 'Bail out! %s\n' "$1"
	_tap_done=1
	exit 1
}

note() {
	printf '# %s\n' "$1"
}

skip() {
	_tap_n=$((_tap_n + 1))
	printf 'ok %s - %s # SKIP %s\n' "$_tap_n" "$1" "$2"
}

# _tap_run CMD...: runs CMD with set -e in force; stdout in $_tap_dir/out,
# stderr in $_tap_dir/err (or with stdout when _tap_split is empty); its
# exit status in _tap_rc
_tap_run() {
	case $- in *e*) _tap_e=1 ;; *) _tap_e="" ;; esac
	set +e
	: > "$_tap_dir/err"
	if [ -n "${_tap_split:-}" ]; then
		(set -e; "$@") > "$_tap_dir/out" 2> "$_tap_dir/err"
	else
		(set -e; "$@") > "$_tap_dir/out" 2>&1
	fi
	_tap_rc=$?
	[ -z "$_tap_e" ] || set -e
}

# _tap_result OK "what" [DIAGNOSTIC...]: prints the TAP line; on failure the
# DIAGNOSTIC lines, then the captured output, as "# " lines (its last 60)
_tap_result() {
	_tap_n=$((_tap_n + 1))
	if [ "$1" = 0 ]; then
		printf 'ok %s - %s\n' "$_tap_n" "$2"
		return 0
	fi
	printf 'not ok %s - %s\n' "$_tap_n" "$2"
	_tap_failed=$((_tap_failed + 1))
	shift 2
	for _tap_l in "$@"; do
		printf '# %s\n' "$_tap_l"
	done
	cat "$_tap_dir/out" "$_tap_dir/err" > "$_tap_dir/diag"
	_tap_lines=$(wc -l < "$_tap_dir/diag")
	[ "$_tap_lines" -le 60 ] || echo "# ($((_tap_lines - 60)) lines before these)"
	tail -n 60 "$_tap_dir/diag" | sed 's/^/#   /'
	return 0
}

check() {
	_tap_what=$1
	shift
	_tap_split=""
	_tap_run "$@"
	_tap_result "$_tap_rc" "$_tap_what" "\$ $*" "exit status $_tap_rc"
}

check_rc() {
	_tap_want=$1 _tap_what=$2
	shift 2
	_tap_split=""
	_tap_run "$@"
	[ "$_tap_rc" = "$_tap_want" ] && _tap_ok=0 || _tap_ok=1
	_tap_result "$_tap_ok" "$_tap_what" "\$ $*" "exit status $_tap_rc, expected $_tap_want"
}

check_refused() {
	_tap_want=$1 _tap_what=$2 _tap_text=$3
	shift 3
	_tap_split=1
	_tap_run "$@"
	_tap_ok=0 _tap_why=""
	if [ "$_tap_rc" != "$_tap_want" ]; then
		_tap_ok=1
		_tap_why="exit status $_tap_rc, expected $_tap_want"
	elif ! grep -q -F -e "$_tap_text" "$_tap_dir/err"; then
		_tap_ok=1
		_tap_why="stderr does not say: $_tap_text"
	fi
	_tap_result "$_tap_ok" "$_tap_what" "\$ $*" "$_tap_why"
}

# _tap_status STATUS [LOG...]: shows the LOGs, exits with STATUS
_tap_status() {
	_tap_s=$1
	shift
	[ $# = 0 ] || cat -- "$@" || true
	return "$_tap_s"
}

check_status() {
	_tap_want=$1 _tap_what=$2
	shift 2
	_tap_split=""
	_tap_run _tap_status "$@"
	[ "$_tap_rc" = "$_tap_want" ] && _tap_ok=0 || _tap_ok=1
	_tap_result "$_tap_ok" "$_tap_what" "exit status $_tap_rc, expected $_tap_want"
}

absent() {
	_tap_pattern=$1
	shift
	"$@" > "$_tap_dir/list" || return 2
	if grep -E -e "$_tap_pattern" "$_tap_dir/list"; then
		return 1
	fi
	return 0
}

check_absent() {
	_tap_what=$1 _tap_pat=$2
	shift 2
	_tap_split=1
	_tap_run absent "$_tap_pat" "$@"
	case $_tap_rc in
	0) _tap_result 0 "$_tap_what" ;;
	1) _tap_result 1 "$_tap_what" "\$ $* | grep -E '$_tap_pat'" "left:" ;;
	*) _tap_result 1 "$_tap_what" "\$ $*" "the listing failed (status $_tap_rc)" ;;
	esac
}

entries() {
	[ ! -e "$1" ] || ls -A "$1"
}

_tap_exit() {
	_tap_s=$?
	set +e
	# cleanup first, its output on stderr: stdout is the TAP stream
	[ -z "$_tap_at_exit" ] || (eval "$_tap_at_exit") >&2
	rm -rf "$_tap_dir"
	[ -z "$_tap_done" ] || exit "$_tap_s"
	if [ "$_tap_s" != 0 ]; then
		echo "Bail out! exit status $_tap_s after check $_tap_n: a command outside the checks failed (see stderr)"
		exit "$_tap_s"
	fi
	if [ -z "$_tap_plan" ]; then
		echo "1..$_tap_n"
	elif [ "$_tap_n" != "$_tap_plan" ]; then
		echo "Bail out! $_tap_n checks ran, $_tap_plan planned"
		exit 1
	fi
	if [ "$_tap_failed" != 0 ]; then
		echo "# $_tap_failed of $_tap_n checks failed"
		exit 1
	fi
	exit 0
}
trap _tap_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
