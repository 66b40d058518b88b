#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/tap.sh on itself: small scripts that source it, each compared with
# the exact TAP and exit status it must give. This test does not report
# through tap.sh: a tap.sh whose checks always pass must not pass it.
set -eu
TAP=$1/tests/tap.sh
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
n=0 failed=0
echo "1..17"

# expect "what" RC SCRIPT: SCRIPT (after `set -eu` and sourcing tap.sh) must
# exit RC and print exactly what is on expect's standard input
expect() {
	n=$((n + 1))
	cat > "$d/want"
	printf 'set -eu\nd=%s\n. %s\n%s\n' "$d" "$TAP" "$3" > "$d/t.sh"
	rc=0
	sh "$d/t.sh" > "$d/raw" 2> "$d/stderr" || rc=$?
	sed "s|$d|/tmp/DIR|g" "$d/raw" > "$d/got"
	if [ "$rc" = "$2" ] && cmp -s "$d/want" "$d/got"; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1"
		echo "# exit status $rc, expected $2; the output against the expected one:"
		diff "$d/want" "$d/got" | sed 's/^/#   /' || true
		sed 's/^/# stderr: /' "$d/stderr"
	fi
}

expect "check true: ok, exit 0" 0 'plan 1; check "passes" true' <<'EOF'
1..1
ok 1 - passes
EOF

expect "check false: not ok with the command, exit 1" 1 'plan 1; check "fails" false' <<'EOF'
1..1
not ok 1 - fails
# $ false
# exit status 1
# 1 of 1 checks failed
EOF

expect "a failed check does not stop the script; its output comes as comment lines" 1 '
plan 2
check "fails" sh -c "echo ok 7; echo oops >&2; exit 3"
check "passes" true' <<'EOF'
1..2
not ok 1 - fails
# $ sh -c echo ok 7; echo oops >&2; exit 3
# exit status 3
#   ok 7
#   oops
ok 2 - passes
# 1 of 2 checks failed
EOF

expect "a function fails its check at its first failing step" 1 '
steps() { false; echo "went on"; }
plan 1
check "steps" steps' <<'EOF'
1..1
not ok 1 - steps
# $ steps
# exit status 1
# 1 of 1 checks failed
EOF

expect "a here-document reaches the command (python snippets)" 1 '
plan 2
check "assert true" python3 - <<PY
assert 1 + 1 == 2
PY
check "assert false" python3 - <<PY
assert 1 + 1 == 3, "arithmetic"
PY' <<'EOF'
1..2
ok 1 - assert true
not ok 2 - assert false
# $ python3 -
# exit status 1
#   Traceback (most recent call last):
#     File "<stdin>", line 1, in <module>
#   AssertionError: arithmetic
# 1 of 2 checks failed
EOF

expect "check_rc: the right status passes, a wrong one fails" 1 '
plan 3
check_rc 1 "exits 1" sh -c "exit 1"
check_rc 1 "exits 3, not 1" sh -c "exit 3"
check_rc 1 "exits 0, not 1" true' <<'EOF'
1..3
ok 1 - exits 1
not ok 2 - exits 3, not 1
# $ sh -c exit 3
# exit status 3, expected 1
not ok 3 - exits 0, not 1
# $ true
# exit status 0, expected 1
# 2 of 3 checks failed
EOF

# shellcheck disable=SC2016 # the scripts expand their variables themselves
expect "check_status: a collected status, its log shown on failure" 1 '
echo "the log" > "$d/log"
plan 2
check_status 130 "stopped by SIGINT" 130 "$d/log"
check_status 0 "exit 0" 2 "$d/log"' <<'EOF'
1..2
ok 1 - stopped by SIGINT
not ok 2 - exit 0
# exit status 2, expected 0
#   the log
# 1 of 2 checks failed
EOF

expect "check_refused: the status and the message, both" 1 '
plan 3
check_refused 1 "refused" "bad.json:1:2: no" sh -c "echo bad.json:1:2: no >&2; exit 1"
check_refused 1 "wrong status" "bad.json:1:2: no" sh -c "echo bad.json:1:2: no >&2; exit 2"
check_refused 1 "wrong message" "bad.json:1:2: no" sh -c "echo bad.json:1:3: no >&2; exit 1"' <<'EOF'
1..3
ok 1 - refused
not ok 2 - wrong status
# $ sh -c echo bad.json:1:2: no >&2; exit 2
# exit status 2, expected 1
#   bad.json:1:2: no
not ok 3 - wrong message
# $ sh -c echo bad.json:1:3: no >&2; exit 1
# stderr does not say: bad.json:1:2: no
#   bad.json:1:3: no
# 2 of 3 checks failed
EOF

mkdir "$d/empty" "$d/left" "$d/other"
touch "$d/left/pl-r123-0-1-nat-a" "$d/other/pl-r1234-0-1-nat-a"
expect "check_absent: fails when a matching entry is there" 1 "
plan 1
check_absent 'no namespace left' '^pl-r123-' ls $d/left" <<'EOF'
1..1
not ok 1 - no namespace left
# $ ls /tmp/DIR/left | grep -E '^pl-r123-'
# left:
#   pl-r123-0-1-nat-a
# 1 of 1 checks failed
EOF

expect "check_absent: passes when nothing (or only something else) matches" 0 "
plan 2
check_absent 'empty' '^pl-r123-' ls $d/empty
check_absent 'another run' '^pl-r123-' ls $d/other" <<'EOF'
1..2
ok 1 - empty
ok 2 - another run
EOF

expect "check_absent: fails when the listing fails; entries of no directory is empty" 1 "
plan 2
check_absent 'listing fails' '^pl-' ls $d/none
check_absent 'no directory' '^pl-' entries $d/none" <<'EOF'
1..2
not ok 1 - listing fails
# $ ls /tmp/DIR/none
# the listing failed (status 2)
#   ls: cannot access '/tmp/DIR/none': No such file or directory
ok 2 - no directory
# 1 of 2 checks failed
EOF

expect "absent: 0 when absent, 1 when present" 0 "
plan 2
check_rc 0 'absent' absent '^pl-r123-' ls $d/other
check_rc 1 'present' absent '^pl-r123-' ls $d/left" <<'EOF'
1..2
ok 1 - absent
ok 2 - present
EOF

expect "fewer checks than planned: Bail out!, exit 1" 1 'plan 2; check "one" true' <<'EOF'
1..2
ok 1 - one
Bail out! 1 checks ran, 2 planned
EOF

expect "a command outside the checks fails: Bail out!, its status" 1 '
plan 2
check "one" true
false
check "two" true' <<'EOF'
1..2
ok 1 - one
Bail out! exit status 1 after check 1: a command outside the checks failed (see stderr)
EOF

expect "no plan: the count at the end; skip" 0 '
check "a" true
skip "b" "not here"' <<'EOF'
ok 1 - a
ok 2 - b # SKIP not here
1..2
EOF

expect "skip_all: the plan 1..0 with SKIP, exit 0" 0 'skip_all "needs root"; check "never" false' <<'EOF'
1..0 # SKIP needs root
EOF

expect "at_exit runs last first, off stdout, after a failure and after SIGTERM" 0 "
sh -c '. $TAP; at_exit \"echo second >> $d/order\"; at_exit \"echo first >> $d/order; echo noise\"
	plan 1; check x false' > $d/out1 || true
sh -c '. $TAP; at_exit \"touch $d/termed\"; plan 1; kill -TERM \$\$; sleep 5' > $d/out2 || true
plan 4
check 'in order' test \"\$(cat $d/order)\" = 'first
second'
check 'not on stdout' sh -c '! grep -q noise $d/out1'
check 'after SIGTERM' test -e $d/termed
check 'SIGTERM bails out' grep -q '^Bail out! exit status 143' $d/out2" <<'EOF'
1..4
ok 1 - in order
ok 2 - not on stdout
ok 3 - after SIGTERM
ok 4 - SIGTERM bails out
EOF

[ "$failed" = 0 ] || { echo "# $failed of $n failed"; exit 1; }
